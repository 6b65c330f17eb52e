"""The member table: one row per active member with their kept figures per cohort track, points,
last activity and pace status against the cohort's plan, filtered and sorted in the database.

Each cohort track is one LEFT JOIN on the member's enrolment in it (unique per learner and
track), so a page of 50 out of 2,000 members is one query: no progress rows are read. The SQL
is in `member_sql`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from tracker.sql import aware

from .. import pace
from .context import CohortContext
from .member_sql import AT_RISK, INACTIVE_DAYS, MemberFilter, MemberQuery

__all__ = [
    "AT_RISK",
    "INACTIVE_DAYS",
    "MemberFilter",
    "MemberPage",
    "MemberRow",
    "Placed",
    "SORTS",
    "member_of",
    "member_page",
    "member_rows",
    "members_with_ids",
    "placed_members",
]

PAGE_SIZE = 50

SORTS = {
    "name": "Name",
    "points": "Points",
    "activity": "Last activity",
    "pace": "Pace",
}


@dataclass(frozen=True)
class TrackCell:
    track_id: int
    title: str
    done: int
    required: int
    enrolled: bool

    @property
    def percent(self) -> int:
        return 0 if not self.required else (100 * self.done) // self.required


@dataclass(frozen=True)
class MemberRow:
    user_id: int
    name: str
    tracks: list[TrackCell]
    points: int
    modules_done: int
    last_activity_at: datetime | None
    joined_at: datetime
    pace: pace.Pace
    at_risk: bool

    # Written once here: the page shows 50 of these, and Django's date filter is slow.
    @property
    def last_activity_iso(self) -> str:
        return self.last_activity_at.isoformat() if self.last_activity_at else ""

    @property
    def last_activity_day(self) -> str:
        """ "27 Nov 2026", the day it was in the current time zone (the viewer's, on their
        pages: `in_viewer_time_zone`)."""
        if not self.last_activity_at:
            return ""
        moment = timezone.localtime(self.last_activity_at)
        return f"{moment.day} {moment:%b %Y}"


def _row(found: dict, ctx: CohortContext) -> MemberRow:
    return MemberRow(
        user_id=found["user_id"],
        name=found["name"],
        tracks=[
            TrackCell(
                track_id=t.id,
                title=t.title,
                done=found[f"t{i}_done"],
                required=found[f"t{i}_required"],
                enrolled=bool(found[f"t{i}_enrolled"]),
            )
            for i, t in enumerate(ctx.tracks)
        ],
        points=found["points"],
        modules_done=found["modules_done"],
        last_activity_at=aware(found["last_activity"]),
        joined_at=aware(found["joined_at"]),
        pace=ctx.pace_for(found["modules_done"]),
        at_risk=bool(found["at_risk"]),
    )


def member_rows(
    ctx: CohortContext, *, filters: MemberFilter, now: datetime, chunk: int = 500
) -> Iterator[MemberRow]:
    """Every member matching `filters`, in its order, read `chunk` at a time (the CSV)."""
    query = MemberQuery(ctx, now=now)
    sql = (
        f"SELECT * FROM ({query.judged}) j WHERE {query.match(filters)} "
        f"ORDER BY {query.order(filters)}"
    )
    return (_row(found, ctx) for found in query.stream(sql, chunk=chunk))


def members_with_ids(
    ctx: CohortContext, *, ids: list[int], now: datetime, filters: MemberFilter | None = None
) -> list[MemberRow]:
    """The active members among `ids` (those matching `filters` too), in the table's order."""
    filters = filters or MemberFilter()
    query = MemberQuery(ctx, now=now)
    sql = (
        f"SELECT * FROM ({query.judged}) j WHERE user_id IN {query.with_ids('id', ids)} "
        f"AND {query.match(filters)} ORDER BY {query.order(filters)}"
    )
    return [_row(found, ctx) for found in query.rows(sql)]


def member_of(ctx: CohortContext, *, user, now: datetime) -> MemberRow | None:
    """`user`'s own row, when they are an active member (one query)."""
    found = members_with_ids(ctx, ids=[user.pk], now=now)
    return found[0] if found else None


@dataclass
class MemberPage:
    rows: list[MemberRow]
    number: int
    count: int
    page_size: int

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def start_index(self) -> int:
        return 0 if not self.count else (self.number - 1) * self.page_size + 1

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.page_size + len(self.rows)


