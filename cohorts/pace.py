"""Pace against a cohort's plan: pure functions, no ORM, no clock.

Cohort weeks count from the cohort's start: week 1 is the seven days from `starts_on`. A module
whose target is week N is due by the end of week N, so a member who has not finished it yet is
still on pace during week N ("exactly on the target week" is on pace) and behind from week N+1.

Over a cohort's tracks a member's pace compares complete modules (`Enrolment.modules_done`,
summed over the cohort's tracks) with the number of modules due:
- behind by N: N fewer modules complete than are due by the end of the previous week;
- ahead: more modules complete than are due by the end of the current week;
- on pace: anything in between.
With no targets (no plan) there is no pace status; before the start nothing is due yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar


class PaceStatus(StrEnum):
    AHEAD = "ahead"
    ON_PACE = "on_pace"
    BEHIND = "behind"
    NO_PLAN = "no_plan"


@dataclass(frozen=True)
class Pace:
    status: PaceStatus
    behind_by: int = 0  # modules, when behind

    @property
    def label(self) -> str:
        if self.status is PaceStatus.BEHIND:
            noun = "module" if self.behind_by == 1 else "modules"
            return f"Behind by {self.behind_by} {noun}"
        return {
            PaceStatus.AHEAD: "Ahead",
            PaceStatus.ON_PACE: "On pace",
            PaceStatus.NO_PLAN: "No pace plan",
        }[self.status]


def cohort_week(*, starts_on: date, today: date) -> int:
    """The cohort week `today` falls in: 1 in the first seven days, 0 or less before the start."""
    return (today - starts_on).days // 7 + 1


def week_ends_on(*, starts_on: date, week: int) -> date:
    """The last day of cohort week `week` (the day a target of that week is due)."""
    return starts_on + timedelta(days=7 * week - 1)


@dataclass(frozen=True)
class DueCounts:
    """How many modules are due by the end of last week and by the end of this week."""

    due_before_this_week: int
    due_by_end_of_this_week: int
    has_plan: bool


def due_counts(target_weeks: Iterable[int], *, week: int) -> DueCounts:
    weeks = list(target_weeks)
    return DueCounts(
        due_before_this_week=sum(1 for w in weeks if w < week),
        due_by_end_of_this_week=sum(1 for w in weeks if w <= week),
        has_plan=bool(weeks),
    )


def pace_for(*, modules_done: int, due: DueCounts) -> Pace:
    if not due.has_plan:
        return Pace(PaceStatus.NO_PLAN)
    if modules_done < due.due_before_this_week:
        return Pace(PaceStatus.BEHIND, behind_by=due.due_before_this_week - modules_done)
    if modules_done > due.due_by_end_of_this_week:
        return Pace(PaceStatus.AHEAD)
    return Pace(PaceStatus.ON_PACE)


class _Target(Protocol):
    module_id: int


T = TypeVar("T", bound=_Target)


def next_open_target(targets: Iterable[T], complete: Set[int]) -> T | None:
    """The target a member works towards next: the first of the plan, in due order, whose
    module is not among the ones they have complete (a module done early drops out; one
    skipped stays next). Every page, email and message that names a next target uses this."""
    return next((t for t in targets if t.module_id not in complete), None)


def default_target_weeks(module_lengths_in_days: Iterable[int]) -> list[int]:
    """Targets from the modules' pacing hints, in module order: each module is due at the end
    of the week in which its cumulative length ends (a one-day workshop still takes a week of
    the cohort's calendar when it starts one)."""
    targets: list[int] = []
    elapsed_days = 0
    for length in module_lengths_in_days:
        elapsed_days += max(1, length)
        targets.append(max(1, -(-elapsed_days // 7)))  # ceiling division
    return targets
