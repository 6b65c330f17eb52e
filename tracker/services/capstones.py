"""Capstone submissions: a learner saves a draft, submits it, a reviewer passes it or asks for
changes, the learner edits and resubmits. States: draft → submitted → changes_requested →
submitted → passed. Passing awards the capstone's points once and may issue the certificate.

Who may review is `tracker.permissions.can_review_submission`: for `lead` capstones the track's
leads and staff; for `peer` capstones also learners who passed the same capstone (never their
own submission). Self-review capstones pass the moment they are submitted (the learner vouches
for them). Every decision, from any screen, appends a `CapstoneReview` (the audit trail) in
the same transaction. A submission's arrival is emailed to the track's leads; a decision to
the learner; both after commit.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail, send_mass_mail
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from curriculum.markdown import render_markdown
from curriculum.models import Capstone, ReviewMode

from .. import permissions
from ..models import (
    CapstoneReview,
    CapstoneSubmission,
    Certificate,
    ReviewVia,
    SubmissionStatus,
    TrackLead,
)
from .progress import (
    NotAllowed,
    NotEnrolled,
    ServiceError,
    capstone_pass_follow,
)
from .totals import enrolment_activity_touch

__all__ = [
    "LINK_OR_WRITEUP",
    "SubmissionInvalid",
    "REVIEW_DECISIONS",
    "capstone_submission_problems",
    "capstone_submission_save",
    "capstone_submit",
    "capstone_review_check",
    "capstone_review",
    "capstone_removed_message",
    "capstone_team_credit",
]

TITLE_MAX = 200
LINK_MAX = 1000
WRITEUP_MAX = 50_000
LINK_ERROR = "Use an http:// or https:// link"
# The key of a problem of the link and the write-up together (neither given), not of one field.
LINK_OR_WRITEUP = "link_or_writeup"
EDITABLE = (SubmissionStatus.DRAFT, SubmissionStatus.CHANGES_REQUESTED)
REVIEW_DECISIONS = (SubmissionStatus.PASSED, SubmissionStatus.CHANGES_REQUESTED)

_url_validator = URLValidator(schemes=["http", "https"], message=LINK_ERROR)


class SubmissionInvalid(ServiceError):
    """The submission's fields are not acceptable; `errors` maps a field name (or
    `LINK_OR_WRITEUP`, for the two together) to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(" ".join(message for messages in errors.values() for message in messages))


def _link_problem(link: str) -> str | None:
    if not link:
        return None
    if len(link) > LINK_MAX:
        return f"Keep the link under {LINK_MAX} characters."
    if urlsplit(link).scheme.lower() not in {"http", "https"}:
        return LINK_ERROR
    try:
        _url_validator(link)
    except ValidationError:
        return LINK_ERROR
    return None


def capstone_submission_problems(
    *,
    capstone: Capstone,
    title: str,
    link: str,
    writeup: str,
    constraints_met: list[str],
    submitting: bool,
) -> dict[str, list[str]]:
    """Everything wrong with these fields, by field name (empty when acceptable). A draft may
    be incomplete; a submission needs a title, a link or a write-up, and every constraint met.
    `constraints_met` holds the texts of the ticked constraints, as the learner saw them."""
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    if len(title) > TITLE_MAX:
        add("title", f"Keep the title under {TITLE_MAX} characters.")
    if (problem := _link_problem(link)) is not None:
        add("link", problem)
    if len(writeup) > WRITEUP_MAX:
        add(
            "writeup",
            f"Keep the write-up under {WRITEUP_MAX:,} characters (it has {len(writeup):,}).",
        )
    current = capstone.constraints or []
    for text in constraints_met:
        if text not in current:
            add(
                "constraints_met",
                f"“{text}” is no longer one of this capstone's constraints (the track was "
                "updated); check the list again and tick what your work meets.",
            )
    if submitting:
        if not title.strip():
            add("title", "Give your submission a title before you submit it.")
        if not link and not writeup.strip():
            add(
                LINK_OR_WRITEUP,
                "Add a link to your work or a write-up (or both) before you submit.",
            )
        for constraint in current:
            if constraint not in constraints_met:
                add(
                    "constraints_met",
                    f"Tick “{constraint}” once your work meets it; "
                    "every constraint must be met to submit.",
                )
    return problems


