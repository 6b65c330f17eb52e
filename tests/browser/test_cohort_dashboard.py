"""The cohort dashboard's filters from the keyboard in Chromium: a closed <select> fires change
on every arrow key, and each change sent a request (the table jumped under the admin moving
through the options). The form now asks once the choice has settled, and the new count is
said through the page's one polite announcer, which is there before it changes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.session import log_in
from tests.factories import (
    ModuleFactory,
    ResourceFactory,
    TrackFactory,
    UserFactory,
    cohort_member,
    cohort_with_tracks,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def paced_cohort():
    """Week 3 of a cohort with one module due a week: two members behind, one on pace, one
    ahead."""
    track = TrackFactory(slug="dl", title="Deep Learning")
    modules = [ModuleFactory(track=track, title=f"Part {n}", position=n) for n in range(1, 7)]
    for module in modules:
        ResourceFactory(module=module)
    admin = UserFactory()
    today = timezone.localdate()
    cohort = cohort_with_tracks(
        track,
        admin=admin,
        slug="autumn",
        targets={module: week for week, module in enumerate(modules, start=1)},
        starts_on=today - timedelta(weeks=3) + timedelta(days=1),
        ends_on=today + timedelta(weeks=10),
    )
    for name, done in (("Ada Ahead", 4), ("Otto On Pace", 2), ("Bea Behind", 0), ("Ben Behind", 1)):
        cohort_member(
            cohort,
            display_name=name,
            totals={track: {"done_units": done, "required_units": 6, "modules_done": done}},
        )
    return cohort, admin


def test_arrow_keys_in_a_filter_select_ask_once_the_choice_has_settled(page, live_server):
    cohort, admin = paced_cohort()
    log_in(page, live_server, admin)
    asked = []
    page.on(
        "request",
        lambda request: (
            asked.append(request.url)
            if request.url.startswith(f"{live_server.url}/cohorts/autumn/?")
            else None
        ),
    )
    page.goto(f"{live_server.url}/cohorts/autumn/")
    names = page.get_by_test_id("member-row").locator("th")
    expect(names).to_have_count(4)
    announcer = page.locator("#announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(announcer).to_have_text("")
    announcer.evaluate("box => { box.__before = true; }")

    pace = page.get_by_label("Pace", exact=True)
    pace.focus()
    for _ in range(3):  # Any pace → Ahead → On pace → Behind, as a keyboard user looks
        page.keyboard.press("ArrowDown")
    expect(pace).to_have_value("behind")
    expect(page).to_have_url(re.compile(r"pace=behind"))
    expect(names).to_have_text(["Bea Behind", "Ben Behind"])
    expect(announcer).to_have_text("2 members, showing 1–2.")
    page.wait_for_timeout(1000)  # nothing else follows
    assert asked == [f"{live_server.url}/cohorts/autumn/?q=&track=&pace=behind&sort=name"]
    assert announcer.evaluate("box => box.__before === true")
    expect(pace).to_be_focused()
    expect(page.get_by_test_id("member-count")).to_contain_text(
        "2 members, showing 1–2. Points are those earned on this cohort's tracks."
    )

    # The button asks at once, and the change waiting to be sent is then dropped.
    asked.clear()
    pace.select_option(label="Ahead")
    page.get_by_role("button", name="Show members").click()
    expect(names).to_have_text(["Ada Ahead"])
    expect(announcer).to_have_text("1 member, showing 1–1.")
    page.wait_for_timeout(1000)
    assert asked == [f"{live_server.url}/cohorts/autumn/?q=&track=&pace=ahead&sort=name"]


def test_without_javascript_the_filters_are_a_plain_form(page_without_js, live_server):
    cohort, admin = paced_cohort()
    page = page_without_js
    log_in(page, live_server, admin)
    page.goto(f"{live_server.url}/cohorts/autumn/")
    page.get_by_label("Pace", exact=True).select_option(label="Behind")
    page.get_by_role("button", name="Show members").click()
    expect(page).to_have_url(re.compile(r"pace=behind"))
    expect(page.get_by_test_id("member-row").locator("th")).to_have_text(
        ["Bea Behind", "Ben Behind"]
    )
