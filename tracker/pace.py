"""Pace projection, as pure functions over dates and minutes (no ORM, no clock).

How a plan is projected (docs for the pace page say the same in plain words):

* Work left is counted in minutes per module (`tracker.completion`: unfinished required items;
  an item without `minutes` counts `DEFAULT_MINUTES_ESTIMATE`). Modules are worked in order.
* The pace used from today on is, in this order: the learner's planned hours per week; else
  their actual pace so far (minutes of done items per week since enrolment, leaving out what
  they marked done in their first `CATCH_UP` after enrolling); else the module
  hints, `weeks` or `days` (an unfinished module takes its hinted days, scaled by the share of
  its minutes still left).
* A module's projected finish is today plus the days the cumulative minutes up to and
  including it take at that pace, rounded up to whole days. So dates never go backwards along
  the modules, and more hours per week never give a later date.
* The goal is the learner's target date if set, else the hinted finish: enrolment date plus the
  sum of every module's hint (`weeks` as 7 days each, or `days`). Ahead/behind is the goal minus
  the projected track finish.
* Re-planning when behind: the hours per week that make the goal from today (rounded up to
  half hours), or moving the target date to the projected finish.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

MIN_HOURS_PER_WEEK = Decimal("0.5")
# Learners enrol, then tick off what they had already done: work marked done this soon after
# enrolling is catching up, not pace (a morning's back-fill read as "84 hours a week").
CATCH_UP = timedelta(days=1)
# Less done than this measures no pace: one 30-minute item five days in projected a one-day
# workshop eleven weeks out.
MIN_PACE_MINUTES = 60
MAX_HOURS_PER_WEEK = Decimal("80")

BASIS_PLAN = "plan"
BASIS_ACTUAL = "actual"
BASIS_HINTS = "hints"


@dataclass(frozen=True)
class ModuleLoad:
    """One module's work, in track order."""

    module_id: int
    title: str
    days: int  # the module's pacing hint, in days (`weeks: 2` is 14)
    minutes_total: int
    minutes_left: int
    complete: bool
    # Required capstones still open without an estimate: work the minutes leave out.
    open_capstones: int = 0
    required: bool = True  # False: everything in it is optional (it is "complete" from the start)


@dataclass(frozen=True)
class ModuleProjection:
    load: ModuleLoad
    # None once the module is complete.
    finish: date | None
    # Where the hints put its end, counted from enrolment.
    hinted: date


@dataclass(frozen=True)
class Projection:
    basis: str
    minutes_per_week: Fraction | None
    modules: list[ModuleProjection]
    finish: date
    goal: date
    goal_is_target: bool
    minutes_left: int
    actual_minutes_per_week: Fraction | None
    # The finish at the actual pace so far, when there is one and it is not the basis.
    actual_finish: date | None
    hours_needed: Decimal | None

    @property
    def complete(self) -> bool:
        return all(m.load.complete for m in self.modules)

    @property
    def days_ahead(self) -> int:
        """Positive: ahead of the goal by that many days; negative: behind."""
        return (self.goal - self.finish).days

    @property
    def behind(self) -> bool:
        return not self.complete and self.days_ahead < 0

    @property
    def ahead(self) -> bool:
        return not self.complete and self.days_ahead > 0

    @property
    def days_off(self) -> int:
        return abs(self.days_ahead)

    @property
    def hours_needed_feasible(self) -> bool:
        return self.hours_needed is not None and self.hours_needed <= MAX_HOURS_PER_WEEK


def minutes_per_week(hours_per_week: Decimal | float | int) -> Fraction:
    return Fraction(Decimal(str(hours_per_week))) * 60


def hours_per_week(minutes: Fraction) -> Decimal:
    """Minutes per week as hours, one decimal place (for display)."""
    return (Decimal(minutes.numerator) / Decimal(minutes.denominator) / 60).quantize(Decimal("0.1"))


# Projections further out than this are clamped to it: past a century they mean nothing, and
# dates near year 9999 would overflow (a huge track at half an hour a week gets there).
HORIZON_DAYS = 100 * 365


