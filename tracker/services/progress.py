"""Every write to learner state. Views, tasks, commands and admin actions call these.

Keyword-only, typed, atomic. The points ledger is append-only: an award and its reversal are
rows; `Profile.points_total` is kept in step in the same transaction.

Resources of kind track follow their track: whatever completes a track for a learner (a
status change here, a capstone passing) marks done, in the same transaction, every resource
that stands for it, and whatever makes it incomplete again sets them back (points reversed).
Learners never set their status themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from curriculum.models import Capstone, Resource, ResourceKind, Track
from curriculum.structure import TrackStructure, structure_of, track_structure

from .. import permissions, selectors
from ..completion import TrackProgress, module_progress, track_progress
from ..models import (
    Certificate,
    Enrolment,
    PointsEntry,
    PointsKind,
    Profile,
    Progress,
    ProgressStatus,
    WeeklyCompletions,
)
from ..sql import Statement, model_columns, statement_cursor
from .totals import (
    EnrolmentTotalsChange,
    enrolment_totals_after_change,
    enrolment_totals_refresh,
    enrolment_totals_settle,
)
from .weekly import weekly_completions_moved, weekly_weeks_moved


class ServiceError(Exception):
    """Bad input a person can act on; the message says what and where."""


class NotAllowed(ServiceError):
    """The person asking may not do this (the permission module said no)."""


class NotEnrolled(NotAllowed):
    """The learner must be enrolled in `track` to do this; the message says so."""

    def __init__(self, track: Track, doing: str):
        self.track = track
        super().__init__(f"Enrol in {track.title} to {doing}.")


# --- profiles -------------------------------------------------------------------------------


def profile_get_or_create(*, user) -> Profile:
    try:
        return user.profile
    except Profile.DoesNotExist:
        pass
    profile, _ = Profile.objects.get_or_create(user=user)
    user.profile = profile
    return profile


# --- enrolment ------------------------------------------------------------------------------


@transaction.atomic
def enrolment_join(*, learner, track: Track, now: datetime | None = None) -> Enrolment:
    """Enrol (or re-enrol after leaving). Enrolling twice changes nothing."""
    if track.archived_at is not None:
        raise ServiceError(f"The track '{track.title}' is archived and takes no new learners.")
    profile_get_or_create(user=learner)
    enrolment, created = Enrolment.objects.select_for_update().get_or_create(
        learner=learner, track=track, defaults={"enrolled_at": now or timezone.now()}
    )
    if not created and enrolment.left_at is not None:
        enrolment.left_at = None
        enrolment.save(update_fields=["left_at"])
    linked_resources_sync(learner=learner, track=track, now=now)
    # Progress made before (or while away) counts from the first page view.
    return enrolment_totals_refresh(learner_id=learner.pk, track_id=track.pk) or enrolment


@transaction.atomic
def enrolment_leave(*, learner, track: Track, now: datetime | None = None) -> None:
    """Leave a track. Progress, notes and points stay: enrolling again picks them up."""
    Enrolment.objects.filter(learner=learner, track=track, left_at__isnull=True).update(
        left_at=now or timezone.now()
    )


# --- points ---------------------------------------------------------------------------------
#
# Every write to a learner's points first locks their profile row (SELECT ... FOR UPDATE), so
# a learner's awards and reversals happen one at a time: two tabs clicking done at once queue
# up, and the second sees the first's award. The unique constraint on the ledger stays as the
# last line of defence.


# The lock, written out (tracker.sql): it opens every status change. With the enrolment
# rule's EXISTS, or without.
_PROFILE_COLUMNS = model_columns(Profile, "profile")
_LOCK = Statement(
    f"SELECT {_PROFILE_COLUMNS} FROM {{profile}} profile WHERE user_id = %s{{for_update}}",
    profile=Profile,
)
_LOCK_ENROLLED = Statement(
    f"""
SELECT {_PROFILE_COLUMNS}, EXISTS (
         SELECT 1 FROM {{enrolment}} enrolment
          WHERE enrolment.learner_id = profile.user_id AND enrolment.track_id = %s
            AND enrolment.left_at IS NULL) AS enrolled
  FROM {{profile}} profile WHERE user_id = %s{{for_update}}