def _clean_fields(
    title: str, link: str, writeup: str, constraints_met
) -> tuple[str, str, str, list[str]]:
    ticked = constraints_met or []
    if not isinstance(ticked, list | tuple) or not all(isinstance(t, str) for t in ticked):
        raise SubmissionInvalid(
            {"constraints_met": ["Constraints are ticked by their wording, as a list of texts."]}
        )
    ticked = list(dict.fromkeys(ticked))  # unique, in the order given
    return (title or "").strip(), (link or "").strip(), writeup or "", ticked


def _in_capstone_order(capstone: Capstone, ticked: list[str]) -> list[str]:
    """The ticked texts as the capstone words and orders them now: this snapshot is the record
    of what the learner vouched for, so later curriculum edits can't rewrite it."""
    return [text for text in dict.fromkeys(capstone.constraints or []) if text in ticked]


def capstone_removed_message(capstone: Capstone) -> str:
    """Why work on a capstone removed from its track (archived) can no longer change."""
    return f"The capstone '{capstone.title}' was removed from its track; it takes no submissions."


def _editable_submission(*, learner, capstone: Capstone, now: datetime) -> CapstoneSubmission:
    """The learner's submission on this capstone, locked, created as a draft if new."""
    submission, _ = CapstoneSubmission.objects.select_for_update().get_or_create(
        learner=learner,
        capstone=capstone,
        defaults={"track_id": capstone.track_id, "title": "", "created_at": now, "updated_at": now},
    )
    if submission.status not in EDITABLE:
        state = submission.get_status_display().lower()
        raise ServiceError(f"This submission is {state}, so it can't be changed now.")
    return submission


def _write_fields(
    submission: CapstoneSubmission, *, title, link, writeup, constraints_met, now
) -> None:
    submission.title = title
    submission.link = link
    submission.writeup = writeup
    submission.writeup_html = render_markdown(writeup, top_heading=3)
    submission.constraints_met = constraints_met
    submission.updated_at = now


def _store_work(
    *, learner, capstone: Capstone, fields: tuple, submitting: bool, now: datetime
) -> CapstoneSubmission:
    """Validate the learner's fields (all problems at once, nothing written when any) and put
    them on their editable submission, unsaved."""
    if capstone.archived_at is not None:
        raise ServiceError(capstone_removed_message(capstone))
    if not permissions.can_submit_capstone(learner, capstone):
        raise NotEnrolled(capstone.track, "work on its capstone")
    title, link, writeup, constraints_met = _clean_fields(*fields)
    problems = capstone_submission_problems(
        capstone=capstone,
        title=title,
        link=link,
        writeup=writeup,
        constraints_met=constraints_met,
        submitting=submitting,
    )
    if problems:
        raise SubmissionInvalid(problems)
    submission = _editable_submission(learner=learner, capstone=capstone, now=now)
    _write_fields(
        submission,
        title=title,
        link=link,
        writeup=writeup,
        constraints_met=_in_capstone_order(capstone, constraints_met),
        now=now,
    )
    return submission


@transaction.atomic
def capstone_submission_save(
    *,
    learner,
    capstone: Capstone,
    title: str,
    link: str,
    writeup: str,
    constraints_met: list[str],
    now: datetime | None = None,
) -> CapstoneSubmission:
    """Save the learner's work in progress (a draft, or an edit after changes were requested)."""
    submission = _store_work(
        learner=learner,
        capstone=capstone,
        fields=(title, link, writeup, constraints_met),
        submitting=False,
        now=now or timezone.now(),
    )
    submission.save()
    enrolment_activity_touch(
        learner_id=learner.pk, track_id=capstone.track_id, now=submission.updated_at
    )
    return submission


