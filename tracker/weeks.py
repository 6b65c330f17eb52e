"""Week arithmetic for the dashboard streak and the history chart: pure, no ORM, no clock.

Weeks are ISO weeks (Monday to Sunday) in the learner's time zone; a week is named by the date
of its Monday.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

HISTORY_WEEKS = 26


def week_start(day: date) -> date:
    """The Monday of `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


def current_streak(active_weeks: Iterable[date], *, today: date) -> int:
    """Consecutive ISO weeks with at least one completion, ending at the current week.

    `active_weeks` are days inside weeks with activity (any day of the week will do). The
    current week counts when it already has activity; when it has none yet the streak is not
    broken (the week is not over), so counting starts from last week instead. A week without
    activity before that ends the streak.
    """
    weeks = {week_start(day) for day in active_weeks}
    cursor = week_start(today)
    if cursor not in weeks:
        cursor -= timedelta(weeks=1)
    streak = 0
    while cursor in weeks:
        streak += 1
        cursor -= timedelta(weeks=1)
    return streak


@dataclass(frozen=True)
class WeekPoints:
    start: date
    points: int

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    # Written once here: charts show dozens of weeks, and Django's date filter is slow.
    @property
    def start_day(self) -> str:
        """ "2 Nov 2026" """
        return f"{self.start.day} {self.start:%b %Y}"


def weekly_series(
    totals: Mapping[date, int], *, today: date, weeks: int = HISTORY_WEEKS
) -> list[WeekPoints]:
    """The last `weeks` weeks up to and including today's, oldest first, empty weeks as 0."""
    first = week_start(today) - timedelta(weeks=weeks - 1)
    by_week: dict[date, int] = {}
    for day, points in totals.items():
        start = week_start(day)
        by_week[start] = by_week.get(start, 0) + points
    return [
        WeekPoints(start, by_week.get(start, 0))
        for start in (first + timedelta(weeks=i) for i in range(weeks))
    ]


@dataclass(frozen=True)
class Bar:
    week: WeekPoints
    x: float
    y: float
    width: float
    height: float
    label: str  # axis label under the bar, empty for most bars

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 2)

    @property
    def negative(self) -> bool:
        return self.week.points < 0


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    baseline: float
    top: int
    bottom: int
    left: int
    right: int
    # Scale labels on the y axis: (y, text).
    ticks: list[tuple[float, str]]


def bar_chart(
    series: Sequence[WeekPoints], *, width: int = 640, height: int = 240, label_every: int = 4
) -> BarChart:
    """Geometry of an SVG bar chart in user units: bars grow up from zero, down when a week's
    reversals outweigh its awards. Labels every `label_every` weeks, counted from the newest."""
    left, right, top, bottom = 40, width - 24, 12, height - 28
    high = max([w.points for w in series] + [0])
    low = min([w.points for w in series] + [0])
    span = (high - low) or 1
    scale = (bottom - top) / span
    baseline = top + high * scale
    slot = (right - left) / max(len(series), 1)
    bars = []
    for i, week in enumerate(series):
        size = abs(week.points) * scale
        y = baseline - size if week.points >= 0 else baseline
        label = week.start.strftime("%d %b") if (len(series) - 1 - i) % label_every == 0 else ""
        bars.append(
            Bar(
                week,
                round(left + i * slot + slot * 0.15, 2),
                round(y, 2),
                round(slot * 0.7, 2),
                round(size, 2),
                label,
            )
        )
    ticks = [(round(baseline, 2), "0")]
    if high > 0:
        ticks.insert(0, (float(top), str(high)))
    if low < 0:
        ticks.append((float(bottom), str(low)))
    return BarChart(width, height, bars, round(baseline, 2), top, bottom, left, right, ticks)