""",
    profile=Profile,
    enrolment=Enrolment,
)


def _profile_locked(*, user, enrolled_in: int | None = None) -> Profile:
    """The user's profile, locked until the transaction ends (created if missing). The locked
    copy is cached on `user`, so its `points_total` is the truth for the rest of the request.
    With `enrolled_in` (a track id) the same statement reads whether the user is enrolled
    there (`profile.enrolled`): one round trip for the lock and the enrolment rule."""
    with_enrolment = enrolled_in is not None
    statement = _LOCK_ENROLLED if with_enrolment else _LOCK
    params = [enrolled_in, user.pk] if with_enrolment else [user.pk]
    found = statement.instances(Profile, params)
    if not found:
        Profile.objects.bulk_create([Profile(user=user)], ignore_conflicts=True)
        found = statement.instances(Profile, params)
    profile = found[0]
    if with_enrolment:
        profile.enrolled = bool(profile.enrolled)  # SQLite answers 0 or 1
    profile.user = user  # cached both ways: no query for profile.user / user.profile
    user.profile = profile
    return profile


def _source(resource: Resource | None, capstone: Capstone | None) -> str:
    if (resource is None) == (capstone is None):
        raise ValueError("exactly one of resource and capstone")
    return f"resource:{resource.pk}" if resource is not None else f"capstone:{capstone.pk}"


# The ledger's writes are single statements: the award or reversal is inserted only when the
# source's latest generation allows it, with its generation (and, for a reversal, its amount)
# worked out by the database in the same statement. One round trip where reading the latest
# entry and then inserting took two; the profile lock keeps a learner's writes in order.
# They run prepared (tracker.sql), so a parameter in a SELECT list, where PostgreSQL cannot
# tell its type, is cast.
_AWARD_SQL = """
INSERT INTO {table} (learner_id, kind, amount, source_key, generation, resource_id,
                     capstone_id, created_at)
SELECT %(learner)s, CAST(%(award)s AS VARCHAR), %(amount)s, CAST(%(source)s AS VARCHAR),
       COALESCE((SELECT MAX(generation) FROM {table}
                 WHERE learner_id = %(learner)s AND source_key = %(source)s), 0) + 1,
       CAST(%(resource)s AS BIGINT), CAST(%(capstone)s AS BIGINT), %(now)s
WHERE NOT EXISTS ({standing})
RETURNING amount
"""
_REVERSAL_SQL = """
INSERT INTO {table} (learner_id, kind, amount, source_key, generation, resource_id,
                     capstone_id, created_at)
SELECT standing.learner_id, CAST(%(reversal)s AS VARCHAR), -standing.amount, standing.source_key,
       standing.generation, standing.resource_id, standing.capstone_id, %(now)s
FROM ({standing}) standing
RETURNING amount
"""
# The source's award that no reversal of its generation undid (at most one: the constraint
# allows one award and one reversal per generation, and a new generation needs a reversal).
_STANDING_SQL = """
SELECT award.learner_id, award.amount, award.source_key, award.generation,
       award.resource_id, award.capstone_id
FROM {table} award
WHERE award.learner_id = %(learner)s AND award.source_key = %(source)s
  AND award.kind = %(award)s
  AND NOT EXISTS (SELECT 1 FROM {table} later
                  WHERE later.learner_id = award.learner_id
                    AND later.source_key = award.source_key
                    AND later.generation = award.generation
                    AND later.kind = %(reversal)s)
"""


# PostgreSQL appends the entry and keeps the running total in step in the same statement (a
# data-modifying WITH); elsewhere (SQLite) the total is a second statement.
_WITH_TOTAL_SQL = """
WITH entry AS ({entry})
UPDATE {profile} SET points_total = points_total + entry.amount
FROM entry WHERE user_id = %(learner)s
RETURNING entry.amount
"""


# A status change that awards or reverses points writes its progress row in the same
# statement on PostgreSQL (data-modifying WITHs run together, on one snapshot): the row, the
# ledger entry, the running total, the weekly counts and the enrolment's figures in one round
# trip. The enrolment only matches while its stored required units are the ones the figures
# were counted against (`enrolment_totals_after_change` says why).
_PROGRESS_INSERT_SQL = """
INSERT INTO {progress} (learner_id, resource_id, track_id, status, started_at, completed_at,
                        updated_at)