@transaction.atomic
def capstone_submit(
    *,
    learner,
    capstone: Capstone,
    title: str,
    link: str,
    writeup: str,
    constraints_met: list[str],
    now: datetime | None = None,
) -> CapstoneSubmission:
    """Save and submit for review. A self-review capstone passes at once (points, certificate;
    for a team capstone, the teammates' too)."""
    now = now or timezone.now()
    if capstone.team and capstone.review == ReviewMode.SELF:
        _lock_team_capstone(capstone.pk)
    submission = _store_work(
        learner=learner,
        capstone=capstone,
        fields=(title, link, writeup, constraints_met),
        submitting=True,
        now=now,
    )
    submission.status = SubmissionStatus.SUBMITTED
    submission.submitted_at = now
    if capstone.review == ReviewMode.SELF:
        _certificate, teammates = _pass(submission, capstone=capstone, reviewer=None, now=now)
        _audit(
            submission, reviewer=None, decision=SubmissionStatus.PASSED, via=ReviewVia.SELF, now=now
        )
        _teammates_told(teammates, reviewer=None, via=ReviewVia.SELF, now=now)
    else:
        submission.save()
        enrolment_activity_touch(learner_id=learner.pk, track_id=capstone.track_id, now=now)
        transaction.on_commit(
            lambda: _email_leads_submitted(submission_id=submission.pk), robust=True
        )
    return submission


def capstone_review_check(
    *, reviewer, submission: CapstoneSubmission, decision: str, comments: str
) -> None:
    """Raise ServiceError if this review may not be made (used by forms before they save);
    NotAllowed when the reviewer does not review this submission."""
    if permissions.is_owner(reviewer, submission):
        raise NotAllowed("You can't review your own submission; ask another reviewer.")
    if decision not in REVIEW_DECISIONS:
        raise ServiceError("Choose a decision: passed or changes requested.")
    if submission.status != SubmissionStatus.SUBMITTED:
        state = submission.get_status_display().lower()
        raise ServiceError(f"Only a submitted submission can be reviewed; this one is {state}.")
    if not permissions.can_review_submission(reviewer, submission):
        raise NotAllowed(
            "You don't review this capstone: its track's leads and staff do"
            + (
                ", and learners who passed it."
                if submission.capstone.review == ReviewMode.PEER
                else "."
            )
        )
    if decision == SubmissionStatus.CHANGES_REQUESTED and not permissions.can_request_changes(
        reviewer, submission
    ):
        raise ServiceError(
            f"“{submission.capstone.title}” was removed from its track, so its learner can no "
            "longer edit or resubmit this work: pass it, or restore the capstone before "
            "requesting changes."
        )
    if decision == SubmissionStatus.CHANGES_REQUESTED and not (comments or "").strip():
        raise ServiceError(
            "Say what needs to change: comments are required when requesting changes."
        )


@transaction.atomic
def capstone_review(
    *,
    reviewer,
    submission: CapstoneSubmission,
    decision: str,
    comments: str,
    via: str,
    now: datetime | None = None,
) -> CapstoneSubmission:
    """Pass a submitted capstone or ask for changes; the learner is emailed once it commits.
    The row is locked, so two reviewers at once (or a double click) review and award once.
    `via` names the screen (`ReviewVia`) for the audit record this appends."""
    if via not in ReviewVia.values or via == ReviewVia.SELF:
        raise ValueError(f"unknown review screen {via!r}")
    now = now or timezone.now()
    if decision == SubmissionStatus.PASSED and _is_team_capstone(submission):
        _lock_team_capstone(submission.capstone_id)
    locked = (
        CapstoneSubmission.objects.select_for_update(of=("self",))
        .select_related("capstone")
        .get(pk=submission.pk)
    )
    capstone_review_check(
        reviewer=reviewer, submission=locked, decision=decision, comments=comments
    )
    locked.reviewer_comments = (comments or "").strip()
    locked.reviewer_comments_html = render_markdown(locked.reviewer_comments, top_heading=3)
    certificate, teammates = None, []
    if decision == SubmissionStatus.PASSED:
        certificate, teammates = _pass(locked, capstone=locked.capstone, reviewer=reviewer, now=now)
    else:
        locked.status = SubmissionStatus.CHANGES_REQUESTED
        locked.reviewer = reviewer
        locked.reviewed_at = now
        locked.updated_at = now
        locked.save()
        enrolment_activity_touch(learner_id=locked.learner_id, track_id=locked.track_id, now=now)
    _audit(locked, reviewer=reviewer, decision=decision, via=via, now=now)
    transaction.on_commit(
        lambda: _email_reviewed(
            submission_id=locked.pk, certificate_code=certificate.code if certificate else None
        ),
        robust=True,
    )
    _teammates_told(teammates, reviewer=reviewer, via=via, now=now)
    return locked


