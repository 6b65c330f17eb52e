import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from tests.factories import (
    CapstoneFactory,
    ModuleFactory,
    ResourceFactory,
    TrackFactory,
    UserFactory,
)
from tracker import pace, services
from tracker.models import Enrolment

TODAY = date(2025, 3, 12)  # a Wednesday


def load(i, *, weeks=1, days=None, total=120, left=120, complete=None):
    return pace.ModuleLoad(
        i,
        f"M{i}",
        weeks * 7 if days is None else days,
        total,
        left,
        left == 0 if complete is None else complete,
    )


# --- the pure projection ----------------------------------------------------------------------


def test_module_dates_accumulate_at_the_planned_pace():
    loads = [load(1, left=0), load(2, left=120), load(3, left=300)]
    dates = pace.finish_dates(loads, today=TODAY, pace=pace.minutes_per_week(Decimal("2")))
    # 120 minutes at 120 a week is one week; 420 minutes is 3.5 weeks, rounded up to whole days.
    assert dates == [None, TODAY + timedelta(days=7), TODAY + timedelta(days=25)]


def test_without_plan_or_history_the_week_hints_are_followed_from_today():
    loads = [
        load(1, weeks=2, total=100, left=50),
        load(2, weeks=3, total=0, left=0, complete=False),
    ]
    # Half of module 1 is left: one of its two weeks; module 2 holds only a capstone: all 3 weeks.
    assert pace.hinted_finish_dates(loads, today=TODAY) == [
        TODAY + timedelta(weeks=1),
        TODAY + timedelta(weeks=4),
    ]


def test_projection_is_behind_a_target_and_offers_the_hours_that_make_it():
    loads = [load(1, left=600), load(2, left=600)]
    projection = pace.project(
        loads,
        today=TODAY,
        enrolled_on=TODAY - timedelta(weeks=4),
        planned_hours=Decimal("2"),
        target_date=TODAY + timedelta(weeks=4),
        done_minutes=0,
    )
    assert projection.basis == pace.BASIS_PLAN
    assert projection.finish == TODAY + timedelta(weeks=10)  # 1200 minutes at 120 a week
    assert projection.behind and projection.days_off == 42
    assert projection.hours_needed == Decimal("5")  # 1200 minutes in 4 weeks
    assert projection.hours_needed_feasible


def test_projection_against_the_hints_when_there_is_no_target():
    loads = [load(1, weeks=2, left=60), load(2, weeks=2, left=60)]
    projection = pace.project(
        loads,
        today=TODAY,
        enrolled_on=TODAY - timedelta(weeks=1),
        planned_hours=Decimal("4"),
        target_date=None,
        done_minutes=0,
    )
    assert projection.goal == TODAY + timedelta(weeks=3) and not projection.goal_is_target
    assert projection.finish == TODAY + timedelta(days=4)  # 120 minutes at 240 a week: 3.5 days
    assert projection.ahead and projection.days_off == 17
    assert projection.hours_needed is None


def test_actual_pace_is_used_without_a_plan_and_reported_beside_one():
    loads = [load(1, left=240)]
    enrolled = TODAY - timedelta(weeks=2)
    unplanned = pace.project(
        loads,
        today=TODAY,
        enrolled_on=enrolled,
        planned_hours=None,
        target_date=None,
        done_minutes=240,
    )
    assert unplanned.basis == pace.BASIS_ACTUAL and unplanned.minutes_per_week == 120
    assert unplanned.finish == TODAY + timedelta(weeks=2)
    planned = pace.project(
        loads,
        today=TODAY,
        enrolled_on=enrolled,
        planned_hours=Decimal("8"),
        target_date=None,
        done_minutes=240,
    )
    assert planned.basis == pace.BASIS_PLAN and planned.actual_finish == TODAY + timedelta(weeks=2)


def test_first_week_counts_as_a_whole_week_and_nothing_done_has_no_pace():
    assert pace.actual_pace(done_minutes=90, enrolled_on=TODAY, today=TODAY) == 90
    assert (
        pace.actual_pace(done_minutes=0, enrolled_on=TODAY - timedelta(weeks=5), today=TODAY)
        is None
    )


