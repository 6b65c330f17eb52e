"""Pace plan writes: a learner's hours per week and optional target date for one track."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction

from curriculum.models import Track

from ..models import Enrolment
from ..pace import MAX_HOURS_PER_WEEK, MIN_HOURS_PER_WEEK
from .progress import NotEnrolled, ServiceError

__all__ = ["pace_plan_set"]


@transaction.atomic
def pace_plan_set(
    *,
    learner,
    track: Track,
    hours_per_week: Decimal | str | None,
    target_date: date | None,
    today: date,
) -> Enrolment:
    """Save the plan on the learner's active enrolment. `today` is the learner's local date
    (a target date before it is refused). `hours_per_week` None clears the plan."""
    enrolment = (
        Enrolment.objects.select_for_update()
        .filter(learner=learner, track=track, left_at__isnull=True)
        .first()
    )
    if enrolment is None:  # the enrolment itself is what is written: read and locked here
        raise NotEnrolled(track, "plan your pace")
    hours = _hours(hours_per_week)
    if target_date is not None and target_date < today:
        raise ServiceError(
            f"The target date {target_date:%d %b %Y} is in the past; pick today or a later day."
        )
    enrolment.hours_per_week = hours
    enrolment.target_date = target_date
    enrolment.save(update_fields=["hours_per_week", "target_date"])
    return enrolment


def _hours(value: Decimal | str | None) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        hours = Decimal(str(value))
    except InvalidOperation:
        raise ServiceError(f"'{value}' is not a number of hours (for example 4 or 2.5).") from None
    if not hours.is_finite() or not MIN_HOURS_PER_WEEK <= hours <= MAX_HOURS_PER_WEEK:
        raise ServiceError(
            f"Hours per week must be between {MIN_HOURS_PER_WEEK} and {MAX_HOURS_PER_WEEK}."
        )
    if hours != hours.quantize(Decimal("0.1")):
        raise ServiceError("Hours per week take at most one decimal place (for example 2.5).")
    return hours.quantize(Decimal("0.1"))