def _teammates_told(passed: list[tuple], *, reviewer, via: str, now: datetime) -> None:
    """Each teammate's record passed through the team's submission gets its own audit entry
    (the same decision, reviewer, screen and comments) and, once it commits, its own email."""
    for record, certificate in passed:
        _audit(record, reviewer=reviewer, decision=SubmissionStatus.PASSED, via=via, now=now)
        code = certificate.code if certificate else None
        transaction.on_commit(
            lambda pk=record.pk, code=code: _email_reviewed(
                submission_id=pk, certificate_code=code
            ),
            robust=True,
        )


def _is_team_capstone(submission: CapstoneSubmission) -> bool:
    if CapstoneSubmission.capstone.is_cached(submission):
        return submission.capstone.team
    return Capstone.objects.filter(pk=submission.capstone_id, team=True).exists()


def _pass(
    submission: CapstoneSubmission, *, capstone: Capstone, reviewer, now: datetime
) -> tuple[Certificate | None, list[tuple[CapstoneSubmission, Certificate | None]]]:
    """Pass `submission`: (the certificate it issued, if any; for a team capstone, the
    teammates' records it passed with the certificate each issued)."""
    submission.status = SubmissionStatus.PASSED
    submission.reviewer = reviewer
    submission.reviewed_at = now
    submission.updated_at = now
    submission.save()
    certificate = capstone_pass_follow(learner=submission.learner, capstone=capstone, now=now)
    permissions.forget_roles(submission.learner)  # may have become a peer reviewer
    teammates = []
    if capstone.team:
        teammates = _pass_teammates(
            submission, capstone=capstone, reviewer=reviewer, now=now, mates=None
        )
    return certificate, teammates


def _lock_team_capstone(capstone_id: int) -> None:
    """Team capstones: every pass of one capstone runs one at a time (a row lock on it, taken
    before any submission's), so two teammates' submissions passed at once never deadlock on
    each other's rows and each teammate's record is written once. FOR NO KEY UPDATE: learners
    saving drafts (which only reference the row) are not held up."""
    Capstone.objects.select_for_update(no_key=True).filter(pk=capstone_id).first()


def _teammates(*, learner, capstone: Capstone) -> list:
    """Members of the learner's teams in cohorts that run the capstone's track, who are active
    members of that cohort and enrolled in the track (teammates on other tracks are not
    affected), in id order (the order their records are locked in)."""
    from django.db.models import Exists, OuterRef

    from cohorts.models import CohortMembership, CohortTrack, TeamMembership

    in_cohort = CohortMembership.objects.filter(
        cohort_id=OuterRef("cohort_id"), user_id=OuterRef("user_id"), removed_at__isnull=True
    )
    teams = (
        TeamMembership.objects.filter(
            user=learner,
            cohort_id__in=CohortTrack.objects.filter(track_id=capstone.track_id).values(
                "cohort_id"
            ),
        )
        .filter(Exists(in_cohort))
        .values("team_id")
    )
    members = (
        TeamMembership.objects.filter(team_id__in=teams)
        .exclude(user=learner)
        .filter(Exists(in_cohort))
        .values("user_id")
    )
    return list(
        get_user_model()
        .objects.filter(
            pk__in=members,
            enrolments__track_id=capstone.track_id,
            enrolments__left_at__isnull=True,
        )
        .select_related("profile")
        .order_by("pk")
    )


