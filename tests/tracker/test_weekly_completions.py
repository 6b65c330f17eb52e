"""The per-learner weekly completion counts follow every status change through the service,
and the rebuild from progress agrees with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import ResourceFactory, UserFactory, enrol
from tracker import services
from tracker.models import WeeklyCompletions
from tracker.services.weekly import (
    week_of,
    weekly_completions_drift,
    weekly_completions_rebuild,
)

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def counts(learner) -> dict:
    return {
        row.week: row.completions
        for row in WeeklyCompletions.objects.filter(learner=learner, completions__gt=0)
    }


def test_done_undo_and_done_again_in_another_week():
    first = ResourceFactory()
    second = ResourceFactory(module=first.module)
    learner = enrol(UserFactory(), first.track)
    services.progress_set_status(learner=learner, resource=first, status="done", now=MONDAY)
    services.progress_set_status(
        learner=learner, resource=second, status="done", now=MONDAY + timedelta(days=6)
    )
    assert counts(learner) == {MONDAY.date(): 2}
    services.progress_set_status(
        learner=learner, resource=first, status="in_progress", now=MONDAY + timedelta(days=8)
    )
    assert counts(learner) == {MONDAY.date(): 1}
    services.progress_set_status(
        learner=learner, resource=first, status="done", now=MONDAY + timedelta(days=9)
    )
    services.progress_set_status(
        learner=learner, resource=second, status="skipped", now=MONDAY + timedelta(days=9)
    )
    assert counts(learner) == {(MONDAY + timedelta(days=7)).date(): 1}
    assert weekly_completions_drift() == 0


def test_rebuild_restores_counts_written_around_the_service():
    resource = ResourceFactory()
    learner = enrol(UserFactory(), resource.track)
    services.progress_set_status(learner=learner, resource=resource, status="done", now=MONDAY)
    WeeklyCompletions.objects.all().delete()
    assert weekly_completions_drift() == 1
    assert weekly_completions_rebuild() == 1
    assert counts(learner) == {MONDAY.date(): 1}
    assert weekly_completions_drift() == 0


def test_weeks_are_iso_weeks_in_utc():
    sunday_late = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)
    assert week_of(sunday_late) == MONDAY.date()
    assert week_of(sunday_late + timedelta(hours=1)) == MONDAY.date() + timedelta(days=7)


def test_the_upgrade_fills_the_counts_the_service_would_have_kept():
    """Migration 0009's backfill, run on a database whose progress was written before the
    counts existed: the same rows the service keeps (weeks on Monday, UTC; undone rows left
    out)."""
    import importlib

    from django.apps import apps

    backfill = importlib.import_module("tracker.migrations.0009_weekly_completions")
    first = ResourceFactory()
    second, third = ResourceFactory(module=first.module), ResourceFactory(module=first.module)
    ada, bo = (enrol(UserFactory(), first.track) for _ in range(2))
    sunday_night = MONDAY + timedelta(days=6, hours=14, minutes=59)  # 23:59 UTC
    for learner, resource, when in (
        (ada, first, MONDAY),
        (ada, second, sunday_night),
        (ada, third, sunday_night + timedelta(minutes=1)),  # the next week
        (bo, first, MONDAY + timedelta(days=2)),
        (bo, second, MONDAY + timedelta(days=3)),
    ):
        services.progress_set_status(learner=learner, resource=resource, status="done", now=when)
    services.progress_set_status(learner=bo, resource=second, status="skipped", now=MONDAY)
    kept = set(WeeklyCompletions.objects.values_list("learner", "track", "week", "completions"))
    kept = {row for row in kept if row[3] > 0}

    WeeklyCompletions.objects.all().delete()
    backfill.fill_from_progress(apps, None)
    filled = set(WeeklyCompletions.objects.values_list("learner", "track", "week", "completions"))
    assert filled == kept
    next_monday = (MONDAY + timedelta(days=7)).date()
    assert counts(ada) == {MONDAY.date(): 2, next_monday: 1} and counts(bo) == {MONDAY.date(): 1}
