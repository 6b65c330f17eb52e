"""Reads for the weekly nudge: who is due, what each email says (for a whole chunk of learners
in a fixed number of queries), and the nudge log.

`nudge_batch` is the heart of the speed budget: thirteen statements (four more when some of
the learners are in cohorts, one more when some follow a track another of their tracks stands
for) whatever the number of learners in the chunk (the email data is
never read learner by learner), the tracks' structure from the per-process cache
(`curriculum.structure`), and for each learner only the work their own progress calls for.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, F, IntegerField, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from curriculum.structure import (
    CACHE_SIZE,
    ModuleNode,
    ResourceNode,
    TrackStructure,
    track_structures,
)
from tracker import pace
from tracker.completion import (
    DEFAULT_MINUTES_ESTIMATE,
    TrackProgress,
    module_progress,
    track_progress,
    with_linked_tracks,
)
from tracker.models import (
    CapstoneSubmission,
    Enrolment,
    PointsEntry,
    Profile,
    Progress,
    ProgressStatus,
    ResourceNote,
    SubmissionStatus,
)
from tracker.selectors import capstone_minutes_done, plan_projection, track_minutes_done
from tracker.sql import id_list_aggregate, timestamp_plus
from tracker.sql import ids as gathered_ids

from . import schedule, streaks
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
# The reasons above as the learner reads them about themselves (their own nudge preview).
_AS_OWN = (("in their profile", "in your profile"), ("Their address", "Your address"))


def skip_reason_as_own(reason: str) -> str:
    for theirs, yours in _AS_OWN:
        reason = reason.replace(theirs, yours)
    return reason


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
    resource: ResourceNode
    module: ModuleNode
    # >1 when this stands for a choice group (any one of them will do).
    choices: int = 1
    # A resource standing for a track the learner follows: that track's time left (what the
    # pace page and /me/ count for it), instead of the resource's own estimate.
    linked_minutes_left: int | None = None


@dataclass
class TrackNudge:
    track: TrackStructure
    enrolment: Enrolment
    completion: TrackProgress
    next_items: list[NextItem]
    projection: pace.Projection
    # When no resource is left to do: the required capstones still to pass, in track order.
    capstones_next: list = field(default_factory=list)
    # Of those, the ones handed in and waiting for review (nothing for the learner to do).
    capstones_in_review: set[int] = field(default_factory=set)


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
    # A cohort admin's preview, narrowed to the cohort's tracks: the week's figures (counted
    # over all the learner's tracks) are left out of it, and it says so. Never set when sent.
    recent_left_out: bool = False

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


class _TrackPlan:
    """What every learner of a track shares, worked out once per structure version and kept
    in this process (the structure itself is cached per process: no query): each module's
    progress with nothing done, and where each resource sits."""

    def __init__(self, structure: TrackStructure):
        self.structure = structure
        self.empty = track_progress(
            track=structure, done_resource_ids=set(), passed_capstone_ids=set()
        )
        self.module_minutes = {mid: m.minutes_left for mid, m in self.empty.modules.items()}
        self.module_of = {r.id: m for m in structure.modules for r in m.resources}
        self.capstone_module = {c.id: m.id for m in structure.modules for c in m.capstones}
        self.capstones = [c for m in structure.modules for c in m.capstones]

    def progress(
        self, done: set[int], passed: set[int], linked: dict[int, int] | None = None
    ) -> TrackProgress:
        """The learner's progress: the completion rule runs only for modules where they did
        something or that stand for a track in `linked` (the others are as empty), the same
        answer as `track_progress`."""
        touched = {self.module_of[rid].id for rid in done if rid in self.module_of}
        touched.update(self.capstone_module[cid] for cid in passed if cid in self.capstone_module)
        if linked:
            touched.update(
                self.module_of[r.id].id
                for m in self.structure.modules
                for r in m.resources
                if r.linked_track_id in linked
            )
        if not touched:
            return self.empty
        modules = dict(self.empty.modules)
        for module in self.structure.modules:
            if module.id in touched:
                modules[module.id] = module_progress(
                    module=module,
                    done_resource_ids=done,
                    passed_capstone_ids=passed,
                    linked_minutes_left=linked,
                )
        return TrackProgress(self.structure.id, modules)

    def done_minutes(self, counted: set[int], linked_done: dict[int, int]) -> int:
        """Minutes of the (active) resources done since catching up after enrolling, as the
        pace page counts: a resource standing for a track in `linked_done` (one the learner
        follows) counts that track's work done since instead of its own estimate."""
        own = sum(
            DEFAULT_MINUTES_ESTIMATE if r.minutes is None else r.minutes
            for r in map(self.structure.resource, counted)
            if r is not None and r.linked_track_id not in linked_done
        )
        if not linked_done:
            return own
        return own + sum(
            linked_done[track_id]
            for track_id in self.structure.linked_track_ids
            if track_id in linked_done
        )

    def next_items(self, completion: TrackProgress, skipped: set[int]) -> list[NextItem]:
        """The next unfinished required resources in track order (a choice group once, as its
        first member), passing over ones the learner skipped unless nothing else is left."""
        picked: list[NextItem] = []
        later: list[NextItem] = []
        seen_groups = set()
        for module in self.structure.modules:
            for resource_id in completion.modules[module.id].open_resource_ids:
                resource = self.structure.resource(resource_id)
                choices = 1
                if resource.choice:
                    if (module.id, resource.choice) in seen_groups:
                        continue
                    seen_groups.add((module.id, resource.choice))
                    choices = resource.group.size if resource.group else 1
                item = NextItem(resource, module, choices)
                (later if resource_id in skipped else picked).append(item)
                if len(picked) >= NEXT_ITEMS_PER_TRACK:
                    return picked
        return (picked + later)[:NEXT_ITEMS_PER_TRACK]

    def open_capstones(self, passed: set[int]) -> list:
        """The required capstones not passed yet, in track order (the first few)."""
        return [
            capstone
            for module in self.structure.modules
            for capstone in module.capstones
            if not capstone.optional and capstone.id not in passed
        ][:NEXT_ITEMS_PER_TRACK]


