import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import (
    CapstoneFactory,
    ModuleFactory,
    ResourceFactory,
    TrackFactory,
    UserFactory,
)
from tracker import selectors, services, weeks
from tracker.models import Profile

WEDNESDAY = date(2025, 3, 12)


# --- the streak rule (pure) ---------------------------------------------------------------------


def test_streak_counts_this_week_when_it_has_a_completion():
    active = [
        WEDNESDAY,
        WEDNESDAY - timedelta(weeks=1),
        WEDNESDAY - timedelta(weeks=2),
        WEDNESDAY - timedelta(weeks=4),
    ]
    assert weeks.current_streak(active, today=WEDNESDAY) == 3


def test_an_empty_current_week_does_not_break_the_streak_yet():
    active = [WEDNESDAY - timedelta(weeks=1), WEDNESDAY - timedelta(weeks=2)]
    assert weeks.current_streak(active, today=WEDNESDAY) == 2
    # ...but an empty last week does.
    assert weeks.current_streak([WEDNESDAY - timedelta(weeks=2)], today=WEDNESDAY) == 0
    assert weeks.current_streak([], today=WEDNESDAY) == 0


def test_weeks_run_monday_to_sunday():
    sunday, monday = date(2025, 3, 9), date(2025, 3, 10)
    assert weeks.week_start(sunday) == date(2025, 3, 3) and weeks.week_start(monday) == monday
    assert weeks.current_streak([sunday], today=monday) == 1


@given(st.sets(st.integers(0, 60)), st.integers(0, 6))
def test_streak_is_the_run_of_consecutive_weeks_before_today(offsets, weekday):
    today = date(2025, 3, 10) + timedelta(days=weekday)
    active = [today - timedelta(weeks=n) for n in offsets]
    streak = weeks.current_streak(active, today=today)
    start = 0 if 0 in offsets else 1
    assert all(start + n in offsets for n in range(streak))
    assert start + streak not in offsets