VALUES (%(learner)s, %(p_resource)s, %(p_track)s, %(p_status)s, %(p_started)s, %(p_completed)s,
        %(p_updated)s)
RETURNING id
"""
_PROGRESS_UPDATE_SQL = """
UPDATE {progress} SET status = %(p_status)s, started_at = %(p_started)s,
       completed_at = %(p_completed)s, updated_at = %(p_updated)s
WHERE id = %(p_id)s
RETURNING id
"""
_WITH_PROGRESS_AND_TOTAL_SQL = """
WITH progress AS ({progress}),
     entry AS ({entry}),
     total AS (UPDATE {profile} SET points_total = points_total + entry.amount
               FROM entry WHERE user_id = %(learner)s RETURNING entry.amount),
     week_left AS (UPDATE {weekly} SET completions = completions - 1
                   WHERE learner_id = %(learner)s AND track_id = %(p_track)s
                     AND week = %(w_removed)s::date AND completions > 0
                   RETURNING 1),
     week_entered AS (INSERT INTO {weekly} (learner_id, track_id, week, completions)
                      SELECT %(learner)s, %(p_track)s, %(w_added)s::date, 1
                      WHERE %(w_added)s::date IS NOT NULL
                      ON CONFLICT (learner_id, track_id, week)
                      DO UPDATE SET completions = {weekly}.completions + 1
                      RETURNING 1),
     enrolment AS (UPDATE {enrolment}
                      SET done_units = %(e_done_units)s, modules_done = %(e_modules_done)s,
                          module_units = %(e_module_units)s,
                          points = points + COALESCE((SELECT amount FROM entry), 0),
                          last_activity_at = GREATEST(COALESCE(last_activity_at, %(now)s),
                                                      %(now)s)
                    WHERE learner_id = %(learner)s AND track_id = %(p_track)s
                      AND required_units = %(e_required_units)s
                   RETURNING 1)
