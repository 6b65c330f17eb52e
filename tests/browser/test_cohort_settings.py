"""A cohort's pace plan in Chromium with JavaScript: "Reset to the defaults…" asks in place,
"Keep the pace plan as it is" closes the question (it only jumped to an anchor, leaving the
question up), focus follows each step, and confirming resets."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cohorts import services as cohort_services
from cohorts.models import CohortModuleTarget
from tests.browser.session import log_in
from tests.factories import ModuleFactory, ResourceFactory, TrackFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def spring_cohort():
    """Staff's eight-week cohort "spring" on a track of two one-week modules, from today."""
    track = TrackFactory(slug="dl", title="Deep Learning")
    tensors = ModuleFactory(track=track, title="Tensors", weeks=1)
    ResourceFactory(module=tensors)
    ResourceFactory(module=ModuleFactory(track=track, title="Training", weeks=1))
    admin = UserFactory(is_staff=True)
    today = timezone.localdate()
    cohort = cohort_services.cohort_create(
        by=admin,
        name="Spring",
        slug="spring",
        starts_on=today,
        ends_on=today + timedelta(weeks=8),
        track_ids=[track.pk],
    )
    return cohort, tensors, admin


def test_reset_asks_in_place_keep_closes_the_question_and_confirm_resets(page, live_server):
    cohort, tensors, admin = spring_cohort()
    log_in(page, live_server, admin)
    page.goto(f"{live_server.url}/cohorts/spring/settings/")
    plan = page.locator("#pace-plan")
    plan.get_by_label("Target week for Tensors").fill("4")
    plan.get_by_role("button", name="Save pace plan").click()
    expect(page.locator("#pace-plan")).to_contain_text("Pace plan saved.")

    page.locator("#pace-plan").get_by_role("button", name="Reset to the defaults…").click()
    question = page.get_by_test_id("reset-confirm")
    expect(question).to_contain_text("1 module has a target week set for this cohort")
    confirm = question.get_by_role("button", name="Reset 1 target week to the defaults")
    expect(confirm).to_be_focused()

    question.get_by_role("link", name="Keep the pace plan as it is").click()
    expect(page.get_by_test_id("reset-confirm")).to_have_count(0)
    reset = page.locator("#pace-plan").get_by_role("button", name="Reset to the defaults…")
    expect(reset).to_be_focused()
    assert CohortModuleTarget.objects.get(cohort=cohort, module=tensors).target_week == 4

    reset.click()
    page.get_by_role("button", name="Reset 1 target week to the defaults").click()
    expect(page.locator("#pace-plan")).to_contain_text("The pace plan is back to")
    assert CohortModuleTarget.objects.get(cohort=cohort, module=tensors).target_week == 1
    assert [e for e in page.console_errors if "status of 404" not in e] == []


def test_focus_stays_in_the_section_a_form_swapped(page, live_server):
    """Saving phases, creating or revoking an invite: focus fell to the page's top each time."""
    _, _, admin = spring_cohort()
    today = timezone.localdate()
    log_in(page, live_server, admin)
    focused = "document.activeElement && document.activeElement.tagName"

    page.goto(f"{live_server.url}/cohorts/spring/settings/")
    phases = page.locator("#phases")
    phases.get_by_label("Phase name, row 1").fill("Learning")
    phases.get_by_label("Starts on, row 1").fill(today.isoformat())
    phases.get_by_label("Ends on, row 1").fill((today + timedelta(weeks=4)).isoformat())
    phases.get_by_role("button", name="Save phases").click()
    expect(page.locator("#phases").get_by_test_id("saved")).to_be_focused()

    phases = page.locator("#phases")  # an overlapping second phase: focus on the first error
    phases.get_by_label("Phase name, row 2").fill("Overlap")
    phases.get_by_label("Starts on, row 2").fill(today.isoformat())
    phases.get_by_label("Ends on, row 2").fill((today + timedelta(weeks=2)).isoformat())
    phases.get_by_role("button", name="Save phases").click()
    expect(page.locator("#phases [aria-invalid='true']").first).to_be_focused()

    page.goto(f"{live_server.url}/cohorts/spring/invites/")
    page.get_by_role("button", name="Create invite").click()
    expect(page.get_by_test_id("invite-link")).to_have_count(1)
    assert page.evaluate(focused) != "BODY"
    page.get_by_role("button", name=re.compile("^Revoke")).first.click()
    expect(page.locator("#invites")).to_contain_text("revoked")
    assert page.evaluate(focused) != "BODY"


def test_without_javascript_a_refused_section_opens_where_its_message_is(
    page_without_js, live_server
):
    """Without JavaScript a refused pace plan, phases or archive form came back as the whole
    page scrolled to its top (the Details form): the message was a screen or two further down,
    and nothing in view said the save had failed."""
    page = page_without_js
    _, tensors, admin = spring_cohort()
    log_in(page, live_server, admin)
    page.goto(f"{live_server.url}/cohorts/spring/settings/")

    page.get_by_label("Target week for Tensors").fill("0")
    page.get_by_role("button", name="Save pace plan").click()
    error = page.get_by_test_id(f"error-target_{tensors.pk}")
    expect(error).to_be_in_viewport()
    expect(page.get_by_label("Target week for Tensors")).to_have_value("0")

    page.get_by_label("Phase name, row 1").fill("Learning")
    page.get_by_label("Starts on, row 1").fill("2001-01-01")
    page.get_by_label("Ends on, row 1").fill("2001-02-01")
    page.get_by_role("button", name="Save phases").click()
    expect(page.get_by_test_id("error-phases-0-starts_on")).to_be_in_viewport()

    page.get_by_role("button", name="Archive Spring").click()
    expect(page.get_by_text("Tick the box to confirm that the cohort is over.")).to_be_in_viewport()


def test_without_javascript_a_refused_new_team_opens_at_its_form(page_without_js, live_server):
    """The same on the teams page: under a few teams, a refused "New team" came back scrolled
    to the top, with its message out of sight. A created team opens at the team."""
    page = page_without_js
    cohort, _, admin = spring_cohort()
    for name in ("Alpha", "Beta", "Gamma", "Delta"):
        cohort_services.team_create(by=admin, cohort=cohort, name=name)
    log_in(page, live_server, admin)
    page.goto(f"{live_server.url}/cohorts/spring/teams/")
    page.get_by_label("Project title (optional)", exact=True).fill("Solar detector")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_text("This field is required.")).to_be_in_viewport()
    expect(page.get_by_label("Project title (optional)", exact=True)).to_have_value(
        "Solar detector"
    )

    # Saved, it opens at the new team (where its members are added), not the emptied form.
    page.get_by_label("Team name", exact=True).fill("Epsilon")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("heading", name="Epsilon")).to_be_in_viewport()
    epsilon = page.get_by_test_id("team").filter(has_text="Epsilon")
    expect(epsilon.get_by_test_id("no-one-to-add")).to_be_in_viewport()  # no members yet
