"""Reads for the learner's own pages: dashboard, pace plan, history and data export.

Each selector runs a fixed number of queries however many tracks, modules, resources,
enrolments, progress rows and ledger entries the learner has.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Sum
from django.db.models.functions import TruncWeek
from django.urls import reverse
from django.utils import timezone

from cohorts.standing import CohortStanding, standings_for
from curriculum.models import Module, Resource, Track

from .. import pace, weeks
from ..completion import (
    DEFAULT_MINUTES_ESTIMATE,
    TrackProgress,
    module_progress,
    track_progress,
)
from ..models import (
    Certificate,
    Enrolment,
    PointsEntry,
    PointsKind,
    Profile,
    Progress,
    ProgressStatus,
)
from .core import (
    active_enrolments,
    capstone_minutes_done,
    done_ids,
    followed_links,
    passed_capstone_ids,
    passed_capstones_handed_in,
    progress_by_resource,
    progress_with_links,
    tracks_with_items,
)

__all__ = [
    "ActivityItem",
    "Dashboard",
    "DashboardTrack",
    "PacePlanState",
    "dashboard_for",
    "learner_zone",
    "pace_plan_state",
    "plan_projection",
    "CohortTrackPlan",
    "cohort_plans_for_track",
    "points_by_week",
]

RECENT_ACTIVITY = 10


def learner_zone(profile: Profile) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(profile.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


# --- dashboard ------------------------------------------------------------------------------


@dataclass
class DashboardTrack:
    track: Track
    enrolment: Enrolment
    completion: TrackProgress
    next_resource: Resource | None
    next_module: Module | None

    @property
    def hours_left(self) -> float:
        return round(self.completion.minutes_left / 60, 1)


@dataclass
class ActivityItem:
    when: datetime
    track: Track | None
    title: str
    anchor: str  # "#resource-<slug>" or "#capstone-<slug>" on the track page
    status: str | None  # a ProgressStatus label for progress changes
    points: int | None
    # False once the item or its track was archived: its anchor is gone, so no link.
    current: bool = True
    # A capstone removed from its track: its own page, which stays the learner's to read.
    removed_page: str = ""

    @property
    def url(self) -> str:
        if self.track is None or self.track.archived_at is not None:
            return ""
        if not self.current:
            return self.removed_page
        return f"{self.track.get_absolute_url()}{self.anchor}"


@dataclass
class Dashboard:
    profile: Profile
    zone: zoneinfo.ZoneInfo
    today: date
    tracks: list[DashboardTrack]
    streak: int
    activity: list[ActivityItem]
    certificates: list[Certificate]
    cohorts: list[CohortStanding] = field(default_factory=list)
    # Whether this week already has a completion (the streak counts it), or is still open.
    streak_counts_this_week: bool = False

    @property
    def minutes_left(self) -> int:
        """Over all tracks, each track's work once (see `TrackProgress.own_minutes_left`)."""
        return sum(t.completion.own_minutes_left for t in self.tracks)

    @property
    def counted_once(self) -> list[DashboardTrack]:
        """Tracks whose time left includes another track's, which the total counts once."""
        return [t for t in self.tracks if t.completion.linked_minutes]

    @property
    def hours_left(self) -> float:
        return round(self.minutes_left / 60, 1)

    @property
    def open_capstones(self) -> int:
        return sum(t.completion.open_capstones for t in self.tracks)


