"""The learner's own pages in a real browser: dashboard, pace plan (no JavaScript needed) and
history, at phone width, without a Content-Security-Policy complaint in the console."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.factories import ModuleFactory, ResourceFactory, TrackFactory, UserFactory
from tracker import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def learner_with_progress(page, live_server):
    track = TrackFactory(slug="dl", title="Deep Learning")
    module = ModuleFactory(track=track, title="Intro", weeks=2)
    lecture = ResourceFactory(module=module, slug="lecture", title="Lecture", minutes=30)
    ResourceFactory(module=module, slug="reading", title="Reading", minutes=90)
    user = UserFactory()
    services.enrolment_join(learner=user, track=track)
    services.progress_set_status(learner=user, resource=lecture, status="done")
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.set_viewport_size({"width": 360, "height": 800})
    return track


def csp_or_script_errors(page) -> list[str]:
    return [e for e in page.console_errors if "status of 404" not in e]


@pytest.mark.parametrize("javascript", [True, False])
def test_dashboard_plan_and_history(request, live_server, javascript):
    page = request.getfixturevalue("page" if javascript else "page_without_js")
    learner_with_progress(page, live_server)

    page.goto(f"{live_server.url}/me/")
    expect(page.get_by_test_id("points-total")).to_have_text("30")
    expect(page.get_by_test_id("units")).to_contain_text("1 of 2 done (50%)")
    page.get_by_role("link", name="Plan your pace").click()

    page.get_by_label("Hours per week").fill("1.5")
    page.get_by_role("button", name="Save plan").click()
    expect(page.get_by_role("status")).to_contain_text("Your pace plan is saved.")
    # 90 minutes left at 90 a week: a week from today.
    expect(page.get_by_test_id("pace-status")).to_contain_text("ahead")
    expect(page.get_by_role("link", name="Download as calendar (.ics)")).to_be_visible()

    page.goto(f"{live_server.url}/me/progress/")
    chart = page.get_by_role("img", name="Points per week, last 26 weeks")
    expect(chart).to_be_visible()
    page.get_by_text("Points per week as a table").click()
    expect(page.get_by_role("table")).to_contain_text("30")
    # No horizontal scrolling at phone width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert csp_or_script_errors(page) == []