SELECT (SELECT id FROM progress), (SELECT amount FROM total), (SELECT count(*) FROM enrolment)
"""


def _progress_params(progress: Progress) -> dict:
    adapt = connection.ops.adapt_datetimefield_value
    return {
        "p_id": progress.pk,
        "p_resource": progress.resource_id,
        "p_track": progress.track_id,
        "p_status": progress.status,
        "p_started": adapt(progress.started_at),
        "p_completed": adapt(progress.completed_at),
        "p_updated": adapt(progress.updated_at),
    }


def _ledger_write(
    sql: str,
    *,
    profile: Profile,
    resource,
    capstone,
    now,
    amount=0,
    progress: Progress | None = None,
    completed_before: datetime | None = None,
    totals: EnrolmentTotalsChange | None = None,
) -> int:
    """Run one of the ledger statements and keep the (locked) profile's total in step: one
    round trip on PostgreSQL, which also writes `progress` when given, with the weekly
    completion counts it moves (`completed_before` is when it was done before this change;
    saved with the ORM first elsewhere) and the enrolment's figures `totals` (marked written,
    or not, there; left for the caller elsewhere). Returns the change in points (0 when the
    ledger already stood as asked)."""
    table = connection.ops.quote_name(PointsEntry._meta.db_table)
    entry = sql.format(table=table, standing=_STANDING_SQL.format(table=table)).strip()
    with_total = connection.vendor == "postgresql"
    profile_table = connection.ops.quote_name(Profile._meta.db_table)
    if with_total and progress is not None:
        write = _PROGRESS_INSERT_SQL if progress.pk is None else _PROGRESS_UPDATE_SQL
        # The cohort charts' weekly completion counts move in the same statement.
        entry = _WITH_PROGRESS_AND_TOTAL_SQL.format(
            progress=write.format(
                progress=connection.ops.quote_name(Progress._meta.db_table)
            ).strip(),
            entry=entry,
            profile=profile_table,
            weekly=connection.ops.quote_name(WeeklyCompletions._meta.db_table),
            enrolment=connection.ops.quote_name(Enrolment._meta.db_table),
        )
    elif with_total:
        entry = _WITH_TOTAL_SQL.format(entry=entry, profile=profile_table)
    elif progress is not None:
        _progress_save(progress)
        weekly_completions_moved(
            learner_id=profile.user_id,
            track_id=progress.track_id,
            removed=completed_before,
            added=progress.completed_at,
        )
    params = {
        "learner": profile.user_id,
        "source": _source(resource, capstone),
        "resource": resource.pk if resource is not None else None,
        "capstone": capstone.pk if capstone is not None else None,
        "amount": amount,
        "now": connection.ops.adapt_datetimefield_value(now),
        "award": PointsKind.AWARD,
        "reversal": PointsKind.REVERSAL,
    }
    combined = with_total and progress is not None
    if combined:
        params.update(_progress_params(progress))
        params.update(weekly_weeks_moved(removed=completed_before, added=progress.completed_at))
        params.update({f"e_{name}": value for name, value in totals.units.items()})
        params["e_module_units"] = connection.ops.adapt_json_value(params["e_module_units"], None)
    with statement_cursor() as cursor:
        cursor.execute(entry, params)
        row = cursor.fetchone()
    if combined:
        progress.pk = row[0]
        progress._state.adding = False
        progress._state.db = Progress.objects.db
        totals.matched = bool(row[2])
        row = (row[1],)
    if row is None or not row[0]:
        return 0
    profile.points_total += row[0]
    if not with_total:
        profile.save(update_fields=["points_total"])
    return row[0]


def _award(
    *,
    profile: Profile,
    amount: int,
    resource,
    capstone,
    now,
    progress=None,
    completed_before=None,
    totals=None,
) -> int:
    if amount < 0:
        raise ValueError("an award is never negative")
    return _ledger_write(
        _AWARD_SQL,
        profile=profile,
        resource=resource,
        capstone=capstone,
        now=now,
        amount=amount,
        progress=progress,
        completed_before=completed_before,
        totals=totals,
    )


def _reverse(
    *, profile: Profile, resource, capstone, now, progress=None, completed_before=None, totals=None
) -> int:
    return _ledger_write(
        _REVERSAL_SQL,
        profile=profile,
        resource=resource,
        capstone=capstone,
        now=now,
        progress=progress,
        completed_before=completed_before,
        totals=totals,
    )


@transaction.atomic
def points_award(
    *,
    learner,
    amount: int,
    resource: Resource | None = None,
    capstone: Capstone | None = None,
    now: datetime | None = None,
) -> int:
    """Award a source's points unless its latest generation is already awarded. Returns the
    change (the source's enrolment's points move with it)."""
    change = _award(
        profile=_profile_locked(user=learner),
        amount=amount,
        resource=resource,
        capstone=capstone,
        now=now or timezone.now(),
    )
    _enrolment_points_move(learner=learner, source=resource or capstone, change=change)
    return change


@transaction.atomic
def points_reverse(
    *,
    learner,
    resource: Resource | None = None,
    capstone: Capstone | None = None,
    now: datetime | None = None,
) -> int:
    """Reverse the standing award of a source, exactly what it awarded. Returns the change
    (the source's enrolment's points move with it)."""
    change = _reverse(
        profile=_profile_locked(user=learner),
        resource=resource,
        capstone=capstone,
        now=now or timezone.now(),
    )
    _enrolment_points_move(learner=learner, source=resource or capstone, change=change)
    return change


def _enrolment_points_move(*, learner, source, change: int) -> None:
    if change:
        Enrolment.objects.filter(learner=learner, track_id=source.track_id).update(
            points=F("points") + change
        )


# --- progress -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackStanding:
    """The learner's standing in the changed resource's track as the write found and left it:
    enough to answer the click (module and track progress, soft locks, the certificate)
    without reading the track again."""

    structure: TrackStructure
    done_before: frozenset[int]
    done_after: frozenset[int]
    passed: frozenset[int]
    certificate: Certificate | None  # the track's certificate after the change, if any
    # The track's progress after the change, when the write worked it out (a done click).
    completion: TrackProgress | None = None


@dataclass(frozen=True)
class ProgressChange:
    progress: Progress
    previous_status: str
    points_delta: int
    # The certificate this change issued (None when it issued none, or one existed already).
    certificate: Certificate | None
    # Resources of kind track this change completed or set back, in the order it did.
    linked: tuple[ProgressChange, ...] = ()
    standing: TrackStanding | None = None

    @property
    def changed(self) -> bool:
        return self.previous_status != self.progress.status


@transaction.atomic
def progress_set_status(
    *, learner, resource: Resource, status: str, now: datetime | None = None
) -> ProgressChange:
    """Set a learner's status on a resource. Done awards the resource's points once; leaving
    done reverses them; skipped earns nothing. Repeating a status changes nothing. Resources
    of kind track that stand for this resource's track follow its completion.

    An ordinary change runs four statements on PostgreSQL: the profile lock (which reads the
    enrolment the rule asks for), the learner's standing in the track (this resource's row,
    their done resources, passed capstones and certificate), the progress write, and the
    ledger entry with the profile's total (two statements elsewhere). The track's
    structure comes from the cache (`curriculum.structure`), read at the version of the
    resource's track row when the caller loaded it (`select_related("track")`)."""
    if status not in ProgressStatus.values:
        raise ServiceError(
            f"Unknown status '{status}' (expected one of {', '.join(ProgressStatus.values)})."
        )
    if resource.archived_at is not None:
        raise ServiceError(
            f"'{resource.title}' was removed from its track; its progress can no longer change."
        )
    if resource.kind == ResourceKind.TRACK:
        raise ServiceError(
            f"'{resource.title}' is done when you complete the track it stands for; "
            "log your progress in that track."
        )
    profile = _profile_locked(user=learner, enrolled_in=resource.track_id)
    if not permissions.can_log_progress(learner, resource, enrolled=profile.enrolled):
        raise NotEnrolled(resource.track, "log your progress")
    now = now or timezone.now()
    return _status_write(profile=profile, resource=resource, status=status, now=now, seen=())