@transaction.atomic
def capstone_team_credit(*, learner, team_id: int, now: datetime | None = None) -> list:
    """Someone who joins a team after it passed a team capstone gets it too, as their teammates
    did: for each team capstone of the team's cohort's tracks that they are enrolled in, and that
    a teammate (an active member of the cohort) passed, in their own name or through the team,
    their own record passes through that submission, with its reviewer, their points, totals
    and certificate, an audit entry and an email. Returns the records passed here."""
    from cohorts.models import CohortMembership, CohortTrack, Team, TeamMembership

    team = Team.objects.get(pk=team_id)
    active = CohortMembership.objects.filter(
        cohort_id=team.cohort_id, removed_at__isnull=True
    ).values("user_id")
    mates = (
        TeamMembership.objects.filter(team_id=team_id, user_id__in=active)
        .exclude(user=learner)
        .values("user_id")
    )
    enrolled = learner.enrolments.filter(left_at__isnull=True).values("track_id")
    sources = (
        CapstoneSubmission.objects.filter(
            learner_id__in=mates,
            status=SubmissionStatus.PASSED,
            capstone__team=True,
            capstone__archived_at__isnull=True,
            capstone__track_id__in=enrolled,
        )
        .filter(
            capstone__track_id__in=CohortTrack.objects.filter(cohort_id=team.cohort_id).values(
                "track_id"
            )
        )
        .select_related("capstone", "via_team_submission__reviewer", "reviewer")
        .order_by("capstone_id", "reviewed_at", "pk")
    )
    firsts: dict[int, CapstoneSubmission] = {}
    for record in sources:
        firsts.setdefault(record.capstone_id, record)
    now = now or timezone.now()
    passed = []
    for capstone_id, record in sorted(firsts.items()):
        source = record.via_team_submission or record
        _lock_team_capstone(capstone_id)
        mine = _pass_teammates(
            source, capstone=record.capstone, reviewer=source.reviewer, now=now, mates=[learner]
        )
        _teammates_told(mine, reviewer=source.reviewer, via=ReviewVia.TEAM, now=now)
        passed += [own for own, _certificate in mine]
    return passed


def _pass_teammates(
    submission: CapstoneSubmission,
    *,
    capstone: Capstone,
    reviewer,
    now: datetime,
    mates: list | None,
) -> list[tuple[CapstoneSubmission, Certificate | None]]:
    """A team capstone passed: each teammate (`mates`, or all of the submitter's) who has not
    passed it yet gets a passed record of their own that says it came through this submission
    (their own draft or waiting submission, if they had one, keeps its text) with the
    reviewer's comments, the points once, their totals and their certificate if it completes
    their track. Returns the records passed here, each with the certificate it issued."""
    passed = []
    if mates is None:
        mates = _teammates(learner=submission.learner, capstone=capstone)
    for mate in mates:
        own = (
            CapstoneSubmission.objects.select_for_update()
            .filter(learner=mate, capstone=capstone)
            .first()
        )
        if own is not None and own.status == SubmissionStatus.PASSED:
            continue
        if own is None:
            own = CapstoneSubmission(
                learner=mate,
                capstone=capstone,
                track_id=capstone.track_id,
                title=submission.title,
                link=submission.link,
                writeup=submission.writeup,
                writeup_html=submission.writeup_html,
                constraints_met=list(submission.constraints_met),
                created_at=now,
            )
        own.status = SubmissionStatus.PASSED
        own.via_team_submission = submission
        own.submitted_at = own.submitted_at or now
        own.reviewer = reviewer
        own.reviewed_at = now
        own.updated_at = now
        own.reviewer_comments = submission.reviewer_comments
        own.reviewer_comments_html = submission.reviewer_comments_html
        own.save()
        certificate = capstone_pass_follow(learner=mate, capstone=capstone, now=now)
        permissions.forget_roles(mate)
        passed.append((own, certificate))
    return passed


