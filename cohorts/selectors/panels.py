"""The dashboard's panels besides the member table: the module × member heat map of a page of
members and completions per cohort week (one query each), the at-risk list and the points
leaderboard (read with the table's own query, `members.placed_members`); and what a member's
own cohort page shows (their team)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tracker.completion import module_progress
from tracker.models import Enrolment, WeeklyCompletions
from tracker.weeks import WeekPoints

from ..models import CohortMembership, CohortRole, Team, TeamMembership
from .context import CohortContext
from .members import MemberRow, Placed, placed_members

__all__ = [
    "ANONYMOUS_MEMBER",
    "AT_RISK_SHOWN",
    "LEADERBOARD_SIZE",
    "HeatMap",
    "HeatRow",
    "LeaderboardEntry",
    "Standouts",
    "complete_modules",
    "modules_with_nothing_required",
    "heat_map",
    "leaderboard",
    "member_team",
    "standouts",
    "units_done",
    "weekly_completions",
]

ANONYMOUS_MEMBER = "Anonymous member"
AT_RISK_SHOWN = 10  # at most, on the dashboard (all of them through the table's filter)
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
    done: int
    units: int

    @property
    def level(self) -> int:
        """0 (nothing) to 4 (complete), the shade of the cell."""
        if self.units and self.done >= self.units:
            return 4
        return 0 if not self.done else 1 + min(2, (3 * self.done) // max(self.units, 1))

    @property
    def percent(self) -> int:
        return 100 if not self.units else (100 * self.done) // self.units


@dataclass
class HeatRow:
    """One member's cells. A page holds thousands of them, so each row's cells are written as
    HTML here, once per table (numbers and the escaped name only), rather than by a template
    loop resolving several variables per cell."""

    member: MemberRow
    cells: list[HeatCell]

    @property
    def table_cells(self) -> SafeString:
        """For the readable table: "3 of 5" per module."""
        return mark_safe("".join(f"<td>{c.done} of {c.units}</td>" for c in self.cells))

    @property
    def map_cells(self) -> SafeString:
        """For the coloured map: a shade and a tooltip ("Ada: 60%") per module."""
        name = escape(self.member.name)
        return mark_safe(
            "".join(
                f'<td class="heat-{c.level}" title="{name}: {c.percent}%"></td>' for c in self.cells
            )
        )


@dataclass
class HeatMap:
    columns: list[HeatColumn]
    rows: list[HeatRow]

    # The column headers, written here for the reason the rows' cells are (`HeatRow`).
    @property
    def table_header_cells(self) -> SafeString:
        """For the readable table: "Track module 2: Title (due week 3)" per module."""
        cells = []
        for c in self.columns:
            due = f" (due week {c.target_week})" if c.target_week else ""
            title = f"{escape(c.track_title)} module {c.number}: {escape(c.title)}{due}"
            cells.append(f'<th scope="col">{title}</th>')
        return mark_safe("".join(cells))  # noqa: S308 (escaped above)

    @property
    def map_header_cells(self) -> SafeString:
        """For the coloured map: the module's number, with its title and due week as a tooltip."""
        cells = []
        for c in self.columns:
            due = f", due week {c.target_week}" if c.target_week else ""
            cells.append(f'<th title="{escape(c.title)}{due}">{c.number}</th>')
        return mark_safe("".join(cells))  # noqa: S308 (escaped above)


def _units_by_module(ctx: CohortContext) -> dict[int, int]:
    """Each active module's units by the completion rule (what "complete" needs)."""
    return {
        module.id: module_progress(
            module=module, done_resource_ids=set(), passed_capstone_ids=set()
        ).total_units
        for track in ctx.tracks
        for module in track.modules
    }


def units_done(ctx: CohortContext, *, learner_ids: list[int]) -> dict[tuple[int, int], int]:
    """Units done per learner and active module of the cohort's tracks, for `learner_ids`, by
    the completion rule (`tracker.completion.module_progress`): each required resource one
    unit, a choice group as many as it asks for, each required capstone one; at most the
    module's units. Read from the units per module each enrolment keeps
    (`Enrolment.module_units`, kept in step by the progress and capstone services and
    recomputed by curriculum changes): one indexed read of a row per learner and track, where
    counting a page of 50 members' done rows at full scale read 12,000 of them. Pairs with
    nothing done are left out."""
    return _kept_units(ctx, learner_ids, _units_by_module(ctx))


def _kept_units(
    ctx: CohortContext, learner_ids: list[int], units: dict[int, int]
) -> dict[tuple[int, int], int]:
    """`units_done`, given the modules' units (`_units_by_module`) its callers also need."""
    if not learner_ids or not ctx.tracks:
        return {}
    kept = Enrolment.objects.filter(
        learner_id__in=learner_ids, track_id__in=ctx.track_ids
    ).values_list("learner_id", "module_units")
    found: dict[tuple[int, int], int] = {}
    for learner_id, per_module in kept:
        for key, done in per_module.items():
            module_id = int(key)
            if done and module_id in units:  # an active module of a cohort track
                found[(learner_id, module_id)] = min(done, units[module_id])
    return found