# --- the page -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dashboard_needs_login(client):
    response = client.get("/me/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_a_new_learner_sees_how_to_start(client, user):
    client.force_login(user)
    body = client.get("/me/").content.decode()
    assert "You are not enrolled in any track yet" in body
    assert 'href="/"' in body


@pytest.mark.django_db
def test_dashboard_shows_progress_points_next_step_and_planning(client, user):
    track = TrackFactory(slug="cv", title="Computer Vision")
    first = ModuleFactory(track=track, title="Basics")
    second = ModuleFactory(track=track, title="CNNs")
    a = ResourceFactory(module=first, minutes=30)
    b = ResourceFactory(module=first, slug="watch-lesson-2", title="Lesson 2", minutes=45)
    ResourceFactory(module=first, minutes=500, optional=True)
    ResourceFactory(module=second, minutes=None)  # counts the default estimate
    CapstoneFactory(module=second)
    services.enrolment_join(learner=user, track=track)
    services.progress_set_status(learner=user, resource=a, status="done")
    services.progress_set_status(learner=user, resource=b, status="in_progress")
    client.force_login(user)

    body = client.get("/me/").content.decode()
    assert "Computer Vision" in body
    assert "1 of 4 done (25%)" in body
    assert 'data-testid="points-total">30<' in body
    assert 'href="/tracks/cv/#resource-watch-lesson-2"' in body
    # 45 minutes for Lesson 2 + 30 estimated for the item without minutes.
    assert "1.2 h" in body and "counts as 30 minutes" in body
    assert "1.2 h + 1 capstone</td>" in body  # the open capstone has no estimate: named
    assert 'data-testid="hours-left-total">1.2 h + 1 capstone</td>' in body
    assert 'href="/tracks/cv/plan/"' in body
    assert 'data-testid="streak">1<' in body
    assert "This week counts already." in body
    assert "+30 pts" in body and "In progress" in body


@pytest.mark.django_db
def test_left_tracks_are_not_shown_and_points_stay(client, user):
    resource = ResourceFactory(minutes=25)
    services.enrolment_join(learner=user, track=resource.track)
    services.progress_set_status(learner=user, resource=resource, status="done")
    services.enrolment_leave(learner=user, track=resource.track)
    client.force_login(user)
    body = client.get("/me/").content.decode()
    assert "You are not enrolled in any track yet" in body
    assert 'data-testid="points-total">25<' in body


@pytest.mark.django_db
def test_streak_follows_the_learners_time_zone(client, user):
    resource = ResourceFactory()
    services.enrolment_join(learner=user, track=resource.track)
    # Sunday 23:30 UTC is already Monday in Tokyo: that completion belongs to the week before
    # last in UTC but to last week in Tokyo, where the other completion also is.
    monday = timezone.now() - timedelta(days=timezone.now().weekday())
    sunday_late = datetime.combine(
        monday.date() - timedelta(days=8), datetime.min.time(), tzinfo=UTC
    ) + timedelta(hours=23, minutes=30)
    services.progress_set_status(learner=user, resource=resource, status="done", now=sunday_late)
    other = ResourceFactory(module=resource.module)
    services.progress_set_status(
        learner=user, resource=other, status="done", now=sunday_late + timedelta(days=3)
    )
    profile = Profile.objects.get(user=user)
    board = selectors.dashboard_for(learner=user, profile=profile, now=monday)
    assert board.streak == 2 and not board.streak_counts_this_week  # nothing done this week
    profile.time_zone = "Asia/Tokyo"
    assert selectors.dashboard_for(learner=user, profile=profile, now=monday).streak == 1


@pytest.mark.django_db
def test_a_completion_undone_does_not_keep_its_week_in_the_streak(user):
    resource = ResourceFactory()
    services.enrolment_join(learner=user, track=resource.track)
    now = timezone.now()
    last_week = now - timedelta(weeks=1)
    services.progress_set_status(learner=user, resource=resource, status="done", now=last_week)
    profile = Profile.objects.get(user=user)
    assert selectors.dashboard_for(learner=user, profile=profile, now=now).streak == 1
    services.progress_set_status(
        learner=user, resource=resource, status="in_progress", now=last_week
    )
    assert selectors.dashboard_for(learner=user, profile=profile, now=now).streak == 0


@pytest.mark.django_db
def test_continue_with_passes_over_what_the_learner_skipped(client, user):
    module = ModuleFactory(track__slug="nlp")
    first = ResourceFactory(module=module, slug="first")
    ResourceFactory(module=module, slug="second")
    services.enrolment_join(learner=user, track=module.track)
    client.force_login(user)
    suggestion = '<a href="/tracks/nlp/#resource-{}" data-testid="continue">'
    assert suggestion.format("first") in client.get("/me/").content.decode()
    services.progress_set_status(learner=user, resource=first, status="skipped")
    body = client.get("/me/").content.decode()
    assert suggestion.format("second") in body and suggestion.format("first") not in body


@pytest.mark.django_db
def test_activity_on_removed_items_is_listed_without_a_dead_link(client, user):
    resource = ResourceFactory(module__track__slug="cv", slug="gone", title="Gone video")
    services.enrolment_join(learner=user, track=resource.track)
    services.progress_set_status(learner=user, resource=resource, status="done")
    resource.archived_at = timezone.now()  # the lead removed it, as a reload does
    resource.save()
    client.force_login(user)
    body = client.get("/me/").content.decode()
    assert "Gone video" in body and "#resource-gone" not in body


@pytest.mark.django_db
def test_certificates_are_linked(client, user):
    resource = ResourceFactory(track__title="Tiny Track")
    services.enrolment_join(learner=user, track=resource.track)
    certificate = services.progress_set_status(
        learner=user, resource=resource, status="done"
    ).certificate
    client.force_login(user)
    body = client.get("/me/").content.decode()
    assert f'href="{certificate.get_absolute_url()}"' in body
    assert "Every required item is done." in body


def build(user, *, tracks, modules, resources):
    for _ in range(tracks):
        track = TrackFactory()
        services.enrolment_join(learner=user, track=track)
        for _ in range(modules):
            module = ModuleFactory(track=track)
            items = [ResourceFactory(module=module) for _ in range(resources)]
            CapstoneFactory(module=module)
            services.progress_set_status(learner=user, resource=items[0], status="done")
            services.progress_set_status(learner=user, resource=items[-1], status="in_progress")


@pytest.mark.django_db
def test_dashboard_runs_a_constant_number_of_queries(client, user):
    client.force_login(user)
    build(user, tracks=1, modules=2, resources=2)
    with CaptureQueriesContext(connection) as small:
        assert client.get("/me/").status_code == 200
    build(user, tracks=10, modules=4, resources=5)
    build(UserFactory(), tracks=2, modules=2, resources=2)  # someone else's data changes nothing
    with CaptureQueriesContext(connection) as large:
        response = client.get("/me/")
    assert response.status_code == 200
    assert response.content.decode().count('class="card dashboard-track"') == 11
    assert len(small) == len(large) <= 20, [q["sql"] for q in large.captured_queries]


@pytest.mark.django_db
def test_activity_times_are_shown_in_the_learners_time_zone(client, user):
    resource = ResourceFactory(title="Late lecture")
    services.enrolment_join(learner=user, track=resource.track)
    when = timezone.now().replace(hour=23, minute=30, second=0, microsecond=0) - timedelta(days=1)
    services.progress_set_status(learner=user, resource=resource, status="done", now=when)
    services.profile_update(
        user=user,
        display_name="",
        time_zone="Asia/Tokyo",
        nudge_enabled=False,
        nudge_weekday=0,
        nudge_hour=9,
    )
    client.force_login(user)
    assert ", 08:30</time>" in client.get("/me/").content.decode()  # 23:30 UTC is 08:30 in Tokyo


@pytest.mark.django_db
def test_each_earlier_event_of_an_item_says_what_happened(client, user):
    """Done, then back to in progress: the award at the first click was listed as bare
    "+N pts" beside the item's latest status."""
    resource = ResourceFactory(title="Twice lecture", minutes=30)
    services.enrolment_join(learner=user, track=resource.track)
    start = timezone.now() - timedelta(hours=2)
    services.progress_set_status(learner=user, resource=resource, status="done", now=start)
    services.progress_set_status(
        learner=user, resource=resource, status="in_progress", now=start + timedelta(hours=1)
    )
    client.force_login(user)
    body = client.get("/me/").content.decode()
    activity = body[body.index('id="activity-title"') : body.index('id="certificates-title"')]
    rows = [" ".join(re.sub(r"<[^>]+>", " ", li).split()) for li in activity.split("<li")[1:]]
    assert len(rows) == 2, rows
    assert "In progress Twice lecture -30 pts" in rows[0]
    assert "Done Twice lecture +30 pts" in rows[1]
