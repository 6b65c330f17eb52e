"""Reads for the weekly nudge: who is due, what each email says (for a whole chunk of learners
in a fixed number of queries), and the nudge log.

`nudge_batch` is the heart of the speed budget: about fifteen queries whatever the number of
learners in the chunk (the email data is never read learner by learner).
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from curriculum.models import Module, Resource, Track
from tracker import pace, weeks
from tracker.completion import TrackProgress, modules_progress, track_progress
from tracker.models import (
    CapstoneSubmission,
    Enrolment,
    PointsEntry,
    PointsKind,
    Profile,
    Progress,
    ProgressStatus,
    ResourceNote,
    SubmissionStatus,
)
from tracker.selectors import plan_projection, tracks_with_items

from . import schedule
from .cohorts import CohortSection, cohort_sections
from .models import FINAL_STATUSES, BouncedAddress, DeliveryStatus, NudgeDelivery

NEXT_ITEMS_PER_TRACK = 3
REVISIT_ITEMS = 3
RECENT_DAYS = 7

# Reasons a learner gets no email, as the log shows them.
SKIP_NOT_ENROLLED = "Not enrolled in any track."
SKIP_UNSUBSCRIBED = "Weekly nudges are turned off in their profile."
SKIP_NO_ADDRESS = "No email address."
SKIP_INACTIVE = "Account deactivated."
SKIP_BOUNCED = "Their address was refused for good ({code}): nothing more is sent to it."


# --- who is due -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    learner_id: int
    week: str
    due_at: datetime


def _nudge_profiles() -> QuerySet[Profile]:
    return Profile.objects.filter(nudge_enabled=True, user__is_active=True)


def due_learners(*, start: datetime, end: datetime) -> list[Due]:
    """Learners whose nudge falls due in (start, end], each in their own time zone: one query
    for the zones in use, one for the learners (zones sharing the same due slots are grouped,
    so the query stays small however many zones there are)."""
    zone_names = list(_nudge_profiles().order_by().values_list("time_zone", flat=True).distinct())
    slots_by_zone = schedule.due_slots_by_zone(zone_names, start=start, end=end)
    zones_by_slots: dict[tuple, list[str]] = defaultdict(list)
    lookup: dict[tuple[str, int], schedule.DueSlot] = {}
    for name, slots in slots_by_zone.items():
        if slots:
            zones_by_slots[tuple(s.slot for s in slots)].append(name)
            for due in slots:
                lookup[(name, due.slot)] = due
    if not zones_by_slots:
        return []
    condition = Q()
    for slots, names in zones_by_slots.items():
        condition |= Q(time_zone__in=names, slot__in=slots)
    rows = (
        _nudge_profiles()
        .annotate(
            slot=F("nudge_weekday") * schedule.HOURS_PER_DAY + F("nudge_hour"),
        )
        .filter(condition)
        .order_by("user_id")
        .values_list("user_id", "time_zone", "slot")
    )
    found = []
    for user_id, zone, slot in rows:
        due = lookup[(zone, slot)]
        found.append(Due(user_id, due.week, due.due_at))
    return found


def learners_due_in_week(
    *, week: str, now: datetime, learner_ids: list[int] | None = None
) -> list[Due]:
    """Learners whose nudge for `week` is due by `now` (`send_nudges --week`); one query."""
    profiles = _nudge_profiles()
    if learner_ids is not None:
        profiles = profiles.filter(user_id__in=learner_ids)
    found = []
    for user_id, zone, weekday, hour in profiles.order_by("user_id").values_list(
        "user_id", "time_zone", "nudge_weekday", "nudge_hour"
    ):
        when = schedule.due_at(
            week=week, weekday=weekday, hour=hour, zone=schedule.zone_or_utc(zone)
        )
        if when <= now:
            found.append(Due(user_id, week, when))
    return found


def claimable_work(*, now: datetime, since: datetime) -> list[tuple[str, int]]:
    """(week, learner id) of rows that still need sending and are not too late: new rows,
    rows waiting for a retry whose time has come, rows whose claim lapsed."""
    from .outbox import claimable

    return list(
        NudgeDelivery.objects.filter(claimable(now), due_at__gt=since)
        .order_by("week", "learner_id")
        .values_list("week", "learner_id")
    )


def week_counts(*, week: str) -> dict[str, int]:
    """How many rows of `week` are in each state (for the benchmark and operations)."""
    counts = dict(
        NudgeDelivery.objects.filter(week=week)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in DeliveryStatus.values}


# --- what the email says --------------------------------------------------------------------


@dataclass
class NextItem:
    resource: Resource
    module: Module
    # >1 when this stands for a choice group (any one of them will do).
    choices: int = 1


@dataclass
class TrackNudge:
    track: Track
    enrolment: Enrolment
    completion: TrackProgress
    next_items: list[NextItem]
    projection: pace.Projection


@dataclass
class NudgeData:
    learner: object
    profile: Profile
    zone: zoneinfo.ZoneInfo
    today: date
    week: str
    tracks: list[TrackNudge] = field(default_factory=list)
    completions_recent: int = 0
    points_recent: int = 0
    streak: int = 0
    changes_requested: list[CapstoneSubmission] = field(default_factory=list)
    revisit: list[ResourceNote] = field(default_factory=list)
    cohort: CohortSection = field(default_factory=CohortSection)
    bounced: BouncedAddress | None = None

    @property
    def skip_reason(self) -> str | None:
        """Why this learner gets no email this week, or None."""
        if not self.learner.is_active:
            return SKIP_INACTIVE
        if not self.profile.nudge_enabled:
            return SKIP_UNSUBSCRIBED
        if not self.learner.email:
            return SKIP_NO_ADDRESS
        if self.bounced is not None:
            return SKIP_BOUNCED.format(code=self.bounced.code)
        if not self.tracks:
            return SKIP_NOT_ENROLLED
        return None


@dataclass
class _Row:
    status: str
    completed_at: datetime | None


class LocalWeekStart(Func):
    """The Monday (a date) of the ISO week holding a timestamp, in a time zone given per row."""

    output_field = DateField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="(DATE_TRUNC('week', %(expressions)s))::date",
            arg_joiner=" AT TIME ZONE ",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        # Django's own SQLite function behind TruncWeek, which takes the zone as an argument.
        return self.as_sql(
            compiler,
            connection,
            template="date(django_datetime_trunc('week', %(expressions)s, 'UTC'))",
            **extra,
        )


def _zone_by_learner(zones: dict[int, str]):
    """A per-row zone name for SQL, from names Python already validated."""
    by_zone: dict[str, list[int]] = defaultdict(list)
    for learner_id, name in zones.items():
        by_zone[name].append(learner_id)
    return Case(
        *[When(learner_id__in=ids, then=Value(name)) for name, ids in by_zone.items()],
        default=Value("UTC"),
        output_field=CharField(),
    )


def _active_weeks(*, zones: dict[int, str]) -> dict[int, list[date]]:
    """Mondays of every week with a completion, or a points award that still stands, per
    learner in their own zone: one query (the dashboard's streak rule, for many learners)."""
    learner_ids = list(zones)
    zone = _zone_by_learner(zones)
    completions = (
        Progress.objects.filter(
            learner_id__in=learner_ids, status=ProgressStatus.DONE, completed_at__isnull=False
        )
        .annotate(week=LocalWeekStart("completed_at", zone))
        .order_by()
        .values_list("learner_id", "week")
    )
    reversed_later = PointsEntry.objects.filter(
        learner_id=OuterRef("learner_id"),
        kind=PointsKind.REVERSAL,
        source_key=OuterRef("source_key"),
        generation=OuterRef("generation"),
    )
    awards = (
        PointsEntry.objects.filter(learner_id__in=learner_ids, kind=PointsKind.AWARD)
        .filter(~Exists(reversed_later))
        .annotate(week=LocalWeekStart("created_at", zone))
        .order_by()
        .values_list("learner_id", "week")
    )
    found: dict[int, list[date]] = defaultdict(list)
    for learner_id, week in completions.union(awards):
        found[learner_id].append(date.fromisoformat(week) if isinstance(week, str) else week)
    return found


@dataclass
class _TrackShape:
    """What every learner of a chunk shares about one track, worked out once per chunk."""

    track: Track
    modules: list[Module]
    module_minutes: dict[int, int]  # total required minutes per module
    located: dict[int, tuple[Resource, Module]]
    choice_sizes: dict[tuple[int, str], int]

    @classmethod
    def of(cls, track: Track) -> _TrackShape:
        modules = list(track.modules.all())
        located, sizes = {}, defaultdict(int)
        for module in modules:
            for resource in module.resources.all():
                located[resource.pk] = (resource, module)
                if resource.choice and not resource.optional:
                    sizes[(module.pk, resource.choice)] += 1
        empty = track_progress(track=track, done_resource_ids=set(), passed_capstone_ids=set())
        minutes = {module_id: m.minutes_left for module_id, m in empty.modules.items()}
        return cls(track, modules, minutes, located, dict(sizes))

    def next_items(self, completion: TrackProgress, skipped: set[int]) -> list[NextItem]:
        """The next unfinished required resources in track order (a choice group once, as its
        first member), passing over ones the learner skipped unless nothing else is left."""
        picked: list[NextItem] = []
        later: list[NextItem] = []
        seen_groups = set()
        for module in self.modules:
            for resource_id in completion.modules[module.pk].open_resource_ids:
                resource, _ = self.located[resource_id]
                choices = 1
                if resource.choice:
                    if (module.pk, resource.choice) in seen_groups:
                        continue
                    seen_groups.add((module.pk, resource.choice))
                    choices = self.choice_sizes.get((module.pk, resource.choice), 1)
                item = NextItem(resource, module, choices)
                (later if resource_id in skipped else picked).append(item)
                if len(picked) >= NEXT_ITEMS_PER_TRACK:
                    return picked
        return (picked + later)[:NEXT_ITEMS_PER_TRACK]


def nudge_batch(*, learner_ids: list[int], week: str, now: datetime) -> dict[int, NudgeData]:
    """Everything the nudges of these learners say, in a fixed number of queries (about
    fifteen) however many learners, tracks and progress rows there are."""
    users = list(
        get_user_model()
        .objects.filter(pk__in=learner_ids, profile__isnull=False)
        .select_related("profile")
    )
    if not users:
        return {}
    since = now - timedelta(days=RECENT_DAYS)
    data: dict[int, NudgeData] = {}
    zones: dict[int, str] = {}
    for user in users:
        zone = schedule.zone_or_utc(user.profile.time_zone)
        zones[user.pk] = zone.key
        data[user.pk] = NudgeData(
            learner=user,
            profile=user.profile,
            zone=zone,
            today=timezone.localtime(now, zone).date(),
            week=week,
        )
    ids = list(data)

    enrolments = list(
        Enrolment.objects.filter(
            learner_id__in=ids, left_at__isnull=True, track__archived_at__isnull=True
        ).order_by("learner_id", "enrolled_at", "pk")
    )
    track_ids = sorted({e.track_id for e in enrolments})
    shapes = {t.pk: _TrackShape.of(t) for t in tracks_with_items(track_ids)} if track_ids else {}
    progress: dict[int, dict[int, _Row]] = defaultdict(dict)
    if track_ids:
        for learner_id, resource_id, status, completed_at in Progress.objects.filter(
            learner_id__in=ids, track_id__in=track_ids
        ).values_list("learner_id", "resource_id", "status", "completed_at"):
            progress[learner_id][resource_id] = _Row(status, completed_at)
    passed: dict[int, set[int]] = defaultdict(set)
    for learner_id, capstone_id in CapstoneSubmission.objects.filter(
        learner_id__in=ids, status=SubmissionStatus.PASSED
    ).values_list("learner_id", "capstone_id"):
        passed[learner_id].add(capstone_id)

    for enrolment in enrolments:
        nudge = data[enrolment.learner_id]
        shape = shapes[enrolment.track_id]
        track = enrolment.track = shape.track
        rows = progress[enrolment.learner_id]
        done = {rid for rid, row in rows.items() if row.status == ProgressStatus.DONE}
        skipped = {rid for rid, row in rows.items() if row.status == ProgressStatus.SKIPPED}
        completion = modules_progress(
            track_id=track.pk,
            modules=shape.modules,
            done_resource_ids=done,
            passed_capstone_ids=passed[enrolment.learner_id],
        )
        projection, _ = plan_projection(
            modules=shape.modules,
            completion=completion,
            progress=rows,
            enrolment=enrolment,
            zone=nudge.zone,
            today=nudge.today,
            module_minutes=shape.module_minutes,
        )
        nudge.tracks.append(
            TrackNudge(
                track, enrolment, completion, shape.next_items(completion, skipped), projection
            )
        )

    for learner_id, count in (
        Progress.objects.filter(
            learner_id__in=ids, status=ProgressStatus.DONE, completed_at__gte=since
        )
        .order_by()
        .values("learner_id")
        .annotate(n=Count("pk"))
        .values_list("learner_id", "n")
    ):
        data[learner_id].completions_recent = count
    for learner_id, total in (
        PointsEntry.objects.filter(learner_id__in=ids, created_at__gte=since)
        .order_by()
        .values("learner_id")
        .annotate(total=Sum("amount"))
        .values_list("learner_id", "total")
    ):
        data[learner_id].points_recent = total or 0
    for learner_id, active in _active_weeks(zones=zones).items():
        nudge = data[learner_id]
        nudge.streak = weeks.current_streak(active, today=nudge.today)

    for submission in (
        CapstoneSubmission.objects.filter(
            learner_id__in=ids,
            status=SubmissionStatus.CHANGES_REQUESTED,
            capstone__archived_at__isnull=True,
            track__archived_at__isnull=True,
        )
        .select_related("capstone", "track")
        .order_by("learner_id", "reviewed_at", "pk")
    ):
        data[submission.learner_id].changes_requested.append(submission)

    for note in (
        ResourceNote.objects.filter(
            learner_id__in=ids,
            revisit=True,
            resource__archived_at__isnull=True,
            resource__track__archived_at__isnull=True,
        )
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("learner_id")],
                order_by=[F("updated_at").desc(), F("pk").desc()],
                output_field=IntegerField(),
            )
        )
        .filter(rank__lte=REVISIT_ITEMS)
        .select_related("resource__track")
        .order_by("learner_id", "rank")
    ):
        data[note.learner_id].revisit.append(note)

    emails = {user.email.lower() for user in users if user.email}
    bounced = {b.email: b for b in BouncedAddress.objects.filter(email__in=emails)}
    for nudge in data.values():
        nudge.bounced = bounced.get((nudge.learner.email or "").lower())

    for learner_id, section in cohort_sections(learner_ids=ids, now=now).items():
        data[learner_id].cohort = section
    return data