def _structure_of(resource: Resource) -> TrackStructure:
    """The resource's track structure: no query when its track row came with it."""
    if Resource.track.is_cached(resource):
        return structure_of(resource.track)
    return track_structure(resource.track_id)


_PROGRESS_FIELDS = ["status", "started_at", "completed_at", "updated_at"]


def _progress_save(progress: Progress) -> None:
    if progress.pk is None:
        progress.save()
    else:
        progress.save(update_fields=_PROGRESS_FIELDS)


def _status_write(
    *, profile: Profile, resource: Resource, status: str, now: datetime, seen: tuple[int, ...]
) -> ProgressChange:
    """The write behind a status change (the profile is locked), then what follows from it for
    the resource's track: its certificate, and the resources of kind track that stand for it.
    `seen` holds the tracks already being followed, so a cycle can never recurse."""
    learner = profile.user
    structure = _structure_of(resource)
    state = selectors.learner_track_state(
        learner=learner, track_id=resource.track_id, resource_id=resource.pk
    )
    progress = state.progress
    if progress is None:  # no race: this learner's writes queue on the profile lock
        progress = Progress(
            learner=learner,
            resource=resource,
            track_id=resource.track_id,
            status=ProgressStatus.NOT_STARTED,
            updated_at=now,
        )
    else:
        progress.resource = resource
    previous = progress.status
    was_completed_at = progress.completed_at if previous == ProgressStatus.DONE else None
    if previous == status and progress.pk is not None:
        standing = TrackStanding(
            structure, state.done_ids, state.done_ids, state.passed_ids, state.certificate
        )
        return ProgressChange(progress, previous, 0, None, standing=standing)

    progress.status = status
    progress.updated_at = now
    if status == ProgressStatus.IN_PROGRESS and progress.started_at is None:
        progress.started_at = now
    if status == ProgressStatus.DONE:
        progress.completed_at = now
        progress.started_at = progress.started_at or now
    else:
        progress.completed_at = None
    # A change that awards or reverses points writes the row with the ledger entry.
    with_ledger = status == ProgressStatus.DONE or previous == ProgressStatus.DONE
    # (It also moves the cohort charts' weekly completion counts: only a change into or out of
    # "done" does, and those always go with the ledger.)
    if not with_ledger:
        _progress_save(progress)

    if status == ProgressStatus.DONE:
        done_after = state.done_ids | {resource.pk}
    else:
        done_after = state.done_ids - {resource.pk}
    completion = track_progress(
        track=structure, done_resource_ids=done_after, passed_capstone_ids=state.passed_ids
    )
    # The enrolment's figures: written with the ledger's statement where it can, else below.
    totals = EnrolmentTotalsChange(
        learner_id=learner.pk, track_id=resource.track_id, completion=completion, now=now
    )
    delta = 0
    issued_now = None
    certificate = state.certificate
    linked: list[ProgressChange] = []
    if status == ProgressStatus.DONE:
        delta = _award(
            profile=profile,
            amount=resource.points,
            resource=resource,
            capstone=None,
            now=now,
            progress=progress,
            completed_before=was_completed_at,
            totals=totals,
        )
        certificate, issued = _track_done_check(
            learner=learner,
            track_id=resource.track_id,
            now=now,
            seen=seen,
            linked=linked,
            profile=profile,
            known=(structure, done_after, state.passed_ids, state.certificate, completion),
        )
        issued_now = certificate if issued else None
    elif previous == ProgressStatus.DONE:
        delta = _reverse(
            profile=profile,
            resource=resource,
            capstone=None,
            now=now,
            progress=progress,
            completed_before=was_completed_at,
            totals=totals,
        )
        if _was_complete(structure, resource, state):  # only then can linked ones be done
            _track_undone_check(
                profile=profile, track_id=resource.track_id, now=now, seen=seen, linked=linked
            )
    enrolment_totals_settle(totals, points_delta=delta)
    standing = TrackStanding(
        structure, state.done_ids, done_after, state.passed_ids, certificate, completion
    )
    return ProgressChange(progress, previous, delta, issued_now, tuple(linked), standing)


