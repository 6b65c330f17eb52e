"""When a nudge falls due: pure functions over instants, time zones and ISO weeks (no ORM).

A learner asks for their nudge on a weekday at an hour, in their own time zone. That wall-clock
time resolves to one instant per ISO week (PEP 495, `fold=0`):

* an hour that does not exist (clocks spring forward over it) resolves to the instant the
  clocks jump, so it goes out with the first hour after the gap, never skipped;
* an hour that happens twice (clocks fall back) resolves to its first occurrence only.

The dispatcher covers half-open windows (start, end] of instants, each run starting where the
last one ended, so every due instant falls in exactly one run.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

HOURS_PER_DAY = 24
_WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


class BadWeek(ValueError):
    pass


def week_key(day: date) -> str:
    """The ISO week of `day` as "2026-W05" (ISO year: 2027-01-01 is in "2026-W53")."""
    iso = day.isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def parse_week(value: str) -> tuple[int, int]:
    """ "2026-W05" -> (2026, 5); a clear error for anything else, or a week the year lacks."""
    match = _WEEK_PATTERN.match((value or "").strip())
    if not match:
        raise BadWeek(f"'{value}' is not an ISO week; write it as YYYY-Www, for example 2026-W05.")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise BadWeek(f"{year} has no ISO week {week} (weeks run from 1 to 52 or 53).") from None
    return year, week


def week_monday(value: str) -> date:
    year, week = parse_week(value)
    return date.fromisocalendar(year, week, 1)


def zone_or_utc(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def slot(weekday: int, hour: int) -> int:
    """A weekday (0 = Monday) and hour as one number, 0 to 167."""
    return weekday * HOURS_PER_DAY + hour


def resolve(day: date, hour: int, zone: zoneinfo.ZoneInfo) -> datetime:
    """The instant (UTC) a wall-clock hour on `day` in `zone` stands for (see module doc)."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone, fold=0).astimezone(UTC)


def due_at(*, week: str, weekday: int, hour: int, zone: zoneinfo.ZoneInfo) -> datetime:
    """When a learner's nudge for `week` falls due."""
    return resolve(week_monday(week) + timedelta(days=weekday), hour, zone)


@dataclass(frozen=True)
class DueSlot:
    slot: int
    week: str
    due_at: datetime


def due_slots(zone: zoneinfo.ZoneInfo, *, start: datetime, end: datetime) -> list[DueSlot]:
    """Every (weekday, hour) of `zone` whose instant falls in (start, end], with its week."""
    if end <= start:
        return []
    # Wall-clock hours that can resolve into the window: its local span, with a margin wider
    # than any DST shift on either side.
    margin = timedelta(hours=3)
    wall = (start.astimezone(zone).replace(tzinfo=None) - margin).replace(
        minute=0, second=0, microsecond=0
    )
    last = end.astimezone(zone).replace(tzinfo=None) + margin
    found = []
    while wall <= last:
        instant = resolve(wall.date(), wall.hour, zone)
        if start < instant <= end:
            found.append(DueSlot(slot(wall.weekday(), wall.hour), week_key(wall.date()), instant))
        wall += timedelta(hours=1)
    return found


def due_slots_by_zone(
    zone_names: Iterable[str], *, start: datetime, end: datetime
) -> dict[str, list[DueSlot]]:
    """`due_slots` for each named zone (unknown names are treated as UTC, as profiles are)."""
    return {name: due_slots(zone_or_utc(name), start=start, end=end) for name in zone_names}


def current_week(*, now: datetime, zone: zoneinfo.ZoneInfo) -> str:
    return week_key(now.astimezone(zone).date())
