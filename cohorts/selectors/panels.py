"""The dashboard's panels besides the member table: the module × member heat map of a page of
members, completions per cohort week, the at-risk list and the points leaderboard; and what a
member's own cohort page shows (their team). One query each."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Sum, Value, Window
from django.db.models.functions import Coalesce

from tracker.completion import module_progress
from tracker.models import (
    CapstoneSubmission,
    Progress,
    ProgressStatus,
    SubmissionStatus,
    WeeklyCompletions,
)
from tracker.weeks import WeekPoints

from ..models import CohortMembership, CohortRole, Team, TeamMembership
from .context import CohortContext
from .members import MemberRow, members_queryset, row_of

__all__ = [
    "ANONYMOUS_MEMBER",
    "HeatMap",
    "LeaderboardEntry",
    "at_risk",
    "complete_modules",
    "heat_map",
    "leaderboard",
    "member_team",
    "units_done",
    "weekly_completions",
]

ANONYMOUS_MEMBER = "Anonymous member"
AT_RISK_SHOWN = 10
# Marks capstone rows in the heat map aggregate (no choice group is named with a space first).
CAPSTONE = " capstone"
LEADERBOARD_SIZE = 10


# --- heat map ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatColumn:
    module_id: int
    track_title: str
    number: int
    title: str
    units: int
    target_week: int | None


@dataclass(frozen=True, slots=True)
class HeatCell:
    """One cell, with its text ready: a page holds thousands of them, and the template then
    prints strings instead of formatting numbers."""

    done: int
    units: int
    shade: str  # "heat-0" (nothing) to "heat-4" (complete)
    label: str  # "3 of 5"
    title: str  # "Ada: 60%"


def heat_cell(done: int, units: int, name: str) -> HeatCell:
    if units and done >= units:
        level = 4
    else:
        level = 0 if not done else 1 + min(2, (3 * done) // max(units, 1))
    percent = 100 if not units else (100 * done) // units
    return HeatCell(done, units, f"heat-{level}", f"{done} of {units}", f"{name}: {percent}%")


@dataclass
class HeatMap:
    columns: list[HeatColumn]
    rows: list[tuple[MemberRow, list[HeatCell]]]


def _module_units(module) -> int:
    return module_progress(
        module=module, done_resource_ids=set(), passed_capstone_ids=set()
    ).total_units


def units_done(ctx: CohortContext, *, learner_ids: list[int]) -> dict[tuple[int, int], int]:
    """Units done (the completion rule's count, capped at the module's units) per learner and
    active module of the cohort's tracks, for `learner_ids`: one aggregate over their done rows
    grouped by module and choice group. Pairs with nothing done are left out."""
    counts: dict[tuple[int, int, str], int] = {}
    if not learner_ids or not ctx.tracks:
        return {}
    done = (
        Progress.objects.filter(
            learner_id__in=learner_ids,
            track_id__in=ctx.track_ids,
            status=ProgressStatus.DONE,
            resource__optional=False,
            resource__archived_at__isnull=True,
        )
        .order_by()
        .values_list("learner_id", "resource__module_id", "resource__choice")
        .annotate(n=Count("id"))
    )
    passed = (
        CapstoneSubmission.objects.filter(
            learner_id__in=learner_ids,
            track_id__in=ctx.track_ids,
            status=SubmissionStatus.PASSED,
            capstone__optional=False,
            capstone__archived_at__isnull=True,
        )
        .order_by()
        .values_list("learner_id", "capstone__module_id", Value(CAPSTONE))
        .annotate(n=Count("id"))
    )
    for learner_id, module_id, choice, n in done.union(passed, all=True):
        counts[(learner_id, module_id, choice)] = n
    modules = {module.id: module for track in ctx.tracks for module in track.modules}
    found: dict[tuple[int, int], int] = defaultdict(int)
    for (learner_id, module_id, choice), n in counts.items():
        module = modules.get(module_id)
        if module is None:
            continue
        if choice and choice != CAPSTONE:
            size = sum(1 for r in module.resources if r.choice == choice and not r.optional)
            n = min(n, module.required_in_group(choice), size)
        found[(learner_id, module_id)] += n
    units = {module_id: _module_units(module) for module_id, module in modules.items()}
    return {key: min(n, units[key[1]]) for key, n in found.items() if n}


def complete_modules(ctx: CohortContext, *, learner_ids: list[int]) -> dict[int, frozenset[int]]:
    """The ids of the cohort's modules each of `learner_ids` has complete (one query): what
    `CohortContext.next_target` needs."""
    units = {module.id: _module_units(module) for track in ctx.tracks for module in track.modules}
    complete: dict[int, set[int]] = defaultdict(set)
    for (learner_id, module_id), done in units_done(ctx, learner_ids=learner_ids).items():
        if units[module_id] and done >= units[module_id]:
            complete[learner_id].add(module_id)
    return {learner_id: frozenset(complete.get(learner_id, ())) for learner_id in learner_ids}


def heat_map(ctx: CohortContext, *, rows: list[MemberRow]) -> HeatMap:
    """Per member of `rows` and active module of the cohort's tracks: units done of the
    module's units, from `units_done` (bounded by the page, not the cohort)."""
    targets = {t.module_id: t.target_week for t in ctx.targets}
    columns = [
        HeatColumn(
            module_id=module.id,
            track_title=track.title,
            number=module.number,
            title=module.title,
            units=_module_units(module),
            target_week=targets.get(module.id),
        )
        for track in ctx.tracks
        for module in track.modules
    ]
    done = units_done(ctx, learner_ids=[row.user_id for row in rows]) if columns else {}
    heat_rows = [
        (
            row,
            [
                heat_cell(done.get((row.user_id, column.module_id), 0), column.units, row.name)
                for column in columns
            ],
        )
        for row in rows
    ]
    return HeatMap(columns=columns, rows=heat_rows)