def _was_complete(structure: TrackStructure, resource: Resource, state) -> bool:
    """Whether the track was complete before this change: its module first (the usual no
    settles it there), then the whole track."""
    home = structure.module(resource.module_id)
    if (
        home is not None
        and not module_progress(
            module=home, done_resource_ids=state.done_ids, passed_capstone_ids=state.passed_ids
        ).complete
    ):
        return False
    return track_progress(
        track=structure, done_resource_ids=state.done_ids, passed_capstone_ids=state.passed_ids
    ).complete


# --- resources of kind track ----------------------------------------------------------------


def _linked_resources(track_id: int, *, learner_id: int):
    """Active resources of kind track, in active modules of active tracks the learner is
    enrolled in, standing for `track_id` (filtered on the indexed `linked_track_id`). A track
    the learner is not in gets no progress and no points from it: enrolling there brings it
    in line (`linked_resources_sync`)."""
    return (
        Resource.objects.active()
        .filter(
            linked_track_id=track_id,
            module__archived_at__isnull=True,
            track__archived_at__isnull=True,
            track__enrolments__learner_id=learner_id,
            track__enrolments__left_at__isnull=True,
        )
        .select_related("track")
    )


def _follow(
    *,
    profile: Profile,
    resources: list[Resource],
    status: str,
    now: datetime,
    seen: tuple[int, ...],
    linked: list[ProgressChange],
) -> None:
    for resource in resources:
        change = _status_write(
            profile=profile, resource=resource, status=status, now=now, seen=seen
        )
        if change.changed:
            linked.append(change)
            linked.extend(change.linked)


