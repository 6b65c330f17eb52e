"""Who may do what: every permission decision in Waymark is one function here.

Views, templates (`{% load permissions %}{% can "review_submission" submission as ok %}`) and
services call these; nothing else looks at roles. Each `can_<verb>_<object>(user, obj)`
answers True or False and never raises; the caller decides what a refusal looks like:

- a page about an object the person may not know exists (another learner's submission, a
  cohort they are not in) answers 404, exactly as for an object that does not exist;
- a page they may know exists (a lead page of a public track) answers 403;
- a service refuses with `tracker.services.NotAllowed` (a `ServiceError`), or `NotEnrolled`.

Roles (docs/track-leads.md):
- anonymous: not signed in;
- learner: anyone signed in (and active); enrolled in a track when they hold an active
  enrolment in it;
- track lead: per track, an active `TrackLead` row (granted by staff in the browser or the
  admin, or by the track's YAML `leads:`);
- peer reviewer: per capstone whose `review` is `peer`, a learner whose own submission to it
  passed;
- cohort admin: per cohort (issue 13 adds the model and its functions in the section below);
- staff: `user.is_staff`; may do everything a lead may, on every track, plus grant roles.

Role facts that several checks of one request need (the tracks someone leads, the peer
capstones they passed) are read once and kept on the user object for that request; the
services that change them forget the kept copy (`forget_roles`).
"""

from __future__ import annotations

from dataclasses import dataclass

from cohorts.models import Cohort, CohortMembership, CohortRole, CohortTrack
from curriculum.models import Capstone, Resource, ReviewMode, Track

from .models import CapstoneSubmission, Enrolment, SubmissionStatus, TrackLead
from .sql import Statement

_ROLES = "_waymark_roles"


@dataclass(frozen=True)
class RoleFacts:
    led_track_ids: frozenset[int]
    peer_capstone_ids: frozenset[int]
    admin_cohort_ids: frozenset[int] = frozenset()
    member_cohort_ids: frozenset[int] = frozenset()


_NO_ROLES = RoleFacts(frozenset(), frozenset())

# --- role facts --------------------------------------------------------------------------------


def is_signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_staff(user) -> bool:
    return is_signed_in(user) and bool(user.is_staff)


# Read on every page with the header, written out (tracker.sql): the ORM's compiling of the
# three-part UNION cost more than PostgreSQL's answering it.
_ROLE_FACTS = Statement(
    """
SELECT 'lead', lead.track_id FROM {lead} lead
 WHERE lead.user_id = %(user)s AND lead.revoked_at IS NULL
UNION ALL
SELECT 'peer', submission.capstone_id FROM {submission} submission
  JOIN {capstone} capstone ON capstone.id = submission.capstone_id
 WHERE submission.learner_id = %(user)s AND submission.status = %(passed)s
   AND capstone.review = %(peer_review)s AND capstone.archived_at IS NULL
UNION ALL
SELECT membership.role, membership.cohort_id FROM {membership} membership
  JOIN {cohort} cohort ON cohort.id = membership.cohort_id
 WHERE membership.user_id = %(user)s AND membership.removed_at IS NULL
   AND cohort.archived_at IS NULL
""",
    lead=TrackLead,
    submission=CapstoneSubmission,
    capstone=Capstone,
    membership=CohortMembership,
    cohort=Cohort,
)


def role_facts(user) -> RoleFacts:
    """The tracks this person leads, the peer capstones they passed and the cohorts they run or
    belong to: one query (a UNION), read once per user object, so a page's header and body ask
    the database once."""
    if not is_signed_in(user):
        return _NO_ROLES
    facts = getattr(user, _ROLES, None)
    if facts is None:
        rows = _ROLE_FACTS.rows(
            {
                "user": user.pk,
                "passed": SubmissionStatus.PASSED,
                "peer_review": ReviewMode.PEER,
            }
        )
        facts = RoleFacts(
            led_track_ids=frozenset(pk for kind, pk in rows if kind == "lead"),
            peer_capstone_ids=frozenset(pk for kind, pk in rows if kind == "peer"),
            admin_cohort_ids=frozenset(pk for kind, pk in rows if kind == CohortRole.ADMIN),
            member_cohort_ids=frozenset(pk for kind, pk in rows if kind == CohortRole.MEMBER),
        )
        setattr(user, _ROLES, facts)
    return facts