def test_hours_needed_is_none_for_a_goal_today_or_past_and_at_least_half_an_hour():
    assert pace.hours_needed(minutes_left=600, today=TODAY, goal=TODAY) is None
    assert pace.hours_needed(
        minutes_left=1, today=TODAY, goal=TODAY + timedelta(weeks=10)
    ) == Decimal("0.5")
    assert (
        pace.hours_needed(minutes_left=10_000, today=TODAY, goal=TODAY + timedelta(days=1))
        > pace.MAX_HOURS_PER_WEEK
    )


loads_strategy = st.lists(
    st.builds(
        lambda i, days, total, share: pace.ModuleLoad(
            i, "m", days, total, total * share // 4, share == 0
        ),
        st.integers(1, 10_000),
        st.integers(0, 60),
        st.integers(0, 3000),
        st.integers(0, 4),
    ),
    max_size=12,
)
hours_strategy = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("80"), places=1)


@given(loads=loads_strategy, hours=hours_strategy)
def test_module_target_dates_never_go_backwards(loads, hours):
    for dates in (
        pace.finish_dates(loads, today=TODAY, pace=pace.minutes_per_week(hours)),
        pace.hinted_finish_dates(loads, today=TODAY),
    ):
        present = [d for d in dates if d is not None]
        assert present == sorted(present)
        assert all(d >= TODAY for d in present)


@given(loads=loads_strategy, slow=hours_strategy, fast=hours_strategy)
def test_more_hours_per_week_never_finish_later(loads, slow, fast):
    slow, fast = min(slow, fast), max(slow, fast)
    slow_plan = pace.project(
        loads, today=TODAY, enrolled_on=TODAY, planned_hours=slow, target_date=None, done_minutes=0
    )
    fast_plan = pace.project(
        loads, today=TODAY, enrolled_on=TODAY, planned_hours=fast, target_date=None, done_minutes=0
    )
    assert fast_plan.finish <= slow_plan.finish
    for a, b in zip(fast_plan.modules, slow_plan.modules, strict=False):
        assert (a.finish is None) == (b.finish is None)
        assert a.finish is None or a.finish <= b.finish


@given(minutes=st.integers(0, 50_000), days=st.integers(1, 800))
def test_the_re_plan_hours_make_the_goal(minutes, days):
    goal = TODAY + timedelta(days=days)
    hours = pace.hours_needed(minutes_left=minutes, today=TODAY, goal=goal)
    finish = pace.finish_dates(
        [load(1, total=minutes, left=minutes, complete=False)],
        today=TODAY,
        pace=pace.minutes_per_week(hours),
    )
    assert finish[0] <= goal
    assert hours % Decimal("0.5") == 0


# --- the service --------------------------------------------------------------------------------


@pytest.fixture
def enrolled(user):
    module = ModuleFactory(weeks=2)
    ResourceFactory(module=module, minutes=120)
    services.enrolment_join(learner=user, track=module.track)
    return module.track


@pytest.mark.django_db
def test_pace_plan_set_saves_and_refuses_bad_values(user, enrolled):
    services.pace_plan_set(
        learner=user, track=enrolled, hours_per_week="2.5", target_date=TODAY, today=TODAY
    )
    for hours, target, message in [
        ("0.4", None, "between 0.5 and 80"),
        ("81", None, "between 0.5 and 80"),
        ("2.25", None, "one decimal place"),
        ("lots", None, "not a number"),
        ("3", TODAY - timedelta(days=1), "in the past"),
    ]:
        with pytest.raises(services.ServiceError, match=message):
            services.pace_plan_set(
                learner=user, track=enrolled, hours_per_week=hours, target_date=target, today=TODAY
            )
    enrolment = Enrolment.objects.get(learner=user, track=enrolled)
    assert (enrolment.hours_per_week, enrolment.target_date) == (Decimal("2.5"), TODAY)


@pytest.mark.django_db
def test_pace_plan_set_needs_an_active_enrolment(user):
    track = TrackFactory(title="Vision")
    with pytest.raises(services.ServiceError, match="Enrol in Vision to plan your pace"):
        services.pace_plan_set(
            learner=user, track=track, hours_per_week="2", target_date=None, today=TODAY
        )


# --- the page -----------------------------------------------------------------------------------


def plan_url(track):
    return f"/tracks/{track.slug}/plan/"