_plans: dict[tuple[int, int], _TrackPlan] = {}


def _track_plan(structure: TrackStructure) -> _TrackPlan:
    key = (structure.id, structure.version)
    plan = _plans.get(key)
    if plan is None or plan.structure is not structure:
        if len(_plans) >= CACHE_SIZE:
            _plans.clear()
        plan = _plans[key] = _TrackPlan(structure)
    return plan


@dataclass
class _LearnerTrack:
    done: set[int] = field(default_factory=set)
    skipped: set[int] = field(default_factory=set)
    counted: set[int] = field(default_factory=set)  # done since catching up: the pace's


# Done and skipped resources of the learners' current enrolments, each done one flagged when it
# was finished after the catch-up day that follows enrolling (`pace.CATCH_UP`), gathered per learner, track and state into one list of ids
# (`{id_list}`: an array on PostgreSQL, text on SQLite): a chunk of 500 at full scale has
# about 120,000 such rows, which cost more to send and read one by one than to count. Plain
# SQL: the ORM has no relation from progress to enrolment.
_PROGRESS_SQL = """
SELECT p.learner_id, p.track_id,
       CASE WHEN p.status = %s THEN 0 WHEN p.completed_at >= {paced_from} THEN 2 ELSE 1 END,
       {id_list}(p.resource_id)
  FROM tracker_progress p
  JOIN tracker_enrolment e ON e.learner_id = p.learner_id AND e.track_id = p.track_id
 WHERE e.left_at IS NULL AND p.status IN (%s, %s) AND p.learner_id IN ({learners})
 GROUP BY 1, 2, 3
"""
_SKIPPED, _DONE_BEFORE, _DONE_SINCE = 0, 1, 2


