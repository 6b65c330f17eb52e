"""Demo accounts for `make run`: a learner part-way through two seed tracks (with a capstone
submitted on a third), a track lead with that submission waiting in their review queue, a
staff member for the admin, and a cohort admin running the demo cohort (`cohorts.demo`: the
TechLabs track with a few dozen generated members, the demo learner among them). Passwords are random, printed once at creation and kept in
var/demo-accounts.txt (git-ignored) so they can be found again."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from cohorts import demo as demo_cohort
from curriculum.models import Capstone, Resource, ReviewMode, Track

from . import services
from .models import CapstoneSubmission, ProgressStatus


@dataclass(frozen=True)
class DemoAccount:
    email: str
    display_name: str
    role: str
    staff: bool = False


LEARNER_EMAIL = "learner@demo.waymark.local"
STAFF_EMAIL = "staff@demo.waymark.local"
LEAD_EMAIL = "lead@demo.waymark.local"
COHORT_ADMIN_EMAIL = "cohort@demo.waymark.local"
DEMO_TRACKS = ["fastai-part1", "learning-deep-learning"]
# The lead's track: a seed track whose capstone leads review.
DEMO_LEAD_TRACK = "nvidia-dli-cv"
DEMO_ACCOUNTS = [
    DemoAccount(
        LEARNER_EMAIL,
        "Dana Learner",
        f"learner in the demo cohort, enrolled in four tracks, a capstone waiting for review "
        f"in {DEMO_LEAD_TRACK}",
    ),
    DemoAccount(
        STAFF_EMAIL, "Sam Staff", "staff: admin, every track's reviews and leads", staff=True
    ),
    DemoAccount(
        LEAD_EMAIL,
        "Lee Lead",
        f"track lead of {DEMO_LEAD_TRACK}: /lead/reviews/ has Dana's capstone waiting",
    ),
    DemoAccount(
        COHORT_ADMIN_EMAIL,
        "Cora Cohort",
        f"cohort admin of the demo cohort: /cohorts/{demo_cohort.COHORT_SLUG}/",
    ),
]
CREDENTIALS_FILE = Path(settings.BASE_DIR) / "var" / "demo-accounts.txt"


@transaction.atomic
def demo_accounts_create() -> list[tuple[DemoAccount, str]]:
    """Create the demo accounts that do not exist yet; return (account, password) for those."""
    User = get_user_model()
    created = []
    for account in DEMO_ACCOUNTS:
        if User.objects.filter(email=account.email).exists():
            continue
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(
            username=account.email.split("@")[0],
            email=account.email,
            password=password,
            is_staff=account.staff,
            is_superuser=account.staff,
        )
        _verified_email(user)
        profile = services.profile_get_or_create(user=user)
        services.profile_update(
            user=user,
            display_name=account.display_name,
            time_zone=profile.time_zone,
            nudge_enabled=profile.nudge_enabled,
            nudge_weekday=profile.nudge_weekday,
            nudge_hour=profile.nudge_hour,
        )
        if account.email == LEARNER_EMAIL:
            _demo_progress(user)
        created.append((account, password))
    _demo_lead_with_a_submission_waiting()
    _demo_cohort()
    if created:
        CREDENTIALS_FILE.parent.mkdir(parents=True, exist_ok=True)
        with CREDENTIALS_FILE.open("a") as out:
            for account, password in created:
                out.write(f"{account.email}\t{password}\t{account.role}\n")
    return created


def _verified_email(user) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


def _demo_progress(user) -> None:
    """Some done, some in progress, in the first demo track; enrolled in the second."""
    for slug in DEMO_TRACKS:
        track = Track.objects.active().filter(slug=slug).first()
        if track is None:
            continue
        services.enrolment_join(learner=user, track=track)
    first = Track.objects.active().filter(slug=DEMO_TRACKS[0]).first()
    if first is None:
        return
    resources = list(
        Resource.objects.active().filter(track=first).order_by("module__position", "position")[:4]
    )
    for index, resource in enumerate(resources):
        status = ProgressStatus.IN_PROGRESS if index == len(resources) - 1 else ProgressStatus.DONE
        services.progress_set_status(learner=user, resource=resource, status=status)


def _demo_cohort() -> None:
    """The demo cohort, run by the demo cohort admin, with the demo learner in it (once)."""
    accounts = {
        user.email: user
        for user in get_user_model().objects.filter(
            email__in=[STAFF_EMAIL, COHORT_ADMIN_EMAIL, LEARNER_EMAIL]
        )
    }
    if STAFF_EMAIL in accounts and COHORT_ADMIN_EMAIL in accounts:
        demo_cohort.demo_cohort_create(
            staff=accounts[STAFF_EMAIL],
            admin=accounts[COHORT_ADMIN_EMAIL],
            learner=accounts.get(LEARNER_EMAIL),
        )


def _demo_lead_with_a_submission_waiting() -> None:
    """The demo lead leads DEMO_LEAD_TRACK (granted by the demo staff account), and the demo
    learner has submitted its lead-reviewed capstone. Safe to run again: nothing twice."""
    User = get_user_model()
    accounts = {
        user.email: user
        for user in User.objects.filter(email__in=[LEARNER_EMAIL, STAFF_EMAIL, LEAD_EMAIL])
    }
    track = Track.objects.active().filter(slug=DEMO_LEAD_TRACK).first()
    if track is None or len(accounts) < 3:
        return
    lead, learner = accounts[LEAD_EMAIL], accounts[LEARNER_EMAIL]
    if not track.leads.filter(user=lead).exists():
        services.track_lead_grant(track=track, user=lead, granted_by=accounts[STAFF_EMAIL])
    capstone = (
        Capstone.objects.active()
        .filter(track=track, review=ReviewMode.LEAD)
        .order_by("module__position", "position")
        .first()
    )
    if (
        capstone is None
        or CapstoneSubmission.objects.filter(learner=learner, capstone=capstone).exists()
    ):
        return
    services.enrolment_join(learner=learner, track=track)
    services.capstone_submit(
        learner=learner,
        capstone=capstone,
        title="Solar panel defect detector",
        link="https://example.com/dana/solar-defects",
        writeup=(
            "I retrained **GoogLeNet** on 4,000 labelled panel images in the DLI lab with "
            "DIGITS, held out 20% for validation, and deployed it behind the lab's inference "
            "endpoint.\n\n- Validation accuracy: 94.1% after 30 epochs\n"
            "- Hardest class: micro-cracks (81% recall)"
        ),
        constraints_met=list(capstone.constraints or []),
    )
