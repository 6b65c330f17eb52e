"""Weekly nudges in a real browser: a learner previews their own from the profile; staff filter
the log and open a learner's preview; the unsubscribe link's button, with and without
JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from nudges import emails
from nudges.models import DeliveryStatus, NudgeDelivery
from tests.browser.session import log_in
from tests.factories import ModuleFactory, ResourceFactory, TrackFactory, UserFactory
from tracker import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def enrolled_learner():
    track = TrackFactory(slug="dl", title="Deep Learning")
    module = ModuleFactory(track=track, title="Intro", weeks=2)
    ResourceFactory(module=module, slug="lecture", title="Lecture one", minutes=30)
    learner = UserFactory()
    services.profile_update(
        user=learner,
        display_name="Ada",
        time_zone="Europe/Berlin",
        nudge_enabled=True,
        nudge_weekday=2,
        nudge_hour=18,
    )
    services.enrolment_join(learner=learner, track=track)
    return learner


@pytest.mark.parametrize("javascript", [True, False])
def test_a_learner_previews_their_nudge_from_the_profile(request, live_server, javascript):
    page = request.getfixturevalue("page" if javascript else "page_without_js")
    log_in(page, live_server, enrolled_learner())
    page.goto(f"{live_server.url}/me/profile/")
    page.get_by_role("link", name="Preview this week's nudge").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your weekly nudge")
    expect(page.get_by_role("link", name="Lecture one")).to_be_visible()
    expect(page.locator(".nudge footer")).to_contain_text(
        "every Wednesday at 18:00 (Europe/Berlin)"
    )
    page.get_by_text("Plain-text version").click()
    expect(page.locator("pre.nudge-text")).to_contain_text("Hi Ada,")
    assert [e for e in page.console_errors if "status of 404" not in e] == []


def test_staff_filter_the_log_and_open_a_preview(page, live_server):
    learner = enrolled_learner()
    other = UserFactory()
    for who, status, reason in [
        (learner, DeliveryStatus.FAILED, "Recipient refused: 550 No such user"),
        (other, DeliveryStatus.SKIPPED, "Not enrolled in any track."),
    ]:
        from django.utils import timezone

        now = timezone.now()
        NudgeDelivery.objects.create(
            learner=who,
            week="2026-W05",
            due_at=now,
            status=status,
            reason=reason,
            created_at=now,
            updated_at=now,
        )
    log_in(page, live_server, UserFactory(is_staff=True))
    page.goto(f"{live_server.url}/nudges/log/")
    expect(page.get_by_role("table")).to_contain_text("Not enrolled in any track.")
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/nudges/log/?" in r.url else None)
    # HTMX swaps the results once the choice has settled: the keyboard moves through the
    # options (a closed select changes on each arrow key) with one request, not five.
    page.get_by_label("Status").focus()
    for _ in range(5):  # Any status → Waiting → Sending → Sent → Skipped → Failed
        page.keyboard.press("ArrowDown")
    expect(page.get_by_role("table")).not_to_contain_text("Not enrolled in any track.")
    expect(page.get_by_role("table")).to_contain_text("550 No such user")
    assert "status=failed" in page.url
    assert len(asked) == 1 and "status=failed" in asked[0], asked
    # The results replace themselves (they were swapped in inside themselves), and their
    # count is said through the page's live region, which was there before it changed.
    expect(page.locator("#log-results")).to_have_count(1)
    expect(page.locator("#announcer")).to_have_text("1 row.")
    page.get_by_role("link", name=f"Preview this week for {learner.email}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Weekly nudge for {learner.email}"
    )


@pytest.mark.parametrize("javascript", [True, False])
def test_the_unsubscribe_link_turns_nudges_off_and_on(request, live_server, javascript):
    page = request.getfixturevalue("page" if javascript else "page_without_js")
    learner = enrolled_learner()
    page.goto(f"{live_server.url}/nudges/unsubscribe/{emails.unsubscribe_token(learner.pk)}/")
    page.get_by_role("button", name="Stop weekly nudge emails").click()
    expect(page.get_by_role("status")).to_contain_text("you will get no more weekly nudges")
    learner.profile.refresh_from_db()
    assert not learner.profile.nudge_enabled
    page.get_by_role("button", name="Turn weekly nudges back on").click()
    expect(page.get_by_role("status")).to_contain_text("Weekly nudges are back on.")
