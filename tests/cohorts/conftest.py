"""Cohorts made through the real services (the factories in tests/factories.py make rows
directly, for volume)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from cohorts import services
from tests.factories import ModuleFactory, TrackFactory, UserFactory
from tests.nudges.conftest import broker, smtp_server, workers  # noqa: F401 (cohort messages)


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def admin(db):
    """A cohort admin (staff made them one by creating a cohort, then adding them)."""
    return UserFactory(username="ada", first_name="Ada", last_name="Admin")


@pytest.fixture
def track(db):
    track = TrackFactory(title="Deep Learning")
    ModuleFactory(track=track, title="Tensors", weeks=2)
    ModuleFactory(track=track, title="Training loops", weeks=0, days=3)
    ModuleFactory(track=track, title="Vision", weeks=1)
    return track


def make_cohort(*, by, tracks, slug="spring", starts_on=None, **kwargs):
    starts_on = starts_on or timezone.localdate()
    return services.cohort_create(
        by=by,
        name=kwargs.pop("name", "Spring cohort"),
        slug=slug,
        starts_on=starts_on,
        ends_on=kwargs.pop("ends_on", starts_on + timedelta(weeks=12) - timedelta(days=1)),
        track_ids=[t.pk for t in tracks],
        **kwargs,
    )


@pytest.fixture
def cohort(staff, admin, track):
    cohort = make_cohort(by=staff, tracks=[track])
    services.cohort_admin_add(by=staff, cohort=cohort, user_email=admin.email)
    return cohort


def join(cohort, user, **invite_kwargs):
    admin = cohort.created_by
    invite = services.invite_create(by=admin, cohort=cohort, **invite_kwargs)
    return services.cohort_join(user=user, code=invite.code)


def a_date(day: int) -> date:
    return date(2026, 3, day)
