"""Reads for the cohort management pages (list, settings, invites, members, teams, join)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from curriculum.models import Module, Track
from tracker import permissions
from tracker.models import Enrolment

from ..models import (
    Cohort,
    CohortInvite,
    CohortMembership,
    CohortModuleTarget,
    CohortRole,
    CohortTrack,
    Team,
    TeamMembership,
)
from ..pace import week_ends_on
from ..services import default_targets

MEMBERS_PER_PAGE = 100

_ACTIVE_MEMBERS = Q(memberships__role=CohortRole.MEMBER, memberships__removed_at__isnull=True)


def _tracks_prefetch() -> Prefetch:
    return Prefetch(
        "cohort_tracks",
        queryset=CohortTrack.objects.select_related("track").order_by("position", "id"),
    )


def cohorts_for(user) -> QuerySet[Cohort]:
    """The cohorts this person runs or belongs to (every cohort for staff), with their tracks
    and member counts: two queries whatever the number."""
    cohorts = Cohort.objects.all()
    if not permissions.is_staff(user):
        facts = permissions.role_facts(user)
        cohorts = cohorts.filter(pk__in=facts.admin_cohort_ids | facts.member_cohort_ids)
    return (
        cohorts.annotate(member_count=Count("memberships", filter=_ACTIVE_MEMBERS))
        .prefetch_related(_tracks_prefetch())
        .order_by("-starts_on", "name")
    )


def cohort_by_slug(slug: str) -> Cohort | None:
    return Cohort.objects.filter(slug=slug).first()


def cohort_just_created(*, by, slug: str, name: str, starts_on, ends_on) -> Cohort | None:
    """The cohort `by` created in the last two minutes with exactly these details: the form
    sent twice (a double click), whose second copy is refused for its slug."""
    since = timezone.now() - timedelta(minutes=2)
    return Cohort.objects.filter(
        slug=slug,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_id=by.pk,
        created_at__gte=since,
    ).first()


def cohort_with_tracks(slug: str) -> Cohort | None:
    return Cohort.objects.filter(slug=slug).prefetch_related(_tracks_prefetch(), "phases").first()


# --- settings: the pace plan ---------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRow:
    track: Track
    module: Module
    default_week: int
    target_week: int
    due_on: date
    has_target: bool
    # Due after the cohort's last day: while it runs, nobody can be behind on this module.
    after_end: bool = False
    # Due before an earlier module of its track (the title of the latest such one): allowed
    # (modules can be worked side by side), but more often a typo in the week.
    before_earlier: str = ""


def pace_plan_rows(cohort: Cohort) -> list[PlanRow]:
    """Every active module of the cohort's tracks, in track then module order, with its default
    target, the cohort's target (the default where none is set yet) and the day it is due."""
    links = list(cohort.cohort_tracks.all())  # prefetched by cohort_with_tracks
    track_ids = [link.track_id for link in links]
    modules = list(
        Module.objects.active()
        .filter(track_id__in=track_ids)
        .order_by("track_id", "position", "id")
    )
    set_weeks = dict(
        CohortModuleTarget.objects.filter(cohort=cohort).values_list("module_id", "target_week")
    )
    defaults = default_targets(track_ids)
    order = {track_id: i for i, track_id in enumerate(track_ids)}
    tracks = {link.track_id: link.track for link in links}
    rows = []
    latest: dict[int, tuple[int, str]] = {}  # per track: the latest week so far, and its module
    for module in sorted(modules, key=lambda m: (order[m.track_id], m.position, m.pk)):
        week = set_weeks.get(module.pk, defaults[module.pk])
        due_on = week_ends_on(starts_on=cohort.starts_on, week=week)
        earlier_week, earlier_title = latest.get(module.track_id, (0, ""))
        if week >= earlier_week:
            latest[module.track_id] = (week, module.title)
        rows.append(
            PlanRow(
                track=tracks[module.track_id],
                module=module,
                default_week=defaults[module.pk],
                target_week=week,
                due_on=due_on,
                has_target=module.pk in set_weeks,
                after_end=due_on > cohort.ends_on,
                before_earlier=earlier_title if week < earlier_week else "",
            )
        )
    return rows


# --- invites ------------------------------------------------------------------------------------


def invites_of(cohort: Cohort) -> list[CohortInvite]:
    return list(cohort.invites.select_related("created_by__profile", "revoked_by__profile"))