def dashboard_for(*, learner, profile: Profile, now: datetime | None = None) -> Dashboard:
    """Everything on /me/ in a fixed number of queries (about a dozen)."""
    now = now or timezone.now()
    zone = learner_zone(profile)
    enrolments = list(active_enrolments(learner=learner).order_by("enrolled_at", "pk"))
    track_ids = [e.track_id for e in enrolments]
    tracks = {t.pk: t for t in tracks_with_items(track_ids)} if track_ids else {}
    progress = progress_by_resource(learner=learner, track_ids=track_ids) if track_ids else {}
    done = done_ids(progress)
    skipped = {rid for rid, row in progress.items() if row.status == ProgressStatus.SKIPPED}
    passed = passed_capstone_ids(learner=learner, track_ids=track_ids) if track_ids else set()

    completions = _completions_linked(tracks=tracks, done=done, passed=passed)
    rows = []
    for enrolment in enrolments:
        track = tracks[enrolment.track_id]
        enrolment.track = track
        completion = completions[track.pk]
        modules = list(track.modules.all())
        next_id = completion.next_resource_id([m.pk for m in modules], set_aside=skipped)
        next_resource = next_module = None
        for module in modules:
            for resource in module.resources.all():
                if resource.pk == next_id:
                    next_resource, next_module = resource, module
        rows.append(DashboardTrack(track, enrolment, completion, next_resource, next_module))

    today = timezone.localtime(now, zone).date()
    complete_modules = {
        module_id
        for row in rows
        for module_id, module in row.completion.modules.items()
        if module.complete
    }
    cohorts = standings_for(
        today_by_learner={learner.pk: today},
        complete_modules={learner.pk: complete_modules},
    ).get(learner.pk, [])
    active_days = _active_days(learner=learner, zone=zone)
    return Dashboard(
        profile=profile,
        zone=zone,
        today=today,
        tracks=rows,
        streak=weeks.current_streak(active_days, today=today),
        streak_counts_this_week=weeks.week_start(today)
        in {weeks.week_start(d) for d in active_days},
        activity=_recent_activity(learner=learner),
        certificates=list(Certificate.objects.filter(learner=learner).order_by("-issued_at")),
        cohorts=cohorts,
    )


def _completions_linked(
    *, tracks: dict[int, Track], done: set[int], passed: set[int]
) -> dict[int, TrackProgress]:
    """The learner's progress in each of their tracks (models with their items prefetched)."""
    links = {
        track_id: {
            resource.linked_track_id
            for module in track.modules.all()
            for resource in module.resources.all()
            if resource.linked_track_id is not None
        }
        for track_id, track in tracks.items()
    }
    return progress_with_links(tracks, links=links, done=done, passed=passed)


def _active_days(*, learner, zone) -> list[date]:
    """Mondays (in the learner's zone) of every week with a completion or a points award that
    still stands: one query, aggregated in the database."""
    completions = (
        Progress.objects.filter(
            learner=learner, status=ProgressStatus.DONE, completed_at__isnull=False
        )
        .annotate(week=TruncWeek("completed_at", tzinfo=zone))
        .order_by()
        .values_list("week", flat=True)
    )
    reversed_later = PointsEntry.objects.filter(
        learner=learner,
        kind=PointsKind.REVERSAL,
        source_key=OuterRef("source_key"),
        generation=OuterRef("generation"),
    )
    awards = (
        PointsEntry.objects.filter(learner=learner, kind=PointsKind.AWARD)
        .filter(~Exists(reversed_later))  # done then undone is no completion
        .annotate(week=TruncWeek("created_at", tzinfo=zone))
        .order_by()
        .values_list("week", flat=True)
    )
    return [_as_date(week, zone) for week in completions.union(awards)]


def _as_date(value, zone) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value, zone).date() if timezone.is_aware(value) else value.date()
    return value


# What a ledger entry shown on its own (its item's progress has changed again since) records:
# a resource is awarded when marked done and reversed when moved back from done.
_LEDGER_LABELS = {
    ("resource", PointsKind.AWARD): "Done",
    ("resource", PointsKind.REVERSAL): "Moved back from done",
    ("capstone", PointsKind.AWARD): "Passed",
    ("capstone", PointsKind.REVERSAL): "Points taken back",
}


def _removed_capstone_page(capstone) -> str:
    """The page of a capstone removed from its track (the learner's work on it stays there)."""
    if capstone is None or capstone.archived_at is None:
        return ""
    return reverse(
        "track:capstone_submission", kwargs={"slug": capstone.track.slug, "item": capstone.slug}
    )