def _days_after(day: date, days) -> date:
    return day + timedelta(days=min(math.ceil(days), HORIZON_DAYS))


def finish_dates(loads: Sequence[ModuleLoad], *, today: date, pace: Fraction) -> list[date | None]:
    """Each module's finish at `pace` minutes per week from today (None when complete)."""
    if pace <= 0:
        raise ValueError("pace must be positive")
    dates: list[date | None] = []
    cumulative = 0
    for load in loads:
        cumulative += load.minutes_left
        dates.append(None if load.complete else _days_after(today, cumulative * 7 / pace))
    return dates


def hinted_finish_dates(loads: Sequence[ModuleLoad], *, today: date) -> list[date | None]:
    """Each module's finish when the rest of the track follows the hints from today."""
    dates: list[date | None] = []
    days = Fraction(0)
    for load in loads:
        if load.complete:
            dates.append(None)
            continue
        if load.minutes_total > 0:
            days += Fraction(load.days * load.minutes_left, load.minutes_total)
        else:  # nothing but capstones: the whole hint
            days += load.days
        dates.append(_days_after(today, days))
    return dates


def hint_schedule(loads: Sequence[ModuleLoad], *, enrolled_on: date) -> list[date]:
    """Where the hints put the end of each module, counted from enrolment."""
    dates, days = [], 0
    for load in loads:
        days += load.days
        dates.append(_days_after(enrolled_on, days))
    return dates


def actual_pace(*, done_minutes: int, enrolled_on: date, today: date) -> Fraction | None:
    """Minutes of done work per week since enrolment (the first week counts as a whole week).
    None before an hour's work is done: there is no pace to project from yet."""
    if done_minutes < MIN_PACE_MINUTES:
        return None
    weeks = max(Fraction((today - enrolled_on).days, 7), Fraction(1))
    return Fraction(done_minutes) / weeks


def hours_needed(*, minutes_left: int, today: date, goal: date) -> Decimal | None:
    """Hours per week (rounded up to half hours, at least 0.5) that finish `minutes_left` by
    `goal` from today; None when the goal is today or past (no pace can make it)."""
    days = (goal - today).days
    if days <= 0:
        return None
    hours = Fraction(minutes_left * 7, days * 60)
    halves = math.ceil(hours * 2)
    return max(Decimal(halves) / 2, MIN_HOURS_PER_WEEK)


def project(
    loads: Sequence[ModuleLoad],
    *,
    today: date,
    enrolled_on: date,
    planned_hours: Decimal | None,
    target_date: date | None,
    done_minutes: int,
) -> Projection:
    """The whole plan: per-module and track finish, goal, ahead/behind and the re-plan hours."""
    actual = actual_pace(done_minutes=done_minutes, enrolled_on=enrolled_on, today=today)
    if planned_hours is not None and planned_hours > 0:
        basis, pace = BASIS_PLAN, minutes_per_week(planned_hours)
    elif actual is not None:
        basis, pace = BASIS_ACTUAL, actual
    else:
        basis, pace = BASIS_HINTS, None
    dates = (
        finish_dates(loads, today=today, pace=pace)
        if pace
        else hinted_finish_dates(loads, today=today)
    )
    hinted = hint_schedule(loads, enrolled_on=enrolled_on)
    finish = max([d for d in dates if d is not None], default=today)

    actual_finish = None
    if actual is not None and basis != BASIS_ACTUAL:
        actual_finish = max(
            [d for d in finish_dates(loads, today=today, pace=actual) if d], default=today
        )

    goal = target_date or (hinted[-1] if hinted else today)
    minutes_left = sum(load.minutes_left for load in loads)
    needed = None
    if finish > goal:
        needed = hours_needed(minutes_left=minutes_left, today=today, goal=goal)
    return Projection(
        basis=basis,
        minutes_per_week=pace,
        modules=[
            ModuleProjection(load, d, h) for load, d, h in zip(loads, dates, hinted, strict=True)
        ],
        finish=finish,
        goal=goal,
        goal_is_target=target_date is not None,
        minutes_left=minutes_left,
        actual_minutes_per_week=actual,
        actual_finish=actual_finish,
        hours_needed=needed,
    )
