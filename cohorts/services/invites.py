"""Invite links and codes, and joining a cohort with one.

An invite works until it is revoked, until its expiry moment (`expires_at` itself is already
too late) and until it has been used `max_uses` times. Joining locks the invite row, so two
people racing for its last use cannot both get in (the check constraint on `use_count` is the
last line of defence)."""

from __future__ import annotations

import re
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from tracker import permissions
from tracker.services import enrolment_join

from ..models import Cohort, CohortInvite, CohortMembership, CohortRole, CohortTrack
from .errors import CohortInvalid, InviteProblem, InviteUnusable, NotAllowed, ServiceError

__all__ = [
    "INVITE_MAX_USES",
    "cohort_join",
    "invite_create",
    "invite_problem",
    "invite_revoke",
    "normalise_code",
]

INVITE_MAX_USES = 100_000
_NOT_CODE = re.compile(r"[^A-Z0-9]")


def normalise_code(code: str) -> str:
    """Codes are typed from slides and chats: case, spaces and hyphens do not matter."""
    return _NOT_CODE.sub("", (code or "").upper())[:20]


def invite_problem(invite: CohortInvite | None, *, now: datetime) -> InviteUnusable | None:
    """Why this invite lets nobody in now (None: it works)."""
    if invite is None:
        return InviteUnusable(
            InviteProblem.UNKNOWN,
            "That invite code is not one we know. Check it with whoever sent it to you.",
        )
    name = invite.cohort.name
    if invite.cohort.archived_at is not None:
        # Archived: by its admins once it is over, or earlier; either way nobody joins now.
        return InviteUnusable(InviteProblem.ENDED, f"{name} is closed and takes no new members.")
    if invite.revoked_at is not None:
        return InviteUnusable(
            InviteProblem.REVOKED,
            f"This invite to {name} was withdrawn. Ask the cohort's admins for a new one.",
        )
    if invite.expires_at is not None and now >= invite.expires_at:
        # In the active time zone: the viewer's own on the invite page (`in_viewer_time_zone`).
        ended = timezone.localtime(invite.expires_at)
        return InviteUnusable(
            InviteProblem.EXPIRED,
            f"This invite to {name} expired on {ended.day} {ended:%b %Y at %H:%M} "
            f"({timezone.get_current_timezone_name()} time). Ask the cohort's admins for a new one.",
        )
    if invite.max_uses is not None and invite.use_count >= invite.max_uses:
        return InviteUnusable(
            InviteProblem.USED_UP,
            f"This invite to {name} has been used as many times as it allows "
            f"({invite.max_uses}). Ask the cohort's admins for a new one.",
        )
    return None


@transaction.atomic
def invite_create(
    *,
    by,
    cohort: Cohort,
    expires_at: datetime | None = None,
    max_uses: int | None = None,
    now: datetime | None = None,
) -> CohortInvite:
    if not permissions.can_manage_cohort(by, cohort):
        raise NotAllowed(f"Only the admins of {cohort.name} (and staff) can invite people.")
    if cohort.archived_at is not None:
        raise CohortInvalid.on(None, f"{cohort.name} has ended; it takes no new members.")
    now = now or timezone.now()
    if expires_at is not None and expires_at <= now:
        raise CohortInvalid.on("expires_in_days", "The invite would expire before anyone used it.")
    if max_uses is not None and not 1 <= max_uses <= INVITE_MAX_USES:
        raise CohortInvalid.on(
            "max_uses", f"Allow from 1 to {INVITE_MAX_USES:,} uses, or leave it empty for no limit."
        )
    return CohortInvite.objects.create(
        cohort=cohort, created_by=by, created_at=now, expires_at=expires_at, max_uses=max_uses
    )


@transaction.atomic
def invite_revoke(*, by, invite: CohortInvite, now: datetime | None = None) -> CohortInvite:
    """Stop the invite working (people who joined with it stay). Revoking twice changes nothing."""
    if not permissions.can_manage_cohort(by, invite.cohort):
        raise NotAllowed(f"Only the admins of {invite.cohort.name} (and staff) can revoke invites.")
    invite = CohortInvite.objects.select_for_update().get(pk=invite.pk)
    if invite.revoked_at is None:
        invite.revoked_at = now or timezone.now()
        invite.revoked_by = by
        invite.save(update_fields=["revoked_at", "revoked_by"])
    return invite


@transaction.atomic
def cohort_join(*, user, code: str, now: datetime | None = None) -> CohortMembership:
    """Join the cohort the invite is for, and enrol in each of its tracks (progress already
    made there is kept). A removed member joins again with their old row; an active member
    gets their membership back without using up the invite."""
    if not permissions.is_signed_in(user):
        raise NotAllowed("Sign in to join a cohort.")
    now = now or timezone.now()
    invite = (
        CohortInvite.objects.select_for_update(of=("self",))
        .select_related("cohort")
        .filter(code=normalise_code(code))
        .first()
    )
    if invite is None:
        raise invite_problem(None, now=now)
    cohort = invite.cohort
    membership = (
        CohortMembership.objects.select_for_update().filter(cohort=cohort, user=user).first()
    )
    if membership is not None and membership.removed_at is None:
        if membership.role == CohortRole.ADMIN:
            raise ServiceError(f"You run {cohort.name} as an admin; admins are not members.")
        return membership
    if problem := invite_problem(invite, now=now):
        raise problem
    if membership is None:
        try:
            with transaction.atomic():
                membership = CohortMembership.objects.create(
                    cohort=cohort, user=user, role=CohortRole.MEMBER, joined_at=now, invite=invite
                )
        except IntegrityError:  # joined through another invite at this very moment
            membership = CohortMembership.objects.select_for_update().get(cohort=cohort, user=user)
            if membership.removed_at is None:
                return membership
    if membership.removed_at is not None:
        membership.removed_at = membership.removed_by = None
        membership.role = CohortRole.MEMBER
        membership.joined_at, membership.invite = now, invite
        membership.save(update_fields=["removed_at", "removed_by", "role", "joined_at", "invite"])
    invite.use_count += 1
    invite.save(update_fields=["use_count"])
    for link in CohortTrack.objects.filter(cohort=cohort).select_related("track"):
        if link.track.archived_at is None:
            enrolment_join(learner=user, track=link.track, now=now)
    permissions.forget_roles(user)
    return membership
