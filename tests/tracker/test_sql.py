"""`tracker.sql.update_from_values`: many rows' fields set in one statement per batch."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import TrackFactory, UserFactory, enrol
from tracker.models import Enrolment
from tracker.sql import update_from_values

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_nulls_and_times_included():
    track = TrackFactory()
    for _ in range(5):
        enrol(UserFactory(), track)
    rows = list(Enrolment.objects.order_by("pk"))
    untouched = rows.pop()
    when = timezone.now().replace(microsecond=0)
    update_from_values(
        Enrolment,
        ["done_units", "required_units", "last_activity_at"],
        [(row.pk, i, 10, when - timedelta(days=i)) for i, row in enumerate(rows)],
        batch=3,  # two statements
    )
    stored = {e.pk: e for e in Enrolment.objects.all()}
    for i, row in enumerate(rows):
        got = stored[row.pk]
        assert (got.done_units, got.required_units) == (i, 10)
        assert got.last_activity_at == when - timedelta(days=i)
    assert stored[untouched.pk].required_units == untouched.required_units

    # A column of NULLs alone (no other value to type it by).
    update_from_values(Enrolment, ["last_activity_at"], [(row.pk, None) for row in rows])
    assert not Enrolment.objects.filter(
        pk__in=[r.pk for r in rows], last_activity_at__isnull=False
    ).exists()
    update_from_values(Enrolment, ["done_units"], [])  # nothing to do, no statement
