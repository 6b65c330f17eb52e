"""The member table: one row per active member with their kept figures per cohort track, points,
last activity and pace status against the cohort's plan, filtered and sorted in the database.

Each cohort track is one LEFT JOIN on the member's enrolment in it (unique per learner and
track), so a page of 50 out of 2,000 members is one indexed query: no progress rows are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.paginator import Paginator
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    FilteredRelation,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Concat, Greatest, Lower, NullIf, Trim

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
    "SORTS",
    "member_of",
    "member_page",
    "member_rows",
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


def _filtered(qs: QuerySet, ctx: CohortContext, filters: MemberFilter) -> QuerySet:
    if filters.q:
        qs = qs.filter(member_name__icontains=filters.q)
    if filters.track is not None and filters.track in ctx.track_ids:
        qs = qs.filter(**{f"t{filters.track}_enrolled": 1})
    if filters.pace == AT_RISK:
        qs = qs.filter(member_at_risk=1)
    elif filters.pace:
        qs = qs.filter(member_pace=filters.pace)
    return qs


def _ordered(qs: QuerySet, ctx: CohortContext, filters: MemberFilter) -> QuerySet:
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
        return qs.order_by(
            Lower("member_name").desc() if desc else Lower("member_name").asc(),
            F("user_id").desc() if desc else F("user_id").asc(),
        )
    first = first.desc(nulls_last=True) if desc else first.asc(nulls_first=True)
    return qs.order_by(first, *by_name)


def member_rows(
    ctx: CohortContext, *, filters: MemberFilter, now: datetime
) -> QuerySet[CohortMembership]:
    """Members matching `filters`, in its order, with their figures (see `row_of`)."""
    qs = members_queryset(ctx, now=now)
    return _ordered(_filtered(qs, ctx, filters), ctx, filters)


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


def member_page(
    ctx: CohortContext, *, filters: MemberFilter, now: datetime, page_size: int = PAGE_SIZE
) -> MemberPage:
    """One page of the table and the number of matching members, in one query (the count is a
    window over the filtered rows); a page past the end answers the last page (one more)."""
    qs = (
        member_rows(ctx, filters=filters, now=now)
        .annotate(matching=Window(expression=Count("pk")))
        .select_related(None)
    )
    number = max(1, filters.page)
    members = list(qs[(number - 1) * page_size : number * page_size])
    if not members and number > 1:
        count = Paginator(qs.order_by(), page_size).count
        number = max(1, -(-count // page_size))
        members = list(qs[(number - 1) * page_size : number * page_size])
    count = members[0].matching if members else 0
    return MemberPage(
        rows=[row_of(m, ctx) for m in members], number=number, count=count, page_size=page_size
    )


def member_of(ctx: CohortContext, *, user, now: datetime) -> MemberRow | None:
    """`user`'s own row, when they are an active member (one query)."""
    member = members_queryset(ctx, now=now).filter(user=user).first()
    return row_of(member, ctx) if member is not None else None