def _audit(
    submission: CapstoneSubmission, *, reviewer, decision: str, via: str, now: datetime
) -> CapstoneReview:
    return CapstoneReview.objects.create(
        submission=submission,
        reviewer=reviewer,
        reviewer_email=getattr(reviewer, "email", "") or "",
        decision=decision,
        comments=submission.reviewer_comments if via != ReviewVia.SELF else "",
        comments_html=submission.reviewer_comments_html if via != ReviewVia.SELF else "",
        via=via,
        created_at=now,
    )


def _email_leads_submitted(*, submission_id: int) -> None:
    """One email per lead of the track (each sees only their own address); to staff, who
    review for a track without a lead, when it has none (else the work waited unseen)."""
    submission = CapstoneSubmission.objects.select_related("capstone", "track").get(
        pk=submission_id
    )
    if submission.status != SubmissionStatus.SUBMITTED:
        return  # reviewed (or self-passed) before this ran: nothing waits
    recipients = _addresses(
        TrackLead.objects.filter(
            track_id=submission.track_id, revoked_at__isnull=True, user__is_active=True
        ).values_list("user__email", flat=True)
    )
    why = "which you lead"
    if not recipients:
        recipients = _addresses(
            get_user_model()
            .objects.filter(is_staff=True, is_active=True)
            .values_list("email", flat=True)
        )
        why = "which has no lead: staff review its capstones"
    if not recipients:
        return
    capstone, track = submission.capstone, submission.track
    page = settings.SITE_URL + reverse("lead:review", kwargs={"pk": submission.pk})
    subject = f"New capstone submission for “{capstone.title}” ({track.title})"
    body = "\n".join(
        [
            f"A learner submitted “{submission.title}” for the capstone “{capstone.title}” "
            f"of {track.title}, {why}.",
            "",
            f"Review it: {page}",
            f"Everything waiting: {settings.SITE_URL}{reverse('lead:reviews')}",
        ]
    )
    prefix = getattr(settings, "ACCOUNT_EMAIL_SUBJECT_PREFIX", "")
    send_mass_mail([(f"{prefix}{subject}", body, None, [email]) for email in recipients])


def _addresses(emails) -> list[str]:
    return sorted({email for email in emails if email})


def _email_reviewed(*, submission_id: int, certificate_code: str | None) -> None:
    submission = CapstoneSubmission.objects.select_related(
        "learner", "capstone", "track", "via_team_submission"
    ).get(pk=submission_id)
    if not submission.learner.email:
        return
    capstone, track = submission.capstone, submission.track
    page = settings.SITE_URL + reverse(
        "track:capstone_submission", kwargs={"slug": track.slug, "item": capstone.slug}
    )
    if submission.status == SubmissionStatus.PASSED and submission.via_team_submission_id:
        subject = f"Your team's capstone “{capstone.title}” passed"
        lines = [
            f"Congratulations: your team's submission “{submission.via_team_submission.title}” "
            f"passed review, and it counts for you too: {capstone.points} points."
        ]
    elif submission.status == SubmissionStatus.PASSED:
        subject = f"Your capstone “{capstone.title}” passed"
        lines = [
            f"Congratulations: your submission “{submission.title}” passed review "
            f"and earned {capstone.points} points."
        ]
    else:
        subject = f"Changes requested on your capstone “{capstone.title}”"
        lines = [
            f"Your reviewer asked for changes to “{submission.title}”. Edit it and submit it again."
        ]
    if submission.reviewer_comments:
        lines += ["", "Reviewer's comments:", "", submission.reviewer_comments]
    if capstone.archived_at is not None:
        lines += [
            "",
            f"The capstone was removed from {track.title}; your work and its review stay on "
            "its page for you to read.",
        ]
    lines += ["", f"Your submission: {page}"]
    if certificate_code:
        certificate_path = reverse("certificate", kwargs={"code": certificate_code})
        lines += [
            "",
            f"You finished {track.title}. Your certificate: {settings.SITE_URL}{certificate_path}",
        ]
    prefix = getattr(settings, "ACCOUNT_EMAIL_SUBJECT_PREFIX", "")
    send_mail(f"{prefix}{subject}", "\n".join(lines), None, [submission.learner.email])
