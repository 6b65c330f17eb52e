"""Every write to learner state. Views, tasks, commands and admin actions call these.

Keyword-only, typed, atomic. The points ledger is append-only: an award and its reversal are
rows; `Profile.points_total` is kept in step in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from curriculum.models import Capstone, Resource, Track

from .. import selectors
from ..models import (
    Certificate,
    Enrolment,
    PointsEntry,
    PointsKind,
    Profile,
    Progress,
    ProgressStatus,
)


class ServiceError(Exception):
    """Bad input a person can act on; the message says what and where."""


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
    return enrolment


@transaction.atomic
def enrolment_leave(*, learner, track: Track, now: datetime | None = None) -> None:
    """Leave a track. Progress, notes and points stay: enrolling again picks them up."""
    Enrolment.objects.filter(learner=learner, track=track, left_at__isnull=True).update(left_at=now or timezone.now())


# --- points ---------------------------------------------------------------------------------


def _source(resource: Resource | None, capstone: Capstone | None) -> str:
    if (resource is None) == (capstone is None):
        raise ValueError("exactly one of resource and capstone")
    return f"resource:{resource.pk}" if resource is not None else f"capstone:{capstone.pk}"


def _points_insert(*, learner, kind: str, amount: int, source_key: str, generation: int, resource, capstone, now) -> int:
    """Insert one ledger row; a concurrent duplicate loses on the unique constraint."""
    try:
        with transaction.atomic():
            PointsEntry.objects.create(
                learner=learner, kind=kind, amount=amount, source_key=source_key, generation=generation,
                resource=resource, capstone=capstone, created_at=now,
            )
    except IntegrityError:
        return 0
    Profile.objects.filter(user=learner).update(points_total=F("points_total") + amount)
    return amount


@transaction.atomic
def points_award(
    *, learner, amount: int, resource: Resource | None = None, capstone: Capstone | None = None,
    now: datetime | None = None,
) -> int:
    """Award a source's points unless its latest generation is already awarded. Returns the change."""
    if amount < 0:
        raise ValueError("an award is never negative")
    source_key = _source(resource, capstone)
    profile_get_or_create(user=learner)
    last = PointsEntry.objects.filter(learner=learner, source_key=source_key).order_by("-generation", "-kind").first()
    if last is not None and last.kind == PointsKind.AWARD:
        return 0
    generation = 1 if last is None else last.generation + 1
    return _points_insert(
        learner=learner, kind=PointsKind.AWARD, amount=amount, source_key=source_key, generation=generation,
        resource=resource, capstone=capstone, now=now or timezone.now(),
    )


@transaction.atomic
def points_reverse(
    *, learner, resource: Resource | None = None, capstone: Capstone | None = None, now: datetime | None = None
) -> int:
    """Reverse the standing award of a source, exactly what it awarded. Returns the change."""
    source_key = _source(resource, capstone)
    last = PointsEntry.objects.filter(learner=learner, source_key=source_key).order_by("-generation", "-kind").first()
    if last is None or last.kind != PointsKind.AWARD:
        return 0
    return _points_insert(
        learner=learner, kind=PointsKind.REVERSAL, amount=-last.amount, source_key=source_key,
        generation=last.generation, resource=resource, capstone=capstone, now=now or timezone.now(),
    )


# --- progress -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressChange:
    progress: Progress
    previous_status: str
    points_delta: int
    certificate: Certificate | None

    @property
    def changed(self) -> bool:
        return self.previous_status != self.progress.status


@transaction.atomic
def progress_set_status(
    *, learner, resource: Resource, status: str, now: datetime | None = None
) -> ProgressChange:
    """Set a learner's status on a resource. Done awards the resource's points once; leaving
    done reverses them; skipped earns nothing. Repeating a status changes nothing."""
    if status not in ProgressStatus.values:
        raise ServiceError(f"Unknown status '{status}' (expected one of {', '.join(ProgressStatus.values)}).")
    if resource.archived_at is not None:
        raise ServiceError(f"'{resource.title}' was removed from its track; its progress can no longer change.")
    now = now or timezone.now()
    profile_get_or_create(user=learner)
    progress = _progress_locked(learner=learner, resource=resource, now=now)
    previous = progress.status
    if previous == status:
        return ProgressChange(progress, previous, 0, None)

    progress.status = status
    progress.updated_at = now
    if status == ProgressStatus.IN_PROGRESS and progress.started_at is None:
        progress.started_at = now
    if status == ProgressStatus.DONE:
        progress.completed_at = now
        progress.started_at = progress.started_at or now
    else:
        progress.completed_at = None
    progress.save(update_fields=["status", "updated_at", "started_at", "completed_at"])

    delta = 0
    if status == ProgressStatus.DONE:
        delta = points_award(learner=learner, amount=resource.points, resource=resource, now=now)
    elif previous == ProgressStatus.DONE:
        delta = points_reverse(learner=learner, resource=resource, now=now)
    certificate = certificate_issue_if_complete(learner=learner, track=resource.track, now=now) if status == ProgressStatus.DONE else None
    return ProgressChange(progress, previous, delta, certificate)


def _progress_locked(*, learner, resource: Resource, now: datetime) -> Progress:
    """The learner's progress row on a resource, locked for this transaction (created if new)."""
    progress = Progress.objects.select_for_update().filter(learner=learner, resource=resource).first()
    if progress is not None:
        return progress
    try:
        with transaction.atomic():
            return Progress.objects.create(
                learner=learner, resource=resource, track_id=resource.track_id,
                status=ProgressStatus.NOT_STARTED, updated_at=now,
            )
    except IntegrityError:  # another request created it first
        return Progress.objects.select_for_update().get(learner=learner, resource=resource)


# --- certificates ---------------------------------------------------------------------------


def certificate_issue_if_complete(*, learner, track: Track, now: datetime | None = None) -> Certificate | None:
    """Issue the track's certificate once every required item is complete. Idempotent."""
    existing = Certificate.objects.filter(learner=learner, track=track).first()
    if existing is not None:
        return existing
    completion = selectors.learner_track_completion(learner=learner, track=track)
    if not completion.complete:
        return None
    profile = profile_get_or_create(user=learner)
    done = selectors.progress_by_resource(learner=learner, track_ids=[track.pk])
    summary = {
        "modules": len(completion.modules),
        "units": completion.total_units,
        "resources_done": len(selectors.done_ids(done)),
        "capstones_passed": len(selectors.passed_capstone_ids(learner=learner, track_ids=[track.pk])),
    }
    try:
        with transaction.atomic():
            return Certificate.objects.create(
                learner=learner, track=track, learner_name=profile.name, track_title=track.title,
                summary=summary, issued_at=now or timezone.now(),
            )
    except IntegrityError:
        return Certificate.objects.get(learner=learner, track=track)