def led_track_ids(user) -> frozenset[int]:
    return role_facts(user).led_track_ids


def peer_capstone_ids(user) -> frozenset[int]:
    return role_facts(user).peer_capstone_ids


def forget_roles(user) -> None:
    """Drop the role facts kept on this user object (after a grant, revoke or pass)."""
    user.__dict__.pop(_ROLES, None)


def is_owner(user, obj) -> bool:
    """Whether `obj` (a submission, a certificate, a note: anything with a `learner`) is theirs."""
    return is_signed_in(user) and obj.learner_id == user.pk


def leads_track(user, track: Track | int) -> bool:
    track_id = track if isinstance(track, int) else track.pk
    return track_id in led_track_ids(user)


def is_enrolled(user, track: Track | int) -> bool:
    """An active enrolment, read fresh (services rely on it under concurrency)."""
    if not is_signed_in(user):
        return False
    track_id = track if isinstance(track, int) else track.pk
    return Enrolment.objects.filter(learner=user, track_id=track_id, left_at__isnull=True).exists()


# --- tracks and the learner's own work ----------------------------------------------------------


def can_view_track(user, track: Track) -> bool:
    """Archived tracks are gone for learners; their leads and staff may still look."""
    return track.archived_at is None or is_staff(user) or leads_track(user, track)


def can_enrol(user, track: Track) -> bool:
    return is_signed_in(user) and track.archived_at is None


def can_log_progress(user, resource: Resource, *, enrolled: bool | None = None) -> bool:
    """`enrolled`: the caller's own fresh reading of the enrolment, when it has one (the
    progress service reads it in the statement that locks the learner's profile)."""
    if enrolled is None:
        enrolled = is_enrolled(user, resource.track_id)
    return resource.archived_at is None and is_signed_in(user) and enrolled


def can_keep_notes(user, resource: Resource) -> bool:
    return resource.archived_at is None and is_enrolled(user, resource.track_id)


def can_flag_revisit(user, resource: Resource, revisit: bool = True) -> bool:
    """Flagging needs an enrolment; taking a flag off stays possible after leaving."""
    if not revisit:
        return is_signed_in(user)
    return is_enrolled(user, resource.track_id)


def can_claim_certificate(user, track: Track) -> bool:
    return track.archived_at is None and is_enrolled(user, track)


def can_plan_pace(user, track: Track) -> bool:
    return is_enrolled(user, track)


def can_submit_capstone(user, capstone: Capstone) -> bool:
    return capstone.archived_at is None and is_enrolled(user, capstone.track_id)


def can_view_capstone(user, capstone: Capstone, submission: CapstoneSubmission | None) -> bool:
    """The capstone's page (`submission`: this person's own on it, or None). Signed in; once
    the capstone was removed from its track (archived, or its module was), only a learner
    with work on it, to read that work and its review."""
    if not is_signed_in(user):
        return False
    if capstone.archived_at is None:
        return True
    return submission is not None and is_owner(user, submission)


# --- track leads ----------------------------------------------------------------------------------


def can_use_lead_area(user) -> bool:
    """/lead/: the tracks a person leads (every track for staff)."""
    return is_staff(user) or bool(led_track_ids(user))


def can_view_leads(user, track: Track) -> bool:
    """Who leads a track: its leads and staff."""
    return is_staff(user) or leads_track(user, track)


def can_manage_leads(user, track: Track) -> bool:
    """Grant and revoke lead roles: staff only (leads do not appoint each other)."""
    return is_staff(user)


def can_edit_track(user, track: Track) -> bool:
    """Curate a track's content: edit, add, archive, restore and reorder its items, upload and
    download its YAML (the download holds the leads' addresses). Its leads and staff."""
    return is_staff(user) or leads_track(user, track)


