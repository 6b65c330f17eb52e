"""Demo accounts for `make run`: a learner part-way through two seed tracks and a staff
member for the admin. Passwords are random, printed once at creation and kept in
var/demo-accounts.txt (git-ignored) so they can be found again."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from curriculum.models import Resource, Track

from . import services
from .models import ProgressStatus


@dataclass(frozen=True)
class DemoAccount:
    email: str
    display_name: str
    role: str
    staff: bool = False


DEMO_ACCOUNTS = [
    DemoAccount("learner@demo.waymark.local", "Dana Learner", "learner, enrolled in two tracks"),
    DemoAccount(
        "staff@demo.waymark.local", "Sam Staff", "staff: admin and capstone review", staff=True
    ),
]
DEMO_TRACKS = ["fastai-part1", "learning-deep-learning"]
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
        if not account.staff:
            _demo_progress(user)
        created.append((account, password))
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
