"""Project teams: formed by the cohort's admins from its active members (who may follow
different tracks); a member is in at most one team per cohort (a unique constraint too)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from tracker import permissions
from tracker.services import capstone_team_credit

from ..models import NAME_MAX, Cohort, CohortMembership, CohortRole, Team, TeamMembership
from .errors import CohortInvalid, NotAllowed

__all__ = [
    "team_create",
    "team_delete",
    "team_member_add",
    "team_member_remove",
    "team_update",
]

TITLE_MAX = Team._meta.get_field("project_title").max_length
LINK_MAX = Team._meta.get_field("project_link").max_length
_url = URLValidator(schemes=["http", "https"])


def _must_manage(by, cohort: Cohort) -> None:
    if not permissions.can_manage_cohort(by, cohort):
        raise NotAllowed(f"Only the admins of {cohort.name} (and staff) can change its teams.")


def _check(*, cohort: Cohort, name: str, project_title: str, project_link: str, team=None):
    errors: dict[str | None, list[str]] = defaultdict(list)
    name, project_title = (name or "").strip(), (project_title or "").strip()
    project_link = (project_link or "").strip()
    if not name:
        errors["name"].append("Give the team a name.")
    elif len(name) > NAME_MAX:
        errors["name"].append(f"A name can be at most {NAME_MAX} characters.")
    elif (
        Team.objects.filter(cohort=cohort, name__iexact=name)
        .exclude(pk=getattr(team, "pk", None))
        .exists()
    ):
        errors["name"].append(f"Another team in {cohort.name} is already called “{name}”.")
    if len(project_title) > TITLE_MAX:
        errors["project_title"].append(f"A project title can be at most {TITLE_MAX} characters.")
    if project_link:
        try:
            if len(project_link) > LINK_MAX:
                raise ValidationError("too long")
            _url(project_link)
        except ValidationError:
            errors["project_link"].append(
                f"Give a full web address starting with https:// or http:// (at most {LINK_MAX} "
                "characters)."
            )
    if errors:
        raise CohortInvalid(dict(errors))
    return name, project_title, project_link


def _name_taken(cohort: Cohort, name: str) -> CohortInvalid:
    return CohortInvalid.on("name", f"Another team in {cohort.name} is already called “{name}”.")


@transaction.atomic
def team_create(
    *,
    by,
    cohort: Cohort,
    name: str,
    project_title: str = "",
    project_link: str = "",
    now: datetime | None = None,
) -> Team:
    _must_manage(by, cohort)
    name, project_title, project_link = _check(
        cohort=cohort, name=name, project_title=project_title, project_link=project_link
    )
    try:
        with transaction.atomic():
            return Team.objects.create(
                cohort=cohort,
                name=name,
                project_title=project_title,
                project_link=project_link,
                created_at=now or timezone.now(),
            )
    except IntegrityError:
        raise _name_taken(cohort, name) from None


@transaction.atomic
def team_update(*, by, team: Team, name: str, project_title: str, project_link: str) -> Team:
    """Rename the team, or change its project title and link."""
    _must_manage(by, team.cohort)
    name, project_title, project_link = _check(
        cohort=team.cohort,
        name=name,
        project_title=project_title,
        project_link=project_link,
        team=team,
    )
    try:
        with transaction.atomic():
            Team.objects.filter(pk=team.pk).update(
                name=name, project_title=project_title, project_link=project_link
            )
    except IntegrityError:
        raise _name_taken(team.cohort, name) from None
    team.name, team.project_title, team.project_link = name, project_title, project_link
    return team


@transaction.atomic
def team_delete(*, by, team: Team) -> None:
    """Disband a team: its members stay in the cohort, free to join another team."""
    _must_manage(by, team.cohort)
    users = [tm.user for tm in team.team_memberships.select_related("user")]
    team.delete()
    for user in users:
        permissions.forget_roles(user)


@transaction.atomic
def team_member_add(*, by, team: Team, user, now: datetime | None = None) -> TeamMembership:
    cohort = team.cohort
    _must_manage(by, cohort)
    is_member = CohortMembership.objects.filter(
        cohort=cohort, user=user, role=CohortRole.MEMBER, removed_at__isnull=True
    ).exists()
    name = user.get_full_name() or user.username
    if not is_member:
        raise CohortInvalid.on("user", f"{name} is not a member of {cohort.name}.")
    current = TeamMembership.objects.filter(cohort=cohort, user=user).select_related("team").first()
    if current is not None:
        raise CohortInvalid.on(
            "user",
            f"{name} is already in the team “{current.team.name}”: remove them from it first.",
        )
    try:
        with transaction.atomic():
            membership = TeamMembership.objects.create(
                team=team, cohort=cohort, user=user, added_at=now or timezone.now()
            )
    except IntegrityError:  # put in another team at this very moment
        raise CohortInvalid.on("user", f"{name} has just been put in another team.") from None
    # A team capstone the team passed before they came counts for them too.
    capstone_team_credit(learner=user, team_id=team.pk, now=membership.added_at)
    permissions.forget_roles(user)
    return membership


@transaction.atomic
def team_member_remove(*, by, team: Team, user) -> None:
    """Take someone out of the team (they stay in the cohort). Not in it: nothing changes."""
    _must_manage(by, team.cohort)
    TeamMembership.objects.filter(team=team, user=user).delete()
    permissions.forget_roles(user)