# --- members and admins -------------------------------------------------------------------------


@dataclass(frozen=True)
class MembersPage:
    members: Page
    admins: list[CohortMembership]
    removed_count: int


def members_page(cohort: Cohort, *, page: str | int | None) -> MembersPage:
    active = (
        CohortMembership.objects.filter(
            cohort=cohort, role=CohortRole.MEMBER, removed_at__isnull=True
        )
        .select_related("user__profile", "invite")
        .order_by("-joined_at", "-id")
    )
    admins = list(
        CohortMembership.objects.filter(
            cohort=cohort, role=CohortRole.ADMIN, removed_at__isnull=True
        )
        .select_related("user__profile", "added_by__profile")
        .order_by("joined_at", "id")
    )
    removed = CohortMembership.objects.filter(
        cohort=cohort, role=CohortRole.MEMBER, removed_at__isnull=False
    ).count()
    return MembersPage(
        members=Paginator(active, MEMBERS_PER_PAGE).get_page(page),
        admins=admins,
        removed_count=removed,
    )


def membership_of(cohort: Cohort, pk: int, *, role: str) -> CohortMembership | None:
    """A membership of this cohort with this role, removed ones included (a second click on
    "Remove" finds the row and says it is done)."""
    return (
        CohortMembership.objects.filter(cohort=cohort, pk=pk, role=role)
        .select_related("user__profile", "cohort", "invite")
        .first()
    )


# --- teams --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamRow:
    team: Team
    members: list  # users, with .profile and .cohort_tracks (titles)


@dataclass(frozen=True)
class TeamsPage:
    teams: list[TeamRow]
    free_members: list  # active members in no team: (user id, label) choices


def _track_titles_by_member(cohort: Cohort) -> dict[int, list[str]]:
    rows = (
        Enrolment.objects.filter(
            track__cohort_links__cohort=cohort,
            left_at__isnull=True,
            learner__cohort_memberships__cohort=cohort,
            learner__cohort_memberships__role=CohortRole.MEMBER,
            learner__cohort_memberships__removed_at__isnull=True,
        )
        .order_by("track__title")
        .values_list("learner_id", "track__title")
    )
    titles: dict[int, list[str]] = defaultdict(list)
    for learner_id, title in rows:
        titles[learner_id].append(title)
    return titles


def teams_page(cohort: Cohort) -> TeamsPage:
    from tracker.models import public_name

    titles = _track_titles_by_member(cohort)
    teams = list(
        Team.objects.filter(cohort=cohort).prefetch_related(
            Prefetch(
                "team_memberships",
                queryset=TeamMembership.objects.select_related("user__profile").order_by(
                    "added_at", "id"
                ),
            )
        )
    )
    in_team = set()
    rows = []
    for team in teams:
        users = []
        for membership in team.team_memberships.all():
            user = membership.user
            user.cohort_tracks = titles.get(user.pk, [])
            in_team.add(user.pk)
            users.append(user)
        rows.append(TeamRow(team=team, members=users))
    free = (
        CohortMembership.objects.filter(
            cohort=cohort, role=CohortRole.MEMBER, removed_at__isnull=True
        )
        .exclude(user_id__in=in_team)
        .select_related("user__profile")
        .order_by("user__profile__display_name", "user__username")
    )
    choices = []
    for membership in free:
        label = public_name(membership.user)
        tracks = titles.get(membership.user_id)
        choices.append((membership.user_id, f"{label} ({', '.join(tracks)})" if tracks else label))
    return TeamsPage(teams=rows, free_members=choices)


def team_of(cohort: Cohort, pk: int) -> Team | None:
    return Team.objects.filter(cohort=cohort, pk=pk).select_related("cohort").first()


# --- joining ------------------------------------------------------------------------------------


def invite_code_known(code: str) -> bool:
    """Whether some invite has this (normalised) code, working or not."""
    return CohortInvite.objects.filter(code=code).exists()


def invite_for_code(code: str) -> CohortInvite | None:
    """The invite with its cohort, tracks and phases for the join page."""
    return (
        CohortInvite.objects.filter(code=code)
        .select_related("cohort")
        .prefetch_related(
            Prefetch(
                "cohort__cohort_tracks",
                queryset=CohortTrack.objects.select_related("track").order_by("position", "id"),
            ),
            "cohort__phases",
        )
        .first()
    )
