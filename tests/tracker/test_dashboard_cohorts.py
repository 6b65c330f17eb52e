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
    due = starts_on + timedelta(days=13)  # yesterday: past, so "was due", not "by"
    assert f"was due {due:%a} {due.day} {due:%b %Y} (week 2)" in body
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


def test_the_pace_page_shows_the_cohorts_plan_and_adopts_its_date(client, user):
    """A cohort member read "1 day ahead of the time hints" on the pace page and "Behind by 5
    modules" on every cohort page, with no word of the other."""
    track = TrackFactory(title="AI Track", slug="ai")
    first = ModuleFactory(track=track, title="Neural networks", position=1, weeks=4)
    second = ModuleFactory(track=track, title="Object detection", position=2, weeks=4)
    ResourceFactory(module=first)
    ResourceFactory(module=second)
    starts_on = today() - timedelta(weeks=2)
    cohort = cohort_with(
        slug="techlabs-berlin",
        name="TechLabs Berlin",
        tracks=[track],
        starts_on=starts_on,
        phases=[],
        targets={first: 2, second: 4},
    )
    member_of(cohort, user)
    client.force_login(user)
    done_by = starts_on + timedelta(weeks=4, days=-1)

    body = client.get("/tracks/ai/plan/").content.decode()
    section = body[body.index('data-testid="cohort-plan"') :].split("</section>", 1)[0]
    assert "Your cohort: TechLabs Berlin" in section
    assert "you are <strong>behind by 1 module</strong>" in section
    assert f'Its plan has this track done by <time datetime="{done_by:%Y-%m-%d}">' in section
    assert "against the track's own time hints" in section

    response = client.post(
        "/tracks/ai/plan/", {"action": "cohort_date", "cohort": "techlabs-berlin"}, follow=True
    )
    body = response.content.decode()
    assert f"Your target date is now {done_by:%d %b %Y}" in body
    assert "That is your target date" in body
    from tracker.models import Enrolment

    assert Enrolment.objects.get(learner=user, track=track).target_date == done_by
    # The cohort's plan moves earlier afterwards: the page says the dates no longer agree.
    from cohorts.models import CohortModuleTarget

    CohortModuleTarget.objects.filter(cohort=cohort, module=second).update(target_week=3)
    body = client.get("/tracks/ai/plan/").content.decode()
    assert f"Your target date, {done_by:%-d %B %Y}, is not the cohort&#x27;s" not in body
    assert f"Your target date, {done_by:%-d %B %Y}, is not the cohort's: it gives you more" in body


def test_no_cohort_section_on_the_pace_page_outside_cohorts(client, user):
    track = TrackFactory(slug="solo")
    ResourceFactory(module=ModuleFactory(track=track))
    services.enrolment_join(learner=user, track=track)
    client.force_login(user)
    assert 'data-testid="cohort-plan"' not in client.get("/tracks/solo/plan/").content.decode()
    response = client.post("/tracks/solo/plan/", {"action": "cohort_date", "cohort": "x"})
    assert response.status_code == 302  # refused with a message, nothing changed


def test_the_pace_pages_cohort_section_runs_a_constant_number_of_queries(client, user):
    """One cohort on a small track against three cohorts on a track ten times the size."""

    def member_track(slug: str, *, modules: int, cohorts: int):
        track = TrackFactory(slug=slug)
        built = [ModuleFactory(track=track, position=n, weeks=1) for n in range(modules)]
        for module in built:
            ResourceFactory(module=module)
        for n in range(cohorts):
            cohort = cohort_with(
                slug=f"{slug}-{n}",
                name=f"{slug} {n}",
                tracks=[track],
                starts_on=today() - timedelta(weeks=1),
                phases=[],
                targets={module: i + 1 for i, module in enumerate(built)},
            )
            member_of(cohort, user)
        return track

    member_track("small", modules=2, cohorts=1)
    member_track("large", modules=20, cohorts=3)
    client.force_login(user)
    counts = []
    for slug, cohorts in (("small", 1), ("large", 3)):
        with CaptureQueriesContext(connection) as queries:
            body = client.get(f"/tracks/{slug}/plan/").content.decode()
        assert body.count('data-testid="cohort-plan"') == cohorts
        counts.append(len(queries))
    assert counts[0] == counts[1]