def _recent_activity(*, learner) -> list[ActivityItem]:
    """The latest progress changes merged with the latest ledger entries; an award or reversal
    made by a progress change (same resource, same instant) is shown on that change."""
    changes = list(
        Progress.objects.filter(learner=learner)
        .select_related("resource", "track")
        .order_by("-updated_at", "-pk")[:RECENT_ACTIVITY]
    )
    entries = list(
        PointsEntry.objects.filter(learner=learner)
        .select_related("resource__track", "capstone__track")
        .order_by("-created_at", "-pk")[:RECENT_ACTIVITY]
    )
    points_at = {(e.resource_id, e.created_at): e.amount for e in entries if e.resource_id}
    items = [
        ActivityItem(
            when=row.updated_at,
            track=row.track,
            title=row.resource.title,
            anchor=f"#resource-{row.resource.slug}",
            status=row.get_status_display(),
            points=points_at.pop((row.resource_id, row.updated_at), None),
            current=row.resource.archived_at is None,
        )
        for row in changes
    ]
    for entry in entries:
        if entry.resource_id and (entry.resource_id, entry.created_at) not in points_at:
            continue  # already shown on its progress change
        source = entry.resource or entry.capstone
        prefix = "resource" if entry.resource_id else "capstone"
        items.append(
            ActivityItem(
                when=entry.created_at,
                track=source.track,
                title=source.title,
                anchor=f"#{prefix}-{source.slug}",
                status=_LEDGER_LABELS[(prefix, entry.kind)],
                points=entry.amount,
                current=source.archived_at is None,
                removed_page=_removed_capstone_page(entry.capstone),
            )
        )
    items.sort(key=lambda item: item.when, reverse=True)
    return items[:RECENT_ACTIVITY]


# --- pace plan ------------------------------------------------------------------------------


@dataclass
class PacePlanState:
    track: Track
    enrolment: Enrolment
    completion: TrackProgress
    modules: list[Module]
    today: date
    done_minutes: int
    projection: pace.Projection


def pace_plan_state(
    *, enrolment: Enrolment, profile: Profile, now: datetime | None = None
) -> PacePlanState:
    """The pace plan of one enrolment: its track's structure, the learner's progress and the
    projection (seven queries; four more when its resources stand for other tracks)."""
    learner, track_id = enrolment.learner_id, enrolment.track_id
    zone = learner_zone(profile)
    today = timezone.localtime(now or timezone.now(), zone).date()
    [track] = tracks_with_items([track_id])
    progress = progress_by_resource(learner=learner, track_ids=[track_id])
    handed_in = passed_capstones_handed_in(learner=learner, track_ids=[track_id])
    modules = list(track.modules.all())
    linked = followed_links(
        learner=learner,
        track_ids={
            resource.linked_track_id
            for module in modules
            for resource in module.resources.all()
            if resource.linked_track_id is not None
        },
        since=enrolment.enrolled_at + pace.CATCH_UP,
    )
    completion = track_progress(
        track=track,
        done_resource_ids=done_ids(progress),
        passed_capstone_ids=set(handed_in),
        linked_minutes_left=linked.minutes_left,
    )
    projection, done_minutes = plan_projection(
        modules=modules,
        completion=completion,
        progress=progress,
        enrolment=enrolment,
        zone=zone,
        today=today,
        capstones_handed_in=handed_in,
        linked_minutes_done=linked.minutes_done,
    )
    return PacePlanState(track, enrolment, completion, modules, today, done_minutes, projection)


@dataclass(frozen=True)
class CohortTrackPlan:
    """A cohort the learner is in that runs this track: their standing against its plan, and
    the day that plan has the track done."""

    standing: CohortStanding
    done_by: date


def cohort_plans_for_track(*, state: PacePlanState) -> list[CohortTrackPlan]:
    """The pace page's cohort section: a member's own plan measures them against the track's
    hints or their target date, their cohort against its plan, and the two could disagree
    with no word of the other (five queries; one when in no cohort)."""
    learner_id = state.enrolment.learner_id
    complete = {mid for mid, module in state.completion.modules.items() if module.complete}
    standings = standings_for(
        today_by_learner={learner_id: state.today}, complete_modules={learner_id: complete}
    ).get(learner_id, [])
    return [
        CohortTrackPlan(standing, standing.track_done_by[state.track.pk])
        for standing in standings
        if state.track.pk in standing.track_done_by
    ]