def _track_done_check(
    *,
    learner,
    track_id: int,
    now: datetime,
    seen: tuple[int, ...],
    linked: list,
    profile: Profile | None = None,
    known: tuple | None = None,
) -> tuple[Certificate | None, bool]:
    """After something in the track became done or passed: issue the certificate and complete
    the resources standing for the track, if it is now complete. (certificate, issued now)
    `profile` is the learner's locked profile when the caller holds it (locked here if not);
    `known` is (structure, done ids, passed ids, certificate, completion) when the caller
    worked them out (else two queries read them)."""
    if known is None:
        structure = track_structure(track_id)
        state = selectors.learner_track_state(learner=learner, track_id=track_id)
        known = (structure, state.done_ids, state.passed_ids, state.certificate, None)
    structure, done, passed, existing, completion = known
    if completion is None:
        completion = track_progress(
            track=structure, done_resource_ids=done, passed_capstone_ids=passed
        )
    if not completion.complete:
        return existing, False  # the usual case mid-track: settled without a query
    certificate, issued = existing, False
    if existing is None:
        certificate, issued = _certificate_create(
            learner=learner,
            structure=structure,
            completion=completion,
            resources_done=sum(1 for rid in done if structure.resource(rid) is not None),
            capstones_passed=len(passed),
            now=now,
        )
    if track_id not in seen:
        resources = list(_linked_resources(track_id, learner_id=learner.pk))
        if resources:
            _follow(
                profile=profile or _profile_locked(user=learner),
                resources=resources,
                status=ProgressStatus.DONE,
                now=now,
                seen=(*seen, track_id),
                linked=linked,
            )
    return certificate, issued


def _track_undone_check(
    *, profile: Profile, track_id: int, now: datetime, seen: tuple[int, ...], linked: list
) -> None:
    """After something in the track left done: if resources standing for the track are done
    for this learner and the track is no longer complete, set them back to in progress."""
    if track_id in seen:
        return
    standing = list(
        _linked_resources(track_id, learner_id=profile.user_id).filter(
            progress__learner=profile.user, progress__status=ProgressStatus.DONE
        )
    )
    if not standing:
        return
    completion = selectors.learner_track_completion_lean(learner=profile.user, track_id=track_id)
    if completion.complete:
        return
    _follow(
        profile=profile,
        resources=standing,
        status=ProgressStatus.IN_PROGRESS,
        now=now,
        seen=(*seen, track_id),
        linked=linked,
    )


@transaction.atomic
def linked_resources_sync(*, learner, track: Track, now: datetime | None = None) -> list:
    """Bring the learner's resources of kind track in `track` in line with the tracks they
    stand for (done when that track is complete, else not done). Enrolling runs it, so a track
    finished before this one named it counts. Returns the changes made."""
    now = now or timezone.now()
    resources = list(
        Resource.objects.active().filter(
            track=track, kind=ResourceKind.TRACK, module__archived_at__isnull=True
        )
    )
    if not resources:
        return []
    profile = _profile_locked(user=learner)
    done = set(
        Progress.objects.filter(
            learner=learner, resource__in=resources, status=ProgressStatus.DONE
        ).values_list("resource_id", flat=True)
    )
    changes: list[ProgressChange] = []
    for resource in resources:
        complete = selectors.learner_track_completion_lean(
            learner=learner, track_id=resource.linked_track_id
        ).complete
        if complete != (resource.pk in done):
            status = ProgressStatus.DONE if complete else ProgressStatus.IN_PROGRESS
            _follow(
                profile=profile,
                resources=[resource],
                status=status,
                now=now,
                seen=(resource.linked_track_id,),
                linked=changes,
            )
    return changes