def complete_modules(ctx: CohortContext, *, learner_ids: list[int]) -> dict[int, frozenset[int]]:
    """The ids of the cohort's modules each of `learner_ids` has complete: what
    `CohortContext.next_target` needs. A module with nothing required is complete for everyone
    from the start, as the completion rule says (a target on it was the next target forever)."""
    units = _units_by_module(ctx)
    nothing_required = {module_id for module_id, count in units.items() if not count}
    complete: dict[int, set[int]] = defaultdict(set)
    for (learner_id, module_id), done in _kept_units(ctx, learner_ids, units).items():
        if units[module_id] and done >= units[module_id]:
            complete[learner_id].add(module_id)
    return {
        learner_id: frozenset(complete.get(learner_id, set()) | nothing_required)
        for learner_id in learner_ids
    }


def modules_with_nothing_required(ctx: CohortContext) -> int:
    """How many of the cohort's active modules have no required work (every item optional):
    complete by the rule (they count towards pace) from the day one joins, so pages say so
    apart instead of counting them as progress. No query."""
    return sum(1 for units in _units_by_module(ctx).values() if not units)


def heat_map(ctx: CohortContext, *, rows: list[MemberRow]) -> HeatMap:
    """Per member of `rows` and active module of the cohort's tracks: units done of the
    module's units, from `units_done` (bounded by the page, not the cohort)."""
    targets = {t.module_id: t.target_week for t in ctx.targets}
    units = _units_by_module(ctx)
    columns = [
        HeatColumn(
            module_id=module.id,
            track_title=track.title,
            number=module.number,
            title=module.title,
            units=units[module.id],
            target_week=targets.get(module.id),
        )
        for track in ctx.tracks
        for module in track.modules
    ]
    done = _kept_units(ctx, [row.user_id for row in rows], units) if columns else {}
    return HeatMap(
        columns=columns,
        rows=[
            HeatRow(
                member=row,
                cells=[
                    HeatCell(done.get((row.user_id, column.module_id), 0), column.units)
                    for column in columns
                ],
            )
            for row in rows
        ],
    )


# --- completions per week -----------------------------------------------------------------------


def weekly_completions(ctx: CohortContext) -> list[WeekPoints]:
    """Resources completed per week (ISO weeks, Monday to Sunday, UTC) by the cohort's active
    members on its tracks, from the week it starts to this week (or its last).

    One aggregate over the per-learner weekly counts the progress service keeps
    (`WeeklyCompletions`): a few rows per member whatever the number of progress rows, but
    still members × weeks of them (52,000 for 2,000 members over 26 weeks, about 20 ms here).
    A weekly chart need not be live to the second, so the series is kept in the shared cache
    for `COHORT_CHART_CACHE_SECONDS` (5 minutes by default; the page says so), per cohort
    and range of weeks."""
    if not ctx.started or not ctx.tracks:
        return []
    first = week_of_day(ctx.cohort.starts_on)
    last = week_of_day(min(ctx.today, ctx.cohort.ends_on))
    seconds = settings.COHORT_CHART_CACHE_SECONDS
    key = (
        f"cohort-weekly:{ctx.cohort.pk}:{ctx.cohort.created_at.timestamp()}:"
        f"{first:%Y%m%d}:{last:%Y%m%d}:{'.'.join(map(str, ctx.track_ids))}"
    )
    per_week = cache.get(key) if seconds else None
    if per_week is None:
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
        if seconds:
            cache.set(key, per_week, seconds)
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


@dataclass(frozen=True)
class LeaderboardEntry:
    rank: int
    user_id: int
    name: str
    points: int
    anonymous: bool


@dataclass
class Standouts:
    at_risk: AtRisk
    leaderboard: list[LeaderboardEntry]


def standouts(placed: Placed) -> Standouts:
    """The at-risk list and the points leaderboard from the members `placed_members` read with
    `at_risk_limit` and `leaderboard_size`.

    At risk: no activity for 14 days or behind by more than one module, the most behind first,
    then the longest quiet, with how many there are in all. Leaderboard: the top members by
    points over the cohort's tracks; members who turned off "Show my name on cohort
    leaderboards" are listed as an anonymous member; ties share a rank."""
    entries, rank, previous = [], 0, None
    for position, (member, shown) in enumerate(placed.by_points, start=1):
        if member.points != previous:
            rank, previous = position, member.points
        entries.append(
            LeaderboardEntry(
                rank=rank,
                user_id=member.user_id,
                name=member.name if shown else ANONYMOUS_MEMBER,
                points=member.points,
                anonymous=not shown,
            )
        )
    return Standouts(
        at_risk=AtRisk(rows=placed.at_risk, count=placed.at_risk_count), leaderboard=entries
    )


def leaderboard(
    ctx: CohortContext, *, now: datetime, size: int = LEADERBOARD_SIZE
) -> list[LeaderboardEntry]:
    """The leaderboard alone (a member's cohort page; one query)."""
    return standouts(placed_members(ctx, now=now, leaderboard_size=size)).leaderboard


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