# --- the log --------------------------------------------------------------------------------


def nudge_log(
    *,
    learners: QuerySet | None,
    status: str = "",
    week: str = "",
    search: str = "",
) -> QuerySet[NudgeDelivery]:
    """Delivery rows, newest first, limited to `learners` (a queryset of visible users; None
    means all), filtered by status, week and a search on email or display name."""
    rows = NudgeDelivery.objects.select_related("learner__profile").order_by("-updated_at", "-id")
    if learners is not None:
        rows = rows.filter(learner__in=learners)
    if status:
        rows = rows.filter(status=status)
    if week:
        rows = rows.filter(week=week)
    if search:
        rows = rows.filter(
            Q(learner__email__icontains=search)
            | Q(learner__profile__display_name__icontains=search)
        )
    return rows


def nudge_log_weeks(*, limit: int = 12) -> list[str]:
    """The most recent weeks that have rows, for the log's week filter (one query)."""
    return list(
        NudgeDelivery.objects.order_by("-week").values_list("week", flat=True).distinct()[:limit]
    )


def nudge_profile(*, learner_id: int) -> Profile | None:
    return Profile.objects.filter(user_id=learner_id).first()


def deliveries_for(*, learner, limit: int = 8) -> list[NudgeDelivery]:
    return list(NudgeDelivery.objects.filter(learner=learner).order_by("-week")[:limit])


def is_final(status: str) -> bool:
    return status in FINAL_STATUSES