def linked_resources_sync_enrolled(*, track_slugs: list[str] | None = None) -> tuple[int, int]:
    """`linked_resources_sync` for every active enrolment in the active tracks (or the named
    ones) that have resources of kind track, one learner at a time (each in its own
    transaction). For after a curriculum change: a resource of kind track added to a track
    learners are already in, or items added to the track it stands for. Returns (enrolments
    checked, resources changed). Unknown or archived slugs raise ServiceError."""
    tracks = Track.objects.active().filter(
        pk__in=Resource.objects.active()
        .filter(kind=ResourceKind.TRACK, module__archived_at__isnull=True)
        .values("track_id")
    )
    if track_slugs is not None:
        known = set(
            Track.objects.active().filter(slug__in=track_slugs).values_list("slug", flat=True)
        )
        missing = sorted(set(track_slugs) - known)
        if missing:
            raise ServiceError(f"Unknown or archived track: {', '.join(missing)}.")
        tracks = tracks.filter(slug__in=track_slugs)
    checked = changed = 0
    enrolments = Enrolment.objects.filter(track__in=tracks, left_at__isnull=True).select_related(
        "learner", "track"
    )
    for enrolment in enrolments.order_by("pk").iterator():
        checked += 1
        changed += len(linked_resources_sync(learner=enrolment.learner, track=enrolment.track))
    return checked, changed


# --- capstones -----------------------------------------------------------------------------


def capstone_pass_follow(*, learner, capstone: Capstone, now: datetime) -> Certificate | None:
    """What follows a capstone passing for `learner` (their passed submission is written; the
    caller is in a transaction): the points once, the enrolment's figures, and the certificate
    (and resources of kind track) if the track is now complete. Returns the certificate this
    pass issued (None when it issued none: the track is not complete, or its certificate was
    issued before, so nobody is congratulated twice)."""
    profile = _profile_locked(user=learner)
    delta = _award(
        profile=profile, amount=capstone.points, resource=None, capstone=capstone, now=now
    )
    structure = track_structure(capstone.track_id)
    state = selectors.learner_track_state(learner=learner, track_id=capstone.track_id)
    completion = track_progress(
        track=structure, done_resource_ids=state.done_ids, passed_capstone_ids=state.passed_ids
    )
    enrolment_totals_after_change(
        learner_id=learner.pk,
        track_id=capstone.track_id,
        completion=completion,
        points_delta=delta,
        now=now,
    )
    certificate, issued = _track_done_check(
        learner=learner,
        track_id=capstone.track_id,
        now=now,
        seen=(),
        linked=[],
        profile=profile,
        known=(structure, state.done_ids, state.passed_ids, state.certificate, completion),
    )
    return certificate if issued else None


# --- certificates ---------------------------------------------------------------------------


def certificate_claim(*, learner, track: Track, now: datetime | None = None) -> Certificate | None:
    """The learner asks for the certificate of a track that became complete without a click of
    theirs (a lead removed or made optional what they had left). Enrolled learners only."""
    if not permissions.can_claim_certificate(learner, track):
        raise NotEnrolled(track, "get its certificate")
    return certificate_issue_if_complete(learner=learner, track=track, now=now)


def certificate_issue_if_complete(
    *, learner, track: Track, now: datetime | None = None
) -> Certificate | None:
    """The learner's certificate for the track: issued now if every required item is complete
    and none exists yet (completing the resources that stand for the track, too). Idempotent."""
    certificate, _ = _track_done_check(
        learner=learner, track_id=track.pk, now=now or timezone.now(), seen=(), linked=[]
    )
    return certificate


def _certificate_create(
    *,
    learner,
    structure: TrackStructure,
    completion,
    resources_done: int,
    capstones_passed: int,
    now: datetime,
) -> tuple[Certificate, bool]:
    """(certificate, whether this call issued it) for a track found complete."""
    profile = profile_get_or_create(user=learner)
    track_id = structure.id
    summary = {
        "modules": len(completion.modules),
        "units": completion.total_units,
        "resources_done": resources_done,
        "capstones_passed": capstones_passed,
    }
    try:
        with transaction.atomic():
            certificate = Certificate.objects.create(
                learner=learner,
                track_id=track_id,
                learner_name=profile.name,
                track_title=structure.title,
                summary=summary,
                issued_at=now,
            )
    except IntegrityError:  # issued by a concurrent request (a capstone review, say)
        return Certificate.objects.get(learner=learner, track_id=track_id), False
    return certificate, True
