"""What learners see of format 1.1 on the track page, the dashboard, the pace plan and its
calendar: prerequisites before enrolling, module numbers once, days, "pick 2 of 3", optional
capstones, and resources of kind track shown as following their track."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar

from curriculum.models import ResourceKind
from tests.factories import (
    CapstoneFactory,
    ModuleFactory,
    ResourceFactory,
    TrackFactory,
    UserFactory,
)
from tests.tracker.test_track_page import HX, build_track, learner_with_state, status_url
from tracker import services
from tracker.models import Progress

pytestmark = pytest.mark.django_db


@pytest.fixture
def tracks():
    base = TrackFactory(slug="base", title="The Base Course")
    base_module = ModuleFactory(track=base, title="Only")
    base_items = [ResourceFactory(module=base_module, minutes=10) for _ in range(2)]
    outer = TrackFactory(
        slug="outer",
        title="Outer",
        prerequisites="Know **Python**.",
        prerequisites_html="<p>Know <strong>Python</strong>.</p>",
    )
    stage = ModuleFactory(track=outer, slug="stage", title="A Practical Encounter", days=1, weeks=0)
    linked = ResourceFactory(
        module=stage,
        slug="the-base-course",
        title="Stage one: the base course",
        kind=ResourceKind.TRACK,
        linked_track=base,
        url="",
        minutes=600,
    )
    dive = ModuleFactory(
        track=outer, slug="dive", title="Deep Dive", weeks=8, choices_required={"route": 2}
    )
    routes = [
        ResourceFactory(module=dive, slug=f"route-{n}", choice="route", minutes=60)
        for n in range(3)
    ]
    optional = CapstoneFactory(
        module=dive, slug="assessment", title="The assessment", optional=True, review="self"
    )
    return {
        "base": base,
        "base_items": base_items,
        "outer": outer,
        "linked": linked,
        "routes": routes,
        "optional": optional,
    }


def test_a_visitor_reads_the_prerequisites_before_the_enrol_button(client, tracks):
    body = client.get("/tracks/outer/").content.decode()
    assert body.index("Before you start") < body.index("Know <strong>Python</strong>.")
    assert body.index("Know <strong>Python</strong>.") < body.index("Log in to enrol")
    # Numbered once, by the page; the pacing hint in days; the group's rule; the optional capstone.
    assert ">1. A Practical Encounter</h2>" in body and ">2. Deep Dive</h2>" in body
    assert '<p class="meta">1 day' in body and '<p class="meta">8 weeks' in body
    assert body.count("pick 2 of 3 (route)") == 3
    assert "Optional: it never stands between you and finishing the track" in body
    # The resource of kind track links to its track (no progress for a visitor).
    assert '<a href="/tracks/base/">Stage one: the base course</a>' in body
    assert "Done when you complete the track" in body and "linked-progress" not in body


def test_an_enrolled_learner_sees_the_linked_track_progress_and_no_buttons_for_it(
    client, tracks, user
):
    services.enrolment_join(learner=user, track=tracks["outer"])
    services.enrolment_join(learner=user, track=tracks["base"])
    services.progress_set_status(learner=user, resource=tracks["base_items"][0], status="done")
    client.force_login(user)
    body = client.get("/tracks/outer/").content.decode()
    row = body[body.index('id="resource-the-base-course"') :]
    row = row[: row.index("</li>")]
    assert 'name="status"' not in row
    assert "1 of 2 done in that track" in row
    assert body.count('name="status"') == 3 * 4  # the three routes only
    # Its status cannot be posted either: the page says why, nothing is written.
    response = client.post(status_url(tracks["linked"]), {"status": "done"}, follow=True)
    assert "is done when you complete the track it stands for" in response.content.decode()
    assert not Progress.objects.filter(resource=tracks["linked"]).exists()


def test_finishing_the_base_track_in_the_browser_announces_the_outer_resource(client, tracks, user):
    services.enrolment_join(learner=user, track=tracks["base"])
    services.enrolment_join(learner=user, track=tracks["outer"])
    first, second = tracks["base_items"]
    services.progress_set_status(learner=user, resource=first, status="done")
    client.force_login(user)
    body = client.post(status_url(second), {"status": "done"}, **HX).content.decode()
    assert "“Stage one: the base course” in Outer is done too" in body
    assert "(600 points earned)" in body
    outer = client.get("/tracks/outer/").content.decode()
    assert "✓ Complete</strong> · 2 of 2 done in that track" in outer
    assert 'class="resource is-done" id="resource-the-base-course"' in outer


def test_the_dashboard_continues_with_the_linked_track(client, tracks, user):
    services.enrolment_join(learner=user, track=tracks["outer"])
    client.force_login(user)
    body = client.get("/me/").content.decode()
    assert '<a href="/tracks/base/" data-testid="continue">Stage one: the base course</a>' in body
    assert "the track The Base Course, which completes it" in body


def test_the_pace_plan_and_calendar_use_days(client, tracks, user):
    services.enrolment_join(learner=user, track=tracks["outer"])
    client.force_login(user)
    body = client.get("/tracks/outer/plan/").content.decode()
    assert "(1 day)" in body and "(8 weeks)" in body
    assert "the 8 weeks and 1 day of this track" in body
    calendar = Calendar.from_ical(client.get("/tracks/outer/plan.ics").content)
    ends = {str(e["summary"]): e.decoded("dtstart") for e in calendar.walk("VEVENT")}
    # No plan and nothing done yet: the hints decide; the one-day module ends tomorrow.
    today = timezone.now().date()
    assert ends["Finish A Practical Encounter"] == today + timedelta(days=1)
    assert ends["Finish Deep Dive"] == today + timedelta(days=1 + 8 * 7)


def test_the_track_page_with_linked_tracks_runs_a_constant_number_of_queries(client):
    def outer_with_links(slug: str, size: int):
        resources = build_track(slug, size, size)
        for n in range(size):  # as many tracks standing by, each as large
            other = build_track(f"{slug}-linked-{n}", size, size)
            resources.append(
                ResourceFactory(
                    module=resources[0].module,
                    kind=ResourceKind.TRACK,
                    linked_track=other[0].track,
                    url="",
                )
            )
        return resources

    small = outer_with_links("small", 2)
    large = outer_with_links("large", 6)
    small_learner = learner_with_state({"small": [r for r in small if not r.linked_track_id]})
    large_learner = learner_with_state({"large": [r for r in large if not r.linked_track_id]})
    counts = []
    for learner, slug in ((small_learner, "small"), (large_learner, "large")):
        client.force_login(learner)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/tracks/{slug}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # Without resources of kind track the page runs no extra query at all.
    plain = build_track("plain", 2, 2)
    client.force_login(learner_with_state({"plain": plain}))
    with CaptureQueriesContext(connection) as queries:
        client.get("/tracks/plain/")
    # Three more: the linked tracks' versions (their structures are cached), and the learner's
    # notes and submissions apart from their progress (a plain page reads all three in one
    # statement; here the progress query also brings their completions in the linked tracks).
    assert counts[0] == len(queries) + 3


def test_a_module_with_only_optional_items_says_so(client, user):
    module = ModuleFactory(track=TrackFactory(slug="opt"), title="Extras")
    ResourceFactory(module=module, optional=True)
    CapstoneFactory(module=module, optional=True)
    ResourceFactory(module=ModuleFactory(track=module.track))
    services.enrolment_join(learner=user, track=module.track)
    client.force_login(user)
    body = client.get("/tracks/opt/").content.decode()
    assert "Everything in this module is optional." in body
    assert "0 of 0 done" not in body


def test_an_empty_module_does_not_claim_its_items_are_optional(client, user):
    """A lead adds a module in the editor before its resources: learners read "Everything in
    this module is optional." about a module with nothing in it."""
    track = TrackFactory(slug="empty")
    ResourceFactory(module=ModuleFactory(track=track, title="Filled"))
    ModuleFactory(track=track, title="Coming soon")
    services.enrolment_join(learner=user, track=track)
    client.force_login(user)
    body = client.get("/tracks/empty/").content.decode()
    assert "Nothing in this module yet." in body
    assert "Everything in this module is optional." not in body


def test_learners_without_the_linked_track_started_see_zero_of_its_units(client, tracks):
    learner = UserFactory()
    services.enrolment_join(learner=learner, track=tracks["outer"])
    client.force_login(learner)
    body = client.get("/tracks/outer/").content.decode()
    assert "0 of 2 done in that track" in body


def test_the_capstone_page_says_an_optional_capstone_is_optional(client, tracks, user):
    services.enrolment_join(learner=user, track=tracks["outer"])
    client.force_login(user)
    body = client.get("/tracks/outer/capstones/assessment/").content.decode()
    assert "Optional: the track is complete without it." in body