def can_archive_track(user, track: Track) -> bool:
    """Archive or restore a whole track (the admin's action): staff only."""
    return is_staff(user)


def can_view_track_history(user, track: Track) -> bool:
    """Read the track's change history (who changed what, when, how): its leads and staff."""
    return is_staff(user) or leads_track(user, track)


# --- capstone reviews -------------------------------------------------------------------------


def can_use_review_queue(user) -> bool:
    """/lead/reviews/: leads and staff, and peer reviewers (for the peer section)."""
    return can_use_lead_area(user) or bool(peer_capstone_ids(user))


def can_review_capstone(user, capstone: Capstone) -> bool:
    """Whether this person reviews submissions to this capstone at all. `lead`: leads of the
    track and staff. `peer`: also learners who passed it (leads and staff review peer
    capstones too, or the first submission could never pass). `self`: nobody."""
    if capstone.review == ReviewMode.SELF:
        return False
    if is_staff(user) or leads_track(user, capstone.track_id):
        return True
    return capstone.review == ReviewMode.PEER and capstone.pk in peer_capstone_ids(user)


def can_review_submission(user, submission: CapstoneSubmission) -> bool:
    """Decide on this submission now: it waits for review, it is not their own, and they
    review its capstone."""
    return (
        is_signed_in(user)
        and not is_owner(user, submission)
        and submission.status == SubmissionStatus.SUBMITTED
        and can_review_capstone(user, submission.capstone)
    )


def can_request_changes(user, submission: CapstoneSubmission) -> bool:
    """Send this submission back for changes: whoever may review it, while its capstone is in
    its track. A learner cannot edit or resubmit work on a removed (archived) capstone, so
    changes asked of it could never be made; passing it stays possible."""
    return submission.capstone.archived_at is None and can_review_submission(user, submission)


def can_view_submission(user, submission: CapstoneSubmission) -> bool:
    """The learner always; reviewers never see a draft. Leads of the track and staff see
    everything submitted; a peer sees what waits for them and what they reviewed."""
    if not is_signed_in(user):
        return False
    if is_owner(user, submission):
        return True
    if submission.status == SubmissionStatus.DRAFT:
        return False
    if is_staff(user) or leads_track(user, submission.track_id):
        return True
    return can_review_submission(user, submission) or (
        submission.reviewer_id == user.pk and can_review_capstone(user, submission.capstone)
    )


def can_view_review_history(user, submission: CapstoneSubmission) -> bool:
    """The audit trail of decisions (who, when, what): staff and the track's leads."""
    return is_staff(user) or leads_track(user, submission.track_id)


# --- operations -------------------------------------------------------------------------------


def can_use_admin_site(user) -> bool:
    """Django's admin: staff (the admin checks `is_staff` itself; this is its log-in door)."""
    return is_staff(user)


def can_view_health_details(user) -> bool:
    """/healthz's error texts, hosts and timings (the public sees ok / not ok per component).
    A bearer token or HEALTHZ_DETAILS_PUBLIC also opens them (ops.views)."""
    return is_staff(user)


# --- weekly nudges ----------------------------------------------------------------------------


def can_view_nudge_log(user, learner=None) -> bool:
    """The nudge log (learner None), or `learner`'s rows in it: staff see everyone's; a cohort
    admin sees the log, narrowed by `nudge_log_learners` to the active members of the cohorts
    they run, and those members' rows."""
    if is_staff(user):
        return True
    admin_of = role_facts(user).admin_cohort_ids
    if not admin_of:
        return False
    if learner is None:
        return True
    return _members_of(admin_of).filter(user_id=learner.pk).exists()


def _members_of(cohort_ids):
    return CohortMembership.objects.filter(
        cohort_id__in=cohort_ids, role=CohortRole.MEMBER, removed_at__isnull=True
    )


