"""When nudges fall due: each learner's weekday and hour in their own time zone, across DST
changes and ISO-week boundaries, and the dispatcher's windows that never miss or repeat one."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from nudges import schedule, selectors, services
from nudges.models import NudgeDelivery

from .conftest import make_learner

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "key"),
    [
        (date(2026, 12, 31), "2026-W53"),  # 2026 has 53 ISO weeks
        (date(2027, 1, 1), "2026-W53"),  # New Year's Day still in the old ISO year
        (date(2027, 1, 3), "2026-W53"),
        (date(2027, 1, 4), "2027-W01"),
        (date(2024, 12, 30), "2025-W01"),  # late December already in the next ISO year
        (date(2026, 1, 1), "2026-W01"),
    ],
)
def test_iso_week_keys_follow_the_iso_year(day, key):
    assert schedule.week_key(day) == key


def test_week_parsing_names_what_is_wrong():
    assert schedule.parse_week("2026-W53") == (2026, 53)
    with pytest.raises(schedule.BadWeek, match="2025 has no ISO week 53"):
        schedule.parse_week("2025-W53")
    with pytest.raises(schedule.BadWeek, match="write it as YYYY-Www"):
        schedule.parse_week("2026-5")
    with pytest.raises(schedule.BadWeek, match="no ISO week 0"):
        schedule.parse_week("2026-W00")


def test_a_nudge_falls_due_at_the_learners_own_hour():
    # Monday 9:00 in Berlin in winter is 8:00 UTC, in summer 7:00 UTC.
    assert schedule.due_at(week="2026-W03", weekday=0, hour=9, zone=BERLIN) == utc(2026, 1, 12, 8)
    assert schedule.due_at(week="2026-W27", weekday=0, hour=9, zone=BERLIN) == utc(2026, 6, 29, 7)


def test_an_hour_skipped_by_spring_forward_goes_out_when_the_clocks_jump():
    # Berlin, Sunday 29 March 2026: 02:00 becomes 03:00 (01:00 UTC). 02:00 does not exist.
    skipped = schedule.due_at(week="2026-W13", weekday=6, hour=2, zone=BERLIN)
    after = schedule.due_at(week="2026-W13", weekday=6, hour=3, zone=BERLIN)
    assert skipped == after == utc(2026, 3, 29, 1)
    slots = schedule.due_slots(BERLIN, start=utc(2026, 3, 29, 0), end=utc(2026, 3, 29, 1))
    assert {s.slot for s in slots} == {schedule.slot(6, 2), schedule.slot(6, 3)}


def test_an_hour_repeated_by_fall_back_is_due_once():
    # New York, Sunday 1 November 2026: 01:00-02:00 happens twice (05:00 and 06:00 UTC).
    assert schedule.due_at(week="2026-W44", weekday=6, hour=1, zone=NEW_YORK) == utc(2026, 11, 1, 5)
    hours = [utc(2026, 11, 1, 3) + timedelta(hours=i) for i in range(6)]
    due_hour_1 = [
        end
        for start, end in zip(hours, hours[1:], strict=False)
        if any(
            s.slot == schedule.slot(6, 1)
            for s in schedule.due_slots(NEW_YORK, start=start, end=end)
        )
    ]
    assert due_hour_1 == [utc(2026, 11, 1, 5)]


def test_consecutive_windows_cover_every_hour_of_a_year_exactly_once():
    """Hourly windows through a whole year with both DST changes: each (weekday, hour) of
    each ISO week comes due exactly once, in Berlin, New York and a half-hour zone."""
    for name in ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]:
        zone = zoneinfo.ZoneInfo(name)
        seen: dict[tuple[str, int], int] = {}
        first = start = utc(2026, 1, 5)  # Monday of 2026-W02
        for _ in range(52 * 7 * 24):
            end = start + timedelta(hours=1)
            for due in schedule.due_slots(zone, start=start, end=end):
                seen[(due.week, due.slot)] = seen.get((due.week, due.slot), 0) + 1
            start = end
        partial = {schedule.current_week(now=t, zone=zone) for t in (first, start)}
        full_weeks = {week for week, _ in seen} - partial
        assert len(full_weeks) >= 50
        assert all(count == 1 for count in seen.values()), name
        for week in full_weeks:
            assert all((week, s) in seen for s in range(168)), (name, week)


def test_a_late_sunday_in_one_zone_and_a_monday_in_another_get_their_own_weeks():
    # 2026-01-04 23:00 UTC is Sunday 23:00 in London (week 1) and Monday 08:00 in Tokyo (week 2).
    start, end = utc(2026, 1, 4, 22), utc(2026, 1, 4, 23)
    by_zone = schedule.due_slots_by_zone(["Europe/London", "Asia/Tokyo"], start=start, end=end)
    assert [(s.week, s.slot) for s in by_zone["Europe/London"]] == [
        ("2026-W01", schedule.slot(6, 23))
    ]
    assert [(s.week, s.slot) for s in by_zone["Asia/Tokyo"]] == [("2026-W02", schedule.slot(0, 8))]


def test_new_year_in_a_zone_ahead_of_utc_is_already_the_new_iso_week():
    # Monday 4 January 2027, 06:00 in Auckland is Sunday 3 January, 17:00 UTC.
    auckland = zoneinfo.ZoneInfo("Pacific/Auckland")
    [due] = schedule.due_slots(auckland, start=utc(2027, 1, 3, 16), end=utc(2027, 1, 3, 17))
    assert (due.week, due.slot) == ("2027-W01", schedule.slot(0, 6))


# --- selecting learners from the database ---------------------------------------------------


@pytest.fixture
def dispatch(django_capture_on_commit_callbacks):
    """Run the dispatcher at a frozen instant; returns its report and the chunks handed on."""

    def run(at: datetime):
        handed: list = []
        with (
            time_machine.travel(at, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            report = services.nudge_dispatch(publish=lambda w, ids: handed.append((w, ids)) or True)
        return report, handed

    return run


@pytest.mark.django_db
def test_the_dispatcher_selects_exactly_the_learners_due_in_its_window():
    berlin = make_learner(zone="Europe/Berlin", weekday=0, hour=9)  # 08:00 UTC in January
    new_york = make_learner(zone="America/New_York", weekday=0, hour=3)  # 08:00 UTC
    make_learner(zone="Europe/Berlin", weekday=0, hour=10)  # an hour later
    make_learner(zone="UTC", weekday=1, hour=8)  # another day
    off = make_learner(zone="UTC", weekday=0, hour=8)
    off.profile.nudge_enabled = False
    off.profile.save()
    due = selectors.due_learners(start=utc(2026, 1, 12, 7), end=utc(2026, 1, 12, 8))
    assert {(d.learner_id, d.week) for d in due} == {
        (berlin.pk, "2026-W03"),
        (new_york.pk, "2026-W03"),
    }


@pytest.mark.django_db
def test_dispatch_runs_pick_up_where_the_last_ended_even_after_a_missed_hour(dispatch):
    """Beat's 09:00 run never happened (the broker was down): the 10:00 run sends both hours;
    the rows say when each fell due."""
    nine = make_learner(zone="UTC", weekday=0, hour=9)
    ten = make_learner(zone="UTC", weekday=0, hour=10)
    dispatch(utc(2026, 1, 12, 8, 0, 5))
    assert NudgeDelivery.objects.count() == 0
    report, handed = dispatch(utc(2026, 1, 12, 10, 0, 5))
    assert report.due == 2
    rows = {r.learner_id: r for r in NudgeDelivery.objects.all()}
    assert rows[nine.pk].due_at == utc(2026, 1, 12, 9)
    assert rows[ten.pk].due_at == utc(2026, 1, 12, 10)
    assert handed == [("2026-W03", sorted([nine.pk, ten.pk]))]
    # The same hour again selects nobody new, and rows still waiting are handed on again.
    again, handed = dispatch(utc(2026, 1, 12, 10, 0, 30))
    assert again.due == 0 and again.queued == 2 and len(handed) == 1
    assert NudgeDelivery.objects.count() == 2


@pytest.mark.django_db
def test_after_a_long_outage_only_the_catch_up_window_is_sent(settings, dispatch):
    settings.NUDGE_CATCH_UP_HOURS = 24
    old = make_learner(zone="UTC", weekday=0, hour=9)  # Monday: two days before the run
    recent = make_learner(zone="UTC", weekday=2, hour=8)  # Wednesday, an hour before
    dispatch(utc(2026, 1, 5, 0, 0, 5))
    dispatch(utc(2026, 1, 14, 9, 0, 5))
    assert set(NudgeDelivery.objects.values_list("learner_id", flat=True)) == {recent.pk}
    assert old.pk not in set(NudgeDelivery.objects.values_list("learner_id", flat=True))


@pytest.mark.django_db
def test_week_53_and_new_year_rows_carry_the_iso_week_of_the_learners_day(dispatch):
    sunday_berlin = make_learner(zone="Europe/Berlin", weekday=6, hour=0)
    # Sunday 3 January 2027 00:00 in Berlin = Saturday 2 January 23:00 UTC: ISO 2026-W53.
    dispatch(utc(2027, 1, 2, 22, 0, 5))
    _, handed = dispatch(utc(2027, 1, 2, 23, 0, 5))
    assert handed == [("2026-W53", [sunday_berlin.pk])]
    assert NudgeDelivery.objects.get().week == "2026-W53"