# --- completions per week -----------------------------------------------------------------------


def weekly_completions(ctx: CohortContext) -> list[WeekPoints]:
    """Resources completed per week (ISO weeks, Monday to Sunday, UTC) by the cohort's active
    members on its tracks, from the week it starts to this week (or its last): one aggregate
    over the per-learner weekly counts the progress service keeps (`WeeklyCompletions`), a few
    rows per member whatever the number of progress rows."""
    if not ctx.started or not ctx.tracks:
        return []
    first = week_of_day(ctx.cohort.starts_on)
    last = week_of_day(min(ctx.today, ctx.cohort.ends_on))
    members = CohortMembership.objects.filter(
        cohort=ctx.cohort, role=CohortRole.MEMBER, removed_at__isnull=True
    ).values("user_id")
    per_week = dict(
        WeeklyCompletions.objects.filter(
            track_id__in=ctx.track_ids, week__gte=first, week__lte=last, learner_id__in=members
        )
        .order_by()
        .values_list("week")
        .annotate(n=Sum("completions"))
    )
    weeks = (last - first).days // 7 + 1
    return [
        WeekPoints(first + timedelta(weeks=i), per_week.get(first + timedelta(weeks=i), 0))
        for i in range(weeks)
    ]


def week_of_day(day: date) -> date:
    return day - timedelta(days=day.weekday())


# --- at risk, leaderboard -------------------------------------------------------------------------


@dataclass
class AtRisk:
    rows: list[MemberRow]
    count: int


def at_risk(ctx: CohortContext, *, now: datetime, limit: int = AT_RISK_SHOWN) -> AtRisk:
    """Members with no activity for 14 days or behind by more than one module, the most behind
    first, then the longest quiet; with how many there are in all (one query)."""
    qs = (
        members_queryset(ctx, now=now)
        .filter(member_at_risk=1)
        .annotate(matching=Window(expression=Count("pk")))
        .order_by(
            F("member_modules_done").asc(),
            F("member_last_activity").asc(nulls_first=True),
            "member_name",
            "user_id",
        )
    )
    members = list(qs[:limit])
    return AtRisk(
        rows=[row_of(m, ctx) for m in members], count=members[0].matching if members else 0
    )


@dataclass(frozen=True)
class LeaderboardEntry:
    rank: int
    user_id: int
    name: str
    points: int
    anonymous: bool


def leaderboard(ctx: CohortContext, *, now: datetime, size: int = LEADERBOARD_SIZE):
    """The top members by points over the cohort's tracks. Members who turned off "Show my name
    on cohort leaderboards" are listed as an anonymous member (ties share a rank)."""
    members = list(
        members_queryset(ctx, now=now)
        .annotate(shown=Coalesce(F("user__profile__show_on_leaderboards"), Value(True)))
        .filter(member_points__gt=0)
        .order_by(F("member_points").desc(), "member_name", "user_id")
        .values_list("user_id", "member_name", "member_points", "shown")[:size]
    )
    entries, rank, previous = [], 0, None
    for position, (user_id, name, points, shown) in enumerate(members, start=1):
        if points != previous:
            rank, previous = position, points
        entries.append(
            LeaderboardEntry(
                rank=rank,
                user_id=user_id,
                name=name if shown else ANONYMOUS_MEMBER,
                points=points,
                anonymous=not shown,
            )
        )
    return entries


# --- a member's team -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberTeam:
    team: Team
    teammates: list[str]


def member_team(ctx: CohortContext, *, user) -> MemberTeam | None:
    """The member's team in this cohort and their teammates' display names (one query: the
    team's memberships with the team and each person's profile)."""
    team_ids = TeamMembership.objects.filter(cohort=ctx.cohort, user=user).values("team_id")
    links = list(
        TeamMembership.objects.filter(team_id__in=team_ids)
        .select_related("team", "user__profile")
        .order_by("user__profile__display_name", "user_id")
    )
    if not links:
        return None
    from tracker.models import public_name

    return MemberTeam(
        team=links[0].team,
        teammates=[public_name(link.user) for link in links if link.user_id != user.pk],
    )
