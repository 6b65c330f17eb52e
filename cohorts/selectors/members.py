"""The member table: one row per active member with their kept figures per cohort track, points,
last activity and pace status against the cohort's plan, filtered and sorted in the database.

Each cohort track is one LEFT JOIN on the member's enrolment in it (unique per learner and
track), so a page of 50 out of 2,000 members is one indexed query: no progress rows are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import (
    Case,
    CharField,
    F,
    FilteredRelation,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.expressions import OrderBy
from django.db.models.functions import (
    Coalesce,
    Concat,
    Greatest,
    Lower,
    NullIf,
    RowNumber,
    Trim,
)

from tracker.models import ANONYMOUS_LEARNER_NAME

from .. import pace
from ..models import CohortMembership, CohortRole
from .context import CohortContext

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
    "page_of",
    "placed_members",
    "row_of",
    "members_queryset",
]

INACTIVE_DAYS = 14
AT_RISK = "at_risk"
PAGE_SIZE = 50
# Never a real activity time: stands for "none" inside GREATEST (SQLite's is NULL if any is).
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)

SORTS = {
    "name": "Name",
    "points": "Points",
    "activity": "Last activity",
    "pace": "Pace",
}


@dataclass(frozen=True)
class MemberFilter:
    """The table's state, as the URL carries it (validated by the filter form)."""

    q: str = ""
    track: int | None = None  # a cohort track id
    pace: str = ""  # a PaceStatus value, or AT_RISK
    sort: str = "name"  # a SORTS key or "track-<id>", "-" first for descending
    page: int = 1

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")


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


def _alias(index: int) -> str:
    return f"cohort_enrolment_{index}"