@dataclass
class Placed:
    """What `placed_members` read: the table's page, the first members at risk and the first
    by points, each with its place, and how many match the filters and are at risk."""

    page: list[MemberRow]
    at_risk: list[MemberRow]
    by_points: list[tuple[MemberRow, bool]]  # (member, shown by name on leaderboards)
    matching: int
    at_risk_count: int


# The at-risk list's order: the most behind first, then the longest quiet.
_RISK_ORDER = "modules_done ASC, last_activity ASC NULLS FIRST, name ASC, user_id ASC"
_POINTS_ORDER = "points DESC, name ASC, user_id ASC"


def placed_members(
    ctx: CohortContext,
    *,
    now: datetime,
    filters: MemberFilter | None = None,
    page: tuple[int, int] | None = None,
    at_risk_limit: int = 0,
    leaderboard_size: int = 0,
) -> Placed:
    """One query over the cohort's members for three short lists: the table's `page` (number,
    size) of the members matching `filters`, the first `at_risk_limit` at risk (the most
    behind, then the longest quiet) and the first `leaderboard_size` by points, with how many
    match and how many are at risk. The members' figures are worked out once (a CTE read five
    times, which both databases materialize) and each list takes only its first few in its
    order (a top-N sort each, where ranking every member three ways took most of the query's
    time)."""
    filters = filters or MemberFilter()
    query = MemberQuery(ctx, now=now)
    number, size = page or (1, 0)
    query.params.update(
        low=(number - 1) * size, size=size, risk=at_risk_limit, top=leaderboard_size
    )
    order = query.order(filters)

    def first(name: str, where: str, by: str, limit: str) -> str:
        return f"""
            SELECT '{name}' AS list, ROW_NUMBER() OVER (ORDER BY {by}) AS place, chosen.*
            FROM (SELECT * FROM judged WHERE {where} ORDER BY {by} {limit}) chosen
        """

    sql = f"""
        WITH judged AS (
            SELECT j.*, CASE WHEN {query.match(filters)} THEN 1 ELSE 0 END AS matches
            FROM ({query.judged}) j
        )
        SELECT placed.*,
            (SELECT COUNT(*) FROM judged WHERE matches = 1) AS matching,
            (SELECT COUNT(*) FROM judged WHERE at_risk = 1) AS at_risk_count
        FROM (
            {first("page", "matches = 1", order, "LIMIT %(size)s OFFSET %(low)s")}
            UNION ALL
            {first("risk", "at_risk = 1", _RISK_ORDER, "LIMIT %(risk)s")}
            UNION ALL
            {first("top", "points > 0", _POINTS_ORDER, "LIMIT %(top)s")}
        ) placed
    """
    found = query.rows(sql)
    head = found[0] if found else {}

    def listed(name: str) -> list[dict]:
        return sorted((f for f in found if f["list"] == name), key=lambda f: f["place"])

    return Placed(
        page=[_row(f, ctx) for f in listed("page")],
        at_risk=[_row(f, ctx) for f in listed("risk")],
        by_points=[(_row(f, ctx), bool(f["shown"])) for f in listed("top")],
        matching=int(head.get("matching") or 0),
        at_risk_count=int(head.get("at_risk_count") or 0),
    )


def member_count(ctx: CohortContext, *, filters: MemberFilter, now: datetime) -> int:
    query = MemberQuery(ctx, now=now)
    sql = f"SELECT COUNT(*) AS n FROM ({query.judged}) j WHERE {query.match(filters)}"
    return query.rows(sql)[0]["n"]


def member_page(
    ctx: CohortContext,
    *,
    filters: MemberFilter,
    now: datetime,
    page_size: int = PAGE_SIZE,
    at_risk_limit: int = 0,
    leaderboard_size: int = 0,
) -> tuple[MemberPage, Placed]:
    """One page of the table and the number of matching members, in one query (with the
    at-risk list and leaderboard's members when asked for; see `placed_members`). A page past
    the end answers the last page (one or two more queries)."""
    number = max(1, filters.page)
    asked = dict(at_risk_limit=at_risk_limit, leaderboard_size=leaderboard_size)
    placed = placed_members(ctx, now=now, filters=filters, page=(number, page_size), **asked)
    if not placed.page and number > 1:
        count = placed.matching if placed.by_points or placed.at_risk else None
        if count is None:
            count = member_count(ctx, filters=filters, now=now)
        number = max(1, -(-count // page_size))
        placed = placed_members(ctx, now=now, filters=filters, page=(number, page_size), **asked)
    return (
        MemberPage(rows=placed.page, number=number, count=placed.matching, page_size=page_size),
        placed,
    )