@pytest.mark.django_db
def test_plan_page_needs_login_and_enrolment(client, user, enrolled):
    assert client.get(plan_url(enrolled))["Location"].startswith("/accounts/login/")
    assert client.get(f"/tracks/{enrolled.slug}/plan.ics")["Location"].startswith(
        "/accounts/login/"
    )
    other = UserFactory()
    client.force_login(other)
    response = client.get(plan_url(enrolled))
    assert response.status_code == 302 and response["Location"] == enrolled.get_absolute_url()
    assert client.get("/tracks/no-such-track/plan/").status_code == 404


@pytest.mark.django_db
def test_without_a_plan_the_page_follows_the_week_hints(client, user, enrolled):
    client.force_login(user)
    body = client.get(plan_url(enrolled)).content.decode()
    finish = timezone.localdate() + timedelta(weeks=2)
    assert "follows the modules' time hints" in body
    assert f'datetime="{finish:%Y-%m-%d}"' in body
    assert "On track" in body


@pytest.mark.django_db
def test_catching_up_on_the_first_day_is_not_read_as_a_pace(client, user):
    """Enrol, tick off ten hours already done: the page keeps to the hints and shows no
    "actual pace" of ten hours a week; work done after that first day is the pace."""
    module = ModuleFactory(weeks=4, track=TrackFactory(slug="vision"))
    backlog = [ResourceFactory(module=module, minutes=60) for _ in range(10)]
    later = ResourceFactory(module=module, minutes=120)
    ResourceFactory(module=module, minutes=600)
    enrolled_at = timezone.now() - timedelta(days=14)
    services.enrolment_join(learner=user, track=module.track, now=enrolled_at)
    for resource in backlog:
        services.progress_set_status(
            learner=user, resource=resource, status="done", now=enrolled_at + timedelta(hours=3)
        )
    client.force_login(user)
    body = client.get(plan_url(module.track)).content.decode()
    assert "follows the modules' time hints" in body and 'data-testid="actual-pace"' not in body
    assert "in your first 24 hours after enrolling (catching up, not pace)" in body
    assert "nothing done" not in body  # ten hours were done: the page must not say otherwise

    services.progress_set_status(
        learner=user, resource=later, status="done", now=enrolled_at + timedelta(days=2)
    )
    body = client.get(plan_url(module.track)).content.decode()
    assert "Projected at your actual pace so far" in body
    assert re.search(r'data-testid="actual-pace">[^<]*about 1.0 hours of', body), body


@pytest.mark.django_db
def test_saving_a_plan_shows_the_projection(client, user, enrolled):
    client.force_login(user)
    target = timezone.localdate() + timedelta(weeks=6)
    response = client.post(
        plan_url(enrolled), {"hours_per_week": "1", "target_date": target.isoformat()}, follow=True
    )
    body = response.content.decode()
    assert "Your pace plan is saved." in body
    assert "at your plan of 1.0 hours per week" in body
    # 120 minutes at 60 a week: two weeks from today, four weeks ahead of the target.
    assert f'datetime="{timezone.localdate() + timedelta(weeks=2):%Y-%m-%d}"' in body
    assert "28 days ahead" in body
    assert re.search(r"28 days ahead</span> of\s+your target date of", body)