def members_queryset(ctx: CohortContext, *, now: datetime) -> QuerySet[CohortMembership]:
    """Active members with their figures annotated (not filtered, not sorted)."""
    qs = CohortMembership.objects.filter(
        cohort=ctx.cohort, role=CohortRole.MEMBER, removed_at__isnull=True
    )
    for i, track in enumerate(ctx.tracks):
        qs = qs.annotate(
            **{
                _alias(i): FilteredRelation(
                    "user__enrolments", condition=Q(user__enrolments__track_id=track.id)
                )
            }
        )
    zero = Value(0)

    def total(field: str):
        parts = [Coalesce(F(f"{_alias(i)}__{field}"), zero) for i in range(len(ctx.tracks))]
        expression = parts[0] if parts else zero
        for part in parts[1:]:
            expression = expression + part
        return expression

    per_track = {}
    for i, track in enumerate(ctx.tracks):
        done = Coalesce(F(f"{_alias(i)}__done_units"), zero)
        required = Coalesce(F(f"{_alias(i)}__required_units"), zero)
        per_track[f"t{track.id}_done"] = done
        per_track[f"t{track.id}_required"] = required
        per_track[f"t{track.id}_enrolled"] = Case(
            When(
                **{f"{_alias(i)}__id__isnull": False, f"{_alias(i)}__left_at__isnull": True},
                then=Value(1),
            ),
            default=Value(0),
            output_field=IntegerField(),
        )
        per_track[f"t{track.id}_percent"] = Case(
            When(
                **{f"{_alias(i)}__required_units__gt": 0},
                then=F(f"{_alias(i)}__done_units") * 100 / F(f"{_alias(i)}__required_units"),
            ),
            default=zero,
            output_field=IntegerField(),
        )
    if len(ctx.tracks) == 1:
        last = F(f"{_alias(0)}__last_activity_at")
    elif ctx.tracks:
        last = NullIf(
            Greatest(
                *(
                    Coalesce(F(f"{_alias(i)}__last_activity_at"), Value(_NEVER))
                    for i in range(len(ctx.tracks))
                )
            ),
            Value(_NEVER),
        )
    else:
        last = Value(None)
    full_name = NullIf(Trim(Concat("user__first_name", Value(" "), "user__last_name")), Value(""))
    due = ctx.due
    qs = qs.annotate(
        **per_track,
        member_name=Coalesce(
            NullIf(Trim("user__profile__display_name"), Value("")),
            full_name,
            Value(ANONYMOUS_LEARNER_NAME),
            output_field=CharField(),
        ),
        member_points=total("points"),
        member_modules_done=total("modules_done"),
        member_last_activity=last,
    )
    if due.has_plan:
        member_pace = Case(
            When(
                member_modules_done__lt=due.due_before_this_week,
                then=Value(pace.PaceStatus.BEHIND.value),
            ),
            When(
                member_modules_done__gt=due.due_by_end_of_this_week,
                then=Value(pace.PaceStatus.AHEAD.value),
            ),
            default=Value(pace.PaceStatus.ON_PACE.value),
            output_field=CharField(),
        )
    else:
        member_pace = Value(pace.PaceStatus.NO_PLAN.value, output_field=CharField())
    qs = qs.annotate(
        member_pace=member_pace,
        member_inactive=Case(
            When(
                Q(member_last_activity__lt=now - timedelta(days=INACTIVE_DAYS))
                | Q(
                    member_last_activity__isnull=True,
                    joined_at__lt=now - timedelta(days=INACTIVE_DAYS),
                ),
                then=Value(1),
            ),
            default=Value(0),
            output_field=IntegerField(),
        ),
    )
    behind_more_than_one = (
        Q(member_modules_done__lt=due.due_before_this_week - 1) if (due.has_plan) else Q(pk__in=[])
    )
    return qs.annotate(
        member_at_risk=Case(
            When(Q(member_inactive=1) | behind_more_than_one, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )


def _match(ctx: CohortContext, filters: MemberFilter) -> Q:
    """The members `filters` keeps, as a condition on `members_queryset`'s annotations."""
    match = Q()
    if filters.q:
        match &= Q(member_name__icontains=filters.q)
    if filters.track is not None and filters.track in ctx.track_ids:
        match &= Q(**{f"t{filters.track}_enrolled": 1})
    if filters.pace == AT_RISK:
        match &= Q(member_at_risk=1)
    elif filters.pace:
        match &= Q(member_pace=filters.pace)
    return match


def _order(ctx: CohortContext, filters: MemberFilter) -> list[OrderBy]:
    """The table's order for `filters.sort`: the column, then name and id (stable pages)."""
    key, desc = filters.sort_key, filters.descending
    by_name = [Lower("member_name").asc(), F("user_id").asc()]
    if key == "points":
        first = F("member_points")
    elif key == "activity":
        first = F("member_last_activity")
    elif key == "pace":
        first = F("member_modules_done")
    elif key.startswith("track-") and key[6:].isdigit() and int(key[6:]) in ctx.track_ids:
        first = F(f"t{int(key[6:])}_percent")
    else:
        return [
            Lower("member_name").desc() if desc else Lower("member_name").asc(),
            F("user_id").desc() if desc else F("user_id").asc(),
        ]
    return [first.desc(nulls_last=True) if desc else first.asc(nulls_first=True), *by_name]


def member_rows(
    ctx: CohortContext, *, filters: MemberFilter, now: datetime
) -> QuerySet[CohortMembership]:
    """Members matching `filters`, in its order, with their figures (see `row_of`)."""
    qs = members_queryset(ctx, now=now).filter(_match(ctx, filters))
    return qs.order_by(*_order(ctx, filters))


def row_of(member: CohortMembership, ctx: CohortContext) -> MemberRow:
    modules_done = member.member_modules_done
    return MemberRow(
        user_id=member.user_id,
        name=member.member_name,
        tracks=[
            TrackCell(
                track_id=t.id,
                title=t.title,
                done=getattr(member, f"t{t.id}_done"),
                required=getattr(member, f"t{t.id}_required"),
                enrolled=bool(getattr(member, f"t{t.id}_enrolled")),
            )
            for t in ctx.tracks
        ],
        points=member.member_points,
        modules_done=modules_done,
        last_activity_at=member.member_last_activity,
        joined_at=member.joined_at,
        pace=ctx.pace_for(modules_done),
        at_risk=bool(member.member_at_risk),
    )


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
    """What `placed_members` read: the members it kept (each with `page_place`, `risk_place`
    and `points_place` where asked for) and how many match the filters / are at risk."""

    members: list[CohortMembership]
    matching: int
    at_risk: int
    at_risk_limit: int = 0
    leaderboard_size: int = 0


def placed_members(
    ctx: CohortContext,
    *,
    now: datetime,
    filters: MemberFilter | None = None,
    page: tuple[int, int] | None = None,
    at_risk_limit: int = 0,
    leaderboard_size: int = 0,
) -> Placed:
    """One pass over the cohort's members (one query) that numbers each in the orders asked
    for, with window functions, and returns only the few each needs: the table's `page`
    (number, size) of the members matching `filters`, the first `at_risk_limit` at risk, the
    first `leaderboard_size` by points. The dashboard asks for all three at once."""
    windows: dict = {}
    wanted: list[Q] = []
    qs = members_queryset(ctx, now=now).select_related(None)
    if page is not None:
        match = _match(ctx, filters or MemberFilter())
        qs = qs.annotate(
            member_matches=Case(When(match, then=Value(1)), default=Value(0))
            if match
            else Value(1, output_field=IntegerField())
        )
        # Numbered within "matches or not", so a page of the matching ones is a range.
        windows["page_place"] = Window(
            RowNumber(),
            partition_by=[F("member_matches")],
            order_by=_order(ctx, filters or MemberFilter()),
        )
        windows["matching"] = Window(Sum("member_matches"))
        number, size = page
        wanted.append(Q(page_place__gt=(number - 1) * size, page_place__lte=number * size))
    if at_risk_limit:
        windows["risk_place"] = Window(
            RowNumber(),
            partition_by=[F("member_at_risk")],
            order_by=[
                F("member_modules_done").asc(),
                F("member_last_activity").asc(nulls_first=True),
                F("member_name").asc(),
                F("user_id").asc(),
            ],
        )
        windows["at_risk_count"] = Window(Sum("member_at_risk"))
        wanted.append(Q(risk_place__lte=at_risk_limit))
    if leaderboard_size:
        qs = qs.annotate(shown=Coalesce(F("user__profile__show_on_leaderboards"), Value(True)))
        windows["points_place"] = Window(
            RowNumber(),
            order_by=[F("member_points").desc(), F("member_name").asc(), F("user_id").asc()],
        )
        wanted.append(Q(points_place__lte=leaderboard_size))
    if not wanted:
        return Placed(members=[], matching=0, at_risk=0)
    condition = wanted[0]
    for more in wanted[1:]:
        condition |= more
    members = list(qs.annotate(**windows).filter(condition))
    first = members[0] if members else None
    return Placed(
        members=members,
        matching=int(getattr(first, "matching", 0) or 0),
        at_risk=int(getattr(first, "at_risk_count", 0) or 0),
        at_risk_limit=at_risk_limit,
        leaderboard_size=leaderboard_size,
    )


def page_of(placed: Placed, ctx: CohortContext, *, number: int, page_size: int) -> list[MemberRow]:
    """The table's rows among what `placed_members` read, in the table's order."""
    low, high = (number - 1) * page_size, number * page_size
    rows = [
        m
        for m in placed.members
        if getattr(m, "member_matches", 0) == 1 and low < m.page_place <= high
    ]
    return [row_of(m, ctx) for m in sorted(rows, key=lambda m: m.page_place)]


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
    the end answers the last page (one more query)."""
    number = max(1, filters.page)
    asked = dict(at_risk_limit=at_risk_limit, leaderboard_size=leaderboard_size)
    placed = placed_members(ctx, now=now, filters=filters, page=(number, page_size), **asked)
    rows = page_of(placed, ctx, number=number, page_size=page_size)
    if not rows and number > 1:
        count = (
            placed.matching
            if placed.members
            else member_rows(ctx, filters=filters, now=now).count()
        )
        number = max(1, -(-count // page_size))
        placed = placed_members(ctx, now=now, filters=filters, page=(number, page_size), **asked)
        rows = page_of(placed, ctx, number=number, page_size=page_size)
    return (
        MemberPage(rows=rows, number=number, count=placed.matching, page_size=page_size),
        placed,
    )


def member_of(ctx: CohortContext, *, user, now: datetime) -> MemberRow | None:
    """`user`'s own row, when they are an active member (one query)."""
    member = members_queryset(ctx, now=now).filter(user=user).first()
    return row_of(member, ctx) if member is not None else None
