"""Cohorts as a member meets them, for the `/me/` card and the nudge's cohort section: rows
written straight to the tables (these tests are about reading them; the writing services have
their own tests)."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from cohorts.models import (
    Cohort,
    CohortMembership,
    CohortModuleTarget,
    CohortPhase,
    CohortRole,
    CohortTrack,
)
from tracker.models import Enrolment
from tracker.services import enrolment_join


def cohort_with(
    *,
    slug: str,
    tracks,
    starts_on: date,
    weeks: int = 12,
    phases: list[tuple[str, int, int]] = (),
    targets: dict | None = None,
    name: str = "",
) -> Cohort:
    """A cohort over `tracks` from `starts_on`, `weeks` long. `phases`: (name, first week,
    last week). `targets`: module → target week."""
    now = timezone.now()
    cohort = Cohort.objects.create(
        slug=slug,
        name=name or slug.replace("-", " ").title(),
        starts_on=starts_on,
        ends_on=starts_on + timedelta(weeks=weeks, days=-1),
        created_at=now,
        updated_at=now,
    )
    for position, track in enumerate(tracks):
        CohortTrack.objects.create(cohort=cohort, track=track, position=position)
    for position, (phase, first, last) in enumerate(phases):
        CohortPhase.objects.create(
            cohort=cohort,
            name=phase,
            starts_on=starts_on + timedelta(weeks=first - 1),
            ends_on=starts_on + timedelta(weeks=last, days=-1),
            position=position,
        )
    for module, week in (targets or {}).items():
        CohortModuleTarget.objects.create(cohort=cohort, module=module, target_week=week)
    return cohort


def member_of(cohort: Cohort, user, *, role: str = CohortRole.MEMBER) -> CohortMembership:
    """A member enrolled in the cohort's tracks, as joining does."""
    if role == CohortRole.MEMBER:
        for link in cohort.cohort_tracks.select_related("track"):
            enrolment_join(learner=user, track=link.track)
    return CohortMembership.objects.create(
        cohort=cohort, user=user, role=role, joined_at=timezone.now()
    )


def set_modules_done(user, track, count: int) -> None:
    """The per-enrolment total the progress services keep (the pace reads it)."""
    Enrolment.objects.filter(learner=user, track=track).update(modules_done=count)
