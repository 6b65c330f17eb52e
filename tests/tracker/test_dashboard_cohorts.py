"""The cohort card on /me/: each cohort the learner is a member of, its current phase, the next
module target with its due date, and their pace against the cohort's plan."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cohorts.standing import member_url
from tests.cohorts.member_world import cohort_with, member_of
from tests.factories import ModuleFactory, ResourceFactory, TrackFactory, UserFactory
from tracker import services

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


def test_the_card_shows_phase_next_target_and_pace(client, user):
    track = TrackFactory(title="AI Track")
    first = ModuleFactory(track=track, title="Neural networks", position=1)
    second = ModuleFactory(track=track, title="Object detection", position=2)
    resource = ResourceFactory(module=first)
    ResourceFactory(module=second)
    starts_on = today() - timedelta(weeks=2)  # today is in week 3
    cohort = cohort_with(
        slug="techlabs-berlin",
        name="TechLabs Berlin",
        tracks=[track],
        starts_on=starts_on,
        phases=[("Learning phase", 1, 6), ("Project phase", 7, 12)],
        targets={first: 2, second: 4},
    )
    member_of(cohort, user)
    client.force_login(user)

    body = client.get("/me/").content.decode()
    assert "Your cohort</h2>" in body and "TechLabs Berlin" in body
    if member_url(cohort):
        assert f'href="{member_url(cohort)}"' in body
    assert "Learning phase" in body and "(week 3)" in body
    assert "Neural networks" in body
    due = starts_on + timedelta(days=13)
    assert f"by {due:%a} {due.day} {due:%b %Y} (week 2)" in body
    assert 'data-testid="cohort-pace">Behind by 1 module<' in body

    # Finishing the module moves the next target on; the pace follows the kept total.
    services.progress_set_status(learner=user, resource=resource, status="done")
    body = client.get("/me/").content.decode()
    assert "Object detection" in body and "(week 4)" in body
    assert 'data-testid="cohort-pace">On pace<' in body


def test_no_card_outside_cohorts_and_none_for_an_admin(client, user):
    track = TrackFactory()
    cohort = cohort_with(slug="run-by-them", tracks=[track], starts_on=today())
    member_of(cohort, user, role="admin")
    client.force_login(user)
    body = client.get("/me/").content.decode()
    assert 'id="cohorts-title"' not in body and "cohort-card" not in body


def test_a_cohort_without_a_plan_says_so(client, user):
    track = TrackFactory()
    ResourceFactory(module=ModuleFactory(track=track))
    member_of(cohort_with(slug="unplanned", tracks=[track], starts_on=today()), user)
    client.force_login(user)
    body = client.get("/me/").content.decode()
    assert "No pace plan yet" in body and 'data-testid="cohort-pace"' not in body


def grow(user, *, cohorts: int, modules: int) -> None:
    for _ in range(cohorts):
        track = TrackFactory()
        targets = {}
        for week in range(1, modules + 1):
            module = ModuleFactory(track=track)
            resource = ResourceFactory(module=module)
            targets[module] = week
        cohort = cohort_with(
            slug=f"cohort-{track.pk}",
            tracks=[track],
            starts_on=today() - timedelta(weeks=1),
            phases=[("Learning", 1, 4), ("Project", 5, 8)],
            targets=targets,
        )
        member_of(cohort, user)
        services.progress_set_status(learner=user, resource=resource, status="done")
        other = UserFactory()  # other members change nothing for this learner
        member_of(cohort, other)


def test_the_dashboard_with_cohorts_runs_a_constant_number_of_queries(client, user):
    client.force_login(user)
    grow(user, cohorts=1, modules=3)
    with CaptureQueriesContext(connection) as small:
        assert client.get("/me/").status_code == 200
    grow(user, cohorts=9, modules=30)
    with CaptureQueriesContext(connection) as large:
        response = client.get("/me/")
    assert response.content.decode().count('class="card cohort-card"') == 10
    assert len(small) == len(large), [q["sql"] for q in large.captured_queries]