def _progress_rows(learner_ids: list[int]) -> dict[tuple[int, int], _LearnerTrack]:
    found: dict[tuple[int, int], _LearnerTrack] = defaultdict(_LearnerTrack)
    sql = _PROGRESS_SQL.format(
        id_list=id_list_aggregate(),
        paced_from=timestamp_plus("e.enrolled_at", pace.CATCH_UP),
        learners=", ".join(["%s"] * len(learner_ids)),
    )
    params = [ProgressStatus.SKIPPED, ProgressStatus.SKIPPED, ProgressStatus.DONE, *learner_ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for learner_id, track_id, state, gathered in cursor.fetchall():
            rows = found[(learner_id, track_id)]
            resource_ids = gathered_ids(gathered)
            if state == _SKIPPED:
                rows.skipped.update(resource_ids)
            else:
                rows.done.update(resource_ids)
                if state == _DONE_SINCE:
                    rows.counted.update(resource_ids)
    return found


def _completions(
    enrolments: list[Enrolment],
    structures: dict[int, TrackStructure],
    progress: dict[tuple[int, int], _LearnerTrack],
    passed: dict[int, set[int]],
) -> dict[int, dict[int, TrackProgress]]:
    """Each learner's progress in each of their tracks, as the pace page counts it: a resource
    standing for another of their tracks counts that track's real time left."""
    empty = _LearnerTrack()
    by_learner: dict[int, dict[int, TrackProgress]] = defaultdict(dict)
    for enrolment in enrolments:
        rows = progress.get((enrolment.learner_id, enrolment.track_id), empty)
        plan = _track_plan(structures[enrolment.track_id])
        by_learner[enrolment.learner_id][enrolment.track_id] = plan.progress(
            rows.done, passed[enrolment.learner_id]
        )
    for learner_id, tracks in by_learner.items():
        if not any(structures[track_id].linked_track_ids for track_id in tracks):
            continue

        def recount(track_id: int, linked: dict[int, int], learner_id=learner_id):
            rows = progress.get((learner_id, track_id), empty)
            return _track_plan(structures[track_id]).progress(rows.done, passed[learner_id], linked)

        by_learner[learner_id] = with_linked_tracks(
            tracks,
            links={track_id: structures[track_id].linked_track_ids for track_id in tracks},
            recount=recount,
        )
    return by_learner


def _linked_minutes_done(
    enrolments: list[Enrolment],
    structures: dict[int, TrackStructure],
    handed_in: dict[int, dict[int, datetime]],
) -> dict[tuple[int, int], dict[int, int]]:
    """For each enrolment whose track has resources standing for tracks the learner follows:
    the minutes of each such track's work done since the learner could pace both (the later
    enrolment's catch-up day), as the pace page counts them (`followed_links`). One query,
    none when no learner in the chunk follows such a pair."""
    enrolled = {(e.learner_id, e.track_id): e.enrolled_at for e in enrolments}
    pairs = [
        (enrolment, linked_id)
        for enrolment in enrolments
        for linked_id in structures[enrolment.track_id].linked_track_ids
        if (enrolment.learner_id, linked_id) in enrolled
    ]
    if not pairs:
        return {}
    done_at: dict[int, dict[int, datetime]] = defaultdict(dict)
    for learner_id, resource_id, completed_at in Progress.objects.filter(
        learner_id__in={e.learner_id for e, _ in pairs},
        track_id__in={linked_id for _, linked_id in pairs},
        status=ProgressStatus.DONE,
    ).values_list("learner_id", "resource_id", "completed_at"):
        done_at[learner_id][resource_id] = completed_at
    found: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for enrolment, linked_id in pairs:
        learner_id = enrolment.learner_id
        since = max(enrolment.enrolled_at, enrolled[(learner_id, linked_id)]) + pace.CATCH_UP
        found[(learner_id, enrolment.track_id)][linked_id] = track_minutes_done(
            structures[linked_id],
            done_since={rid for rid, at in done_at[learner_id].items() if at and at >= since},
            handed_in=handed_in[learner_id],
            since=since,
        )
    return found


def nudge_batch(*, learner_ids: list[int], week: str, now: datetime) -> dict[int, NudgeData]:
    """Everything the nudges of these learners say, in a fixed number of queries (twelve and a
    SET LOCAL, four more when some are in cohorts, one more when some follow a track another of
    their tracks stands for, once this process holds the tracks' structures) however many
    learners, tracks, cohorts and progress rows there are."""
    users = list(
        get_user_model()
        .objects.filter(pk__in=learner_ids, profile__isnull=False)
        .select_related("profile")
    )
    if not users:
        return {}
    since = now - timedelta(days=RECENT_DAYS)
    data: dict[int, NudgeData] = {}
    for user in users:
        zone = schedule.zone_or_utc(user.profile.time_zone)
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
    structures = track_structures({e.track_id for e in enrolments}) if enrolments else {}
    progress = _progress_rows(ids) if enrolments else {}
    passed: dict[int, set[int]] = defaultdict(set)
    handed_in: dict[int, dict[int, datetime]] = defaultdict(dict)  # as the pace page reads it
    in_review: dict[int, set[int]] = defaultdict(set)
    for (
        learner_id,
        capstone_id,
        status,
        submitted,
        reviewed,
        created,
    ) in CapstoneSubmission.objects.filter(
        learner_id__in=ids, status__in=[SubmissionStatus.PASSED, SubmissionStatus.SUBMITTED]
    ).values_list(
        "learner_id", "capstone_id", "status", "submitted_at", "reviewed_at", "created_at"
    ):
        if status == SubmissionStatus.SUBMITTED:
            in_review[learner_id].add(capstone_id)
            continue
        passed[learner_id].add(capstone_id)
        handed_in[learner_id][capstone_id] = submitted or reviewed or created

    empty = _LearnerTrack()
    enrolments = [e for e in enrolments if e.track_id in structures]  # none deleted since
    completions = _completions(enrolments, structures, progress, passed)
    linked_done = _linked_minutes_done(enrolments, structures, handed_in)
    for enrolment in enrolments:
        structure = structures[enrolment.track_id]
        plan = _track_plan(structure)
        nudge = data[enrolment.learner_id]
        rows = progress.get((enrolment.learner_id, enrolment.track_id), empty)
        completion = completions[enrolment.learner_id][enrolment.track_id]
        projection, _ = plan_projection(
            modules=structure.modules,
            completion=completion,
            progress={},
            enrolment=enrolment,
            zone=nudge.zone,
            today=nudge.today,
            module_minutes=plan.module_minutes,
            done_minutes=plan.done_minutes(
                rows.counted, linked_done.get((enrolment.learner_id, enrolment.track_id), {})
            )
            + capstone_minutes_done(
                plan.capstones,
                handed_in[enrolment.learner_id],
                since=enrolment.enrolled_at + pace.CATCH_UP,
            ),
        )
        next_items = plan.next_items(completion, rows.skipped)
        followed = completions[enrolment.learner_id]
        for item in next_items:
            if item.resource.linked_track_id in followed:
                item.linked_minutes_left = followed[item.resource.linked_track_id].minutes_left
        nudge.tracks.append(
            TrackNudge(
                structure,
                enrolment,
                completion,
                next_items,
                projection,
                [] if next_items else plan.open_capstones(passed[enrolment.learner_id]),
                in_review[enrolment.learner_id],
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
    for learner_id, streak in streaks.streaks(
        zones={i: nudge.zone.key for i, nudge in data.items()},
        today={i: nudge.today for i, nudge in data.items()},
    ).items():
        data[learner_id].streak = streak

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

    sections = cohort_sections(
        today_by_learner={i: nudge.today for i, nudge in data.items()},
        complete_modules={
            i: {
                module_id
                for item in nudge.tracks
                for module_id, module in item.completion.modules.items()
                if module.complete
            }
            for i, nudge in data.items()
        },
    )
    for learner_id, section in sections.items():
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