def plan_projection(
    *,
    modules: Sequence,
    completion: TrackProgress,
    progress: dict,
    enrolment: Enrolment,
    zone: zoneinfo.ZoneInfo,
    today: date,
    module_minutes: dict[int, int] | None = None,
    done_minutes: int | None = None,
    capstones_handed_in: dict[int, datetime] | None = None,
    linked_minutes_done: dict[int, int] | None = None,
) -> tuple[pace.Projection, int]:
    """An enrolment's pace projection and the minutes done since enrolling, from data already
    loaded (no queries): the track's `modules` (models with their items prefetched, or a
    structure's module nodes), its completion, and `progress` mapping resource id to anything
    with `status` and `completed_at`, and `capstones_handed_in` mapping each passed capstone
    to when its work was handed in. A resource standing for a track the learner follows counts
    that track's work done since (`linked_minutes_done`, by track) instead of its own estimate.
    Shared by the pace page and the weekly nudge, which loads many learners at once: it passes
    each module's total minutes, the same for all of them, as `module_minutes`, and the minutes
    done since catching up as `done_minutes` (then `progress` is not read)."""
    loads = []
    paced_from = enrolment.enrolled_at + pace.CATCH_UP
    count_done = done_minutes is None
    done_minutes = done_minutes or 0
    linked_minutes_done = linked_minutes_done or {}
    linked_counted = set()
    for module in modules:
        left = completion.modules[module.id]
        if module_minutes is not None:
            total_minutes = module_minutes[module.id]
        else:
            total_minutes = module_progress(
                module=module, done_resource_ids=set(), passed_capstone_ids=set()
            ).minutes_left
        loads.append(
            pace.ModuleLoad(
                module.id,
                module.title,
                module.hint_days,
                total_minutes,
                left.minutes_left,
                left.complete,
                left.open_capstones,
                left.total_units > 0,
            )
        )
        if not count_done:
            continue
        for resource in module.resources.all():
            if resource.linked_track_id in linked_minutes_done:
                if resource.linked_track_id not in linked_counted:
                    linked_counted.add(resource.linked_track_id)
                    done_minutes += linked_minutes_done[resource.linked_track_id]
                continue
            row = progress.get(resource.pk)
            if row and row.status == ProgressStatus.DONE and row.completed_at >= paced_from:
                done_minutes += (
                    DEFAULT_MINUTES_ESTIMATE if resource.minutes is None else resource.minutes
                )
        done_minutes += capstone_minutes_done(
            module.capstones.all(), capstones_handed_in or {}, since=paced_from
        )
    enrolled_on = timezone.localtime(enrolment.enrolled_at, zone).date()
    projection = pace.project(
        loads,
        today=today,
        enrolled_on=enrolled_on,
        planned_hours=enrolment.hours_per_week,
        target_date=enrolment.target_date,
        done_minutes=done_minutes,
    )
    return projection, done_minutes


# --- history --------------------------------------------------------------------------------


def points_by_week(
    *, learner, profile: Profile, now: datetime | None = None, count: int = weeks.HISTORY_WEEKS
):
    """Net points (awards minus reversals) per ISO week in the learner's zone, the last `count`
    weeks including empty ones, oldest first: one aggregate query."""
    zone = learner_zone(profile)
    today = timezone.localtime(now or timezone.now(), zone).date()
    first = weeks.week_start(today) - timedelta(weeks=count - 1)
    since = datetime.combine(first, time.min, tzinfo=zone)
    rows = (
        PointsEntry.objects.filter(learner=learner, created_at__gte=since)
        .annotate(week=TruncWeek("created_at", tzinfo=zone))
        .order_by()
        .values("week")
        .annotate(total=Sum("amount"))
    )
    totals = {_as_date(row["week"], zone): row["total"] for row in rows}
    return weeks.weekly_series(totals, today=today, weeks=count)