@pytest.mark.django_db
def test_bad_plan_input_shows_errors_and_changes_nothing(client, user, enrolled):
    client.force_login(user)
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client.post(
        plan_url(enrolled), {"hours_per_week": "100", "target_date": yesterday.isoformat()}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "less than or equal to 80" in body
    assert "The target date is in the past" in body
    enrolment = Enrolment.objects.get(learner=user, track=enrolled)
    assert enrolment.hours_per_week is None and enrolment.target_date is None


@pytest.mark.django_db
def test_behind_the_target_re_plan_sets_the_hours_that_make_it(client, user):
    module = ModuleFactory()
    ResourceFactory(module=module, minutes=600)
    ResourceFactory(module=module, minutes=600)
    services.enrolment_join(learner=user, track=module.track)
    today = timezone.localdate()
    services.pace_plan_set(
        learner=user,
        track=module.track,
        hours_per_week="1",
        target_date=today + timedelta(weeks=4),
        today=today,
    )
    client.force_login(user)
    body = client.get(plan_url(module.track)).content.decode()
    assert "days behind" in body
    assert "Re-plan: 5.0 hours per week" in body or "Re-plan: 5 hours per week" in body

    response = client.post(plan_url(module.track), {"action": "replan_hours"}, follow=True)
    assert "Re-planned: 5" in response.content.decode()
    enrolment = Enrolment.objects.get(learner=user, track=module.track)
    assert enrolment.hours_per_week == Decimal("5") and enrolment.target_date == today + timedelta(
        weeks=4
    )
    assert "On track" in response.content.decode() or "ahead" in response.content.decode()


@pytest.mark.django_db
def test_re_plan_can_move_the_target_date_instead(client, user):
    module = ModuleFactory()
    ResourceFactory(module=module, minutes=600)
    services.enrolment_join(learner=user, track=module.track)
    today = timezone.localdate()
    services.pace_plan_set(
        learner=user, track=module.track, hours_per_week="1", target_date=today, today=today
    )
    client.force_login(user)
    client.post(plan_url(module.track), {"action": "replan_date"})
    enrolment = Enrolment.objects.get(learner=user, track=module.track)
    assert enrolment.target_date == today + timedelta(
        weeks=10
    ) and enrolment.hours_per_week == Decimal("1")
    # Not behind any more: a second press changes nothing.
    response = client.post(plan_url(module.track), {"action": "replan_hours"}, follow=True)
    assert "nothing needed re-planning" in response.content.decode()


@pytest.mark.django_db
def test_the_ics_file_lists_unfinished_modules_and_the_track_finish(client, user, settings):
    settings.SITE_URL = "https://waymark.example"
    track = TrackFactory(slug="cv", title="Computer Vision")
    first = ModuleFactory(track=track, slug="basics", title="Basics")
    second = ModuleFactory(track=track, slug="cnns", title="CNNs")
    done = ResourceFactory(module=first, minutes=30)
    ResourceFactory(module=second, minutes=120)
    services.enrolment_join(learner=user, track=track)
    services.progress_set_status(learner=user, resource=done, status="done")
    today = timezone.localdate()
    services.pace_plan_set(
        learner=user, track=track, hours_per_week="2", target_date=None, today=today
    )
    client.force_login(user)

    response = client.get("/tracks/cv/plan.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="cv-plan.ics"'
    calendar = Calendar.from_ical(response.content)
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"cv-cnns-{user.pk}@waymark", f"cv-track-{user.pk}@waymark"}
    cnns = events[f"cv-cnns-{user.pk}@waymark"]
    assert str(cnns["SUMMARY"]) == "Finish CNNs"
    assert cnns.decoded("DTSTART") == today + timedelta(weeks=1)
    assert "Computer Vision" in str(cnns["DESCRIPTION"])
    assert "https://waymark.example/tracks/cv/" in str(cnns["DESCRIPTION"])
    assert events[f"cv-track-{user.pk}@waymark"].decoded("DTSTART") == today + timedelta(weeks=1)


def build_track_for(user, *, modules, resources):
    track = TrackFactory()
    for _ in range(modules):
        module = ModuleFactory(track=track)
        items = [ResourceFactory(module=module) for _ in range(resources)]
        CapstoneFactory(module=module)
        services.enrolment_join(learner=user, track=track)
        services.progress_set_status(learner=user, resource=items[0], status="done")
    return track


@pytest.mark.django_db
def test_an_open_capstone_is_named_beside_the_minutes_it_leaves_out(client, user):
    track = TrackFactory(slug="dl")
    lessons = ModuleFactory(track=track, title="Lessons", weeks=1)
    ResourceFactory(module=lessons, minutes=90)
    project = ModuleFactory(track=track, title="Capstone project", weeks=4)
    CapstoneFactory(module=project)
    CapstoneFactory(module=project, optional=True)  # never required: not counted
    services.enrolment_join(learner=user, track=track)
    client.force_login(user)
    body = client.get("/tracks/dl/plan/").content.decode()
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th>\s*<td>(.*?)</td>', body, re.S))
    assert rows["Lessons"] == "90 min"
    # Its table scrolls in a box a keyboard can reach (it holds nothing else to focus).
    assert (
        '<div class="table-scroll" tabindex="0" role="region" aria-labelledby="modules-title">'
        in body
    )
    assert rows["Capstone project"] == (
        '0 min <span class="meta">+ 1 capstone (not estimated)</span>'
    )


@pytest.mark.django_db
def test_ahead_says_it_leaves_out_the_capstones_without_an_estimate(client, user):
    """Ten hours a week finish the lessons in two days, weeks ahead of the hints; the capstone
    it cannot count could take those weeks, so "ahead" must say what it leaves out, on the
    page and in the weekly nudge alike."""
    from nudges import emails
    from nudges.selectors import nudge_batch

    track = TrackFactory(slug="dl")
    ResourceFactory(module=ModuleFactory(track=track, title="Lessons", weeks=1), minutes=90)
    CapstoneFactory(module=ModuleFactory(track=track, title="Project", weeks=4))
    services.enrolment_join(learner=user, track=track)
    today = timezone.localdate()
    services.pace_plan_set(
        learner=user, track=track, hours_per_week="10", target_date=None, today=today
    )
    client.force_login(user)
    body = client.get("/tracks/dl/plan/").content.decode()
    status = re.search(r'data-testid="pace-status">(.*?)</p>', body, re.S).group(1)
    assert "ahead" in status
    assert " not counting 1 capstone without a time estimate." in " ".join(status.split())

    data = nudge_batch(learner_ids=[user.pk], week="2026-W01", now=timezone.now())[user.pk]
    email = emails.render_nudge(data)
    assert "ahead, not counting 1 capstone without a time estimate." in email.text
    assert "ahead</span>, not counting 1 capstone without a time estimate." in email.html


@pytest.mark.django_db
def test_plan_page_and_ics_run_a_constant_number_of_queries(client, user):
    small = build_track_for(user, modules=2, resources=2)
    large = build_track_for(user, modules=20, resources=10)
    client.force_login(user)
    for suffix in ("plan/", "plan.ics"):
        with CaptureQueriesContext(connection) as few:
            assert client.get(f"/tracks/{small.slug}/{suffix}").status_code == 200
        with CaptureQueriesContext(connection) as many:
            assert client.get(f"/tracks/{large.slug}/{suffix}").status_code == 200
        assert len(few) == len(many), suffix


def test_a_huge_track_at_the_slowest_pace_projects_a_clamped_date_instead_of_crashing():
    loads = [load(i, weeks=520, total=10_000_000, left=10_000_000) for i in range(1, 40)]
    projection = pace.project(
        loads,
        today=TODAY,
        enrolled_on=TODAY,
        planned_hours=Decimal("0.5"),
        target_date=None,
        done_minutes=0,
    )
    horizon = TODAY + timedelta(days=pace.HORIZON_DAYS)
    assert projection.finish == horizon
    assert all(module.finish <= horizon for module in projection.modules)


@pytest.mark.django_db
def test_a_module_of_optional_items_only_reads_as_such_not_done(client, user):
    """The TensorFlow track's optional certificate module read "done" before anyone touched it."""
    track = TrackFactory(slug="tf")
    ResourceFactory(module=ModuleFactory(track=track, title="Basics", position=1), minutes=60)
    extra = ModuleFactory(track=track, title="Certificate (optional)", position=2)
    ResourceFactory(module=extra, minutes=600, optional=True)
    services.enrolment_join(learner=user, track=track)
    client.force_login(user)
    body = client.get("/tracks/tf/plan/").content.decode()
    row = body[body.index("Certificate (optional)") :].split("</tr>", 1)[0]
    assert "optional only: nothing required" in row and ">done<" not in row


def test_under_an_hours_work_measures_no_pace():
    """One 30-minute item five days in projected a one-day workshop eleven weeks out."""
    five_days_in = TODAY - timedelta(days=5)
    assert pace.actual_pace(done_minutes=30, enrolled_on=five_days_in, today=TODAY) is None
    assert pace.actual_pace(done_minutes=60, enrolled_on=five_days_in, today=TODAY) == 60
    workshop = pace.project(
        [load(1, weeks=0, days=1, total=360, left=330)],
        today=TODAY,
        enrolled_on=five_days_in,
        planned_hours=None,
        target_date=None,
        done_minutes=30,
    )
    assert workshop.basis == pace.BASIS_HINTS and workshop.finish <= TODAY + timedelta(days=1)