def nudge_log_learners(user):
    """The learners whose rows `user` sees in the nudge log: None means everyone."""
    from django.contrib.auth import get_user_model

    if is_staff(user):
        return None
    admin_of = role_facts(user).admin_cohort_ids
    if not admin_of:
        return get_user_model().objects.none()
    return get_user_model().objects.filter(pk__in=_members_of(admin_of).values("user_id"))


def nudge_preview_track_ids(user, learner) -> set[int] | None:
    """What of `learner`'s nudge `user` may see: None for all of it (their own, or staff);
    for a cohort admin, the tracks of the cohorts they run that the learner is a member of.
    Progress on other tracks is the learner's business, not their cohort's."""
    if user.pk == learner.pk or is_staff(user):
        return None
    admin_of = role_facts(user).admin_cohort_ids
    return set(
        CohortTrack.objects.filter(
            cohort_id__in=admin_of,
            cohort__memberships__user_id=learner.pk,
            cohort__memberships__role=CohortRole.MEMBER,
            cohort__memberships__removed_at__isnull=True,
        ).values_list("track_id", flat=True)
    )


def can_preview_nudge(user, learner) -> bool:
    """A learner previews their own nudge; whoever may see a learner's log, theirs."""
    if not is_signed_in(user):
        return False
    return user.pk == learner.pk or can_view_nudge_log(user, learner)


# --- cohorts ----------------------------------------------------------------------------------
# A cohort's admins (and staff) run it; its members see their own cohort page. Anyone else may
# not know a cohort exists: its pages answer 404. Archived cohorts are staff's alone.


def _cohort_id(cohort: Cohort | int) -> int:
    return cohort if isinstance(cohort, int) else cohort.pk


def is_cohort_admin(user, cohort: Cohort | int) -> bool:
    return _cohort_id(cohort) in role_facts(user).admin_cohort_ids


def is_cohort_member(user, cohort: Cohort | int) -> bool:
    """An active member (a learner in it), not an admin."""
    return _cohort_id(cohort) in role_facts(user).member_cohort_ids


def can_create_cohort(user) -> bool:
    """Staff, and anyone who already runs a cohort."""
    return is_staff(user) or bool(role_facts(user).admin_cohort_ids)


def can_list_cohorts(user) -> bool:
    """The "Cohorts" link: staff, and whoever runs or belongs to a cohort (anyone signed in
    may open /cohorts/, which then says how to join one)."""
    facts = role_facts(user)
    return is_staff(user) or bool(facts.admin_cohort_ids or facts.member_cohort_ids)


def can_view_cohort(user, cohort: Cohort) -> bool:
    """May know the cohort exists and see its member-facing page (phases, their pace, teams)."""
    return is_staff(user) or is_cohort_admin(user, cohort) or is_cohort_member(user, cohort)


def can_manage_cohort(user, cohort: Cohort) -> bool:
    """Edit it, its phases, pace plan, invites, members, co-admins and teams; see its
    dashboard, export it and message its members."""
    return is_staff(user) or is_cohort_admin(user, cohort)


def can_archive_cohort(user, cohort: Cohort) -> bool:
    """End a running or finished cohort: it disappears for its members and admins."""
    return cohort.archived_at is None and can_manage_cohort(user, cohort)


def ran_archived_cohort(user, cohort: Cohort) -> bool:
    """Was an admin of this cohort when it was archived: a second Archive click (or Back and
    resubmit) is told it is archived rather than that the cohort does not exist."""
    return (
        cohort.archived_at is not None
        and is_signed_in(user)
        and CohortMembership.objects.filter(
            cohort=cohort, user_id=user.pk, role=CohortRole.ADMIN, removed_at__isnull=True
        ).exists()
    )


def can_restore_cohort(user, cohort: Cohort) -> bool:
    """Bring an archived cohort back: staff (its admins no longer see it once archived)."""
    return cohort.archived_at is not None and is_staff(user)


def can_join_cohort(user, cohort: Cohort) -> bool:
    """With a valid invite (checked by the service): any signed-in person not already in it."""
    return (
        is_signed_in(user)
        and cohort.archived_at is None
        and not (is_cohort_member(user, cohort) or is_cohort_admin(user, cohort))
    )
