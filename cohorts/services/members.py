"""Removing members, and adding and removing co-admins. Removal keeps the membership row (as
the record, and so joining again picks it up) and everything the person did in the tracks."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tracker import permissions
from tracker.services import verified_users_by_email

from ..models import Cohort, CohortMembership, CohortRole, TeamMembership
from .errors import CohortInvalid, NotAllowed

__all__ = ["cohort_admin_add", "cohort_admin_remove", "member_remove"]


def _must_manage(by, cohort: Cohort, doing: str) -> None:
    if not permissions.can_manage_cohort(by, cohort):
        raise NotAllowed(f"Only the admins of {cohort.name} (and staff) can {doing}.")


def _display(user) -> str:
    return user.get_full_name() or user.username


@transaction.atomic
def member_remove(
    *, by, membership: CohortMembership, now: datetime | None = None
) -> CohortMembership:
    """Take a member out of the cohort (and out of their team in it). Their enrolments,
    progress, points and certificates stay theirs."""
    cohort = membership.cohort
    _must_manage(by, cohort, "remove members")
    user = membership.user  # the caller's object: the one whose kept roles must go
    membership = CohortMembership.objects.select_for_update().get(pk=membership.pk)
    if membership.role != CohortRole.MEMBER:
        raise CohortInvalid.on(None, "That is an admin: remove them from the admins list.")
    if membership.removed_at is None:
        membership.removed_at = now or timezone.now()
        membership.removed_by = by
        membership.save(update_fields=["removed_at", "removed_by"])
        TeamMembership.objects.filter(cohort=cohort, user_id=membership.user_id).delete()
    permissions.forget_roles(user)
    return membership


@transaction.atomic
def cohort_admin_add(
    *, by, cohort: Cohort, user_email: str, now: datetime | None = None
) -> CohortMembership:
    """Make the account that confirmed `user_email` an admin of the cohort. A member made an
    admin stops being a member (admins are not on the member table or the pace plan)."""
    _must_manage(by, cohort, "add co-admins")
    email = (user_email or "").strip()
    if not email:
        raise CohortInvalid.on("email", "Enter the email address of the person to add.")
    user = verified_users_by_email([email]).get(email.lower())
    if user is None:
        raise CohortInvalid.on(
            "email",
            f"No account has confirmed the address {email}. Ask them to sign up (or confirm "
            "their address) first, then add them again.",
        )
    now = now or timezone.now()
    membership = (
        CohortMembership.objects.select_for_update().filter(cohort=cohort, user=user).first()
    )
    if membership is None:
        membership = CohortMembership.objects.create(
            cohort=cohort, user=user, role=CohortRole.ADMIN, joined_at=now, added_by=by
        )
    elif membership.role == CohortRole.ADMIN and membership.removed_at is None:
        raise CohortInvalid.on("email", f"{_display(user)} is already an admin of {cohort.name}.")
    else:
        if membership.role == CohortRole.MEMBER and membership.removed_at is None:
            TeamMembership.objects.filter(cohort=cohort, user=user).delete()
        membership.role, membership.added_by = CohortRole.ADMIN, by
        membership.removed_at = membership.removed_by = None
        membership.joined_at = now
        membership.save(update_fields=["role", "added_by", "removed_at", "removed_by", "joined_at"])
    permissions.forget_roles(user)
    return membership


@transaction.atomic
def cohort_admin_remove(
    *, by, membership: CohortMembership, now: datetime | None = None
) -> CohortMembership:
    """End someone's admin role (their own included), never the last one's: a cohort always
    has someone to run it."""
    cohort = membership.cohort
    _must_manage(by, cohort, "remove admins")
    admins = list(
        CohortMembership.objects.select_for_update().filter(
            cohort=cohort, role=CohortRole.ADMIN, removed_at__isnull=True
        )
    )
    target = next((admin for admin in admins if admin.pk == membership.pk), None)
    if target is None:
        raise CohortInvalid.on(None, "That person is not an admin of this cohort any more.")
    if len(admins) == 1:
        raise CohortInvalid.on(
            None,
            f"{_display(membership.user)} is the only admin of {cohort.name}. Add another admin "
            "before removing them.",
        )
    target.removed_at = now or timezone.now()
    target.removed_by = by
    target.save(update_fields=["removed_at", "removed_by"])
    permissions.forget_roles(membership.user)
    return target
