"""A large track in a real browser: its later modules load as they come into view (htmx), a
row there works like any other, a link to one of their resources from elsewhere finds it, and
without JavaScript each such module opens with a plain link."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_track_page import enrol, header_points, log_in, real_errors
from tests.factories import ModuleFactory, ResourceFactory, TrackFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def build_large_track():
    """Eight modules of ten resources: the first two (FIRST_ROWS rows) come with the page."""
    track = TrackFactory(slug="big", title="A Big Track")
    for m in range(1, 9):
        module = ModuleFactory(track=track, slug=f"part-{m}", title=f"Part {m}")
        for r in range(1, 11):
            ResourceFactory(
                module=module, slug=f"p{m}-item-{r}", title=f"Part {m} item {r}", minutes=10
            )
    return track


def test_later_modules_load_as_they_come_into_view(page, live_server):
    build_large_track()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/tracks/big/")
    enrol(page)
    expect(page.locator("#resource-p2-item-10")).to_be_attached()
    expect(page.locator("#resource-p8-item-1")).to_have_count(0)
    page.evaluate("window.__marker = 'still here'")

    page.locator("#module-part-8").scroll_into_view_if_needed()
    row = page.locator("#resource-p8-item-10")
    expect(row).to_be_attached()
    row.scroll_into_view_if_needed()
    row.get_by_role("button", name="Done").click()
    expect(row.get_by_role("button", name="Done")).to_have_attribute("aria-pressed", "true")
    expect(header_points(page)).to_have_text("10")
    expect(page.locator("#module_status_part-8").get_by_test_id("module-progress")).to_have_text(
        "1 of 10 done"
    )
    # The keyboard reaches the loaded rows too.
    row.focus()
    page.keyboard.press("k")
    expect(page.locator("#resource-p8-item-9")).to_be_focused()
    assert page.evaluate("window.__marker") == "still here"
    assert real_errors(page) == []


def test_j_and_k_go_on_into_modules_that_have_not_loaded(page, live_server):
    """j on the last loaded row used to do nothing (while Tab reached the next module's link):
    it asks for the next module's rows and moves into them; k likewise upwards."""
    build_large_track()
    log_in(page, live_server)
    asked = []
    page.on(
        "request", lambda request: asked.append(request.url) if "module=" in request.url else None
    )
    page.goto(f"{live_server.url}/tracks/big/")
    enrol(page)
    # Focus the last loaded row without scrolling, so module 3 has not come into view.
    page.locator("#resource-p2-item-10").evaluate("row => row.focus({preventScroll: true})")
    expect(page.locator("#module_body_part-3.module-more")).to_be_attached()
    assert asked == []
    page.keyboard.press("j")
    expect(page.locator("#resource-p3-item-1")).to_be_focused()
    assert [url for url in asked if "module=part-3" in url] == [
        f"{live_server.url}/tracks/big/?module=part-3"
    ]  # once: the module's own request, not a second one when it scrolled into view
    page.keyboard.press("k")
    expect(page.locator("#resource-p2-item-10")).to_be_focused()

    # A page opened at module 5: k from its first row goes back into module 4.
    page.goto(f"{live_server.url}/tracks/big/?module=part-5")
    page.locator("#resource-p5-item-1").evaluate("row => row.focus({preventScroll: true})")
    expect(page.locator("#module_body_part-4.module-more")).to_be_attached()
    page.keyboard.press("k")
    expect(page.locator("#resource-p4-item-10")).to_be_focused()
    page.keyboard.press("j")
    expect(page.locator("#resource-p5-item-1")).to_be_focused()
    # From a module's "Show its …" link (where Tab lands), j goes into that module.
    page.get_by_role("link", name="Show its 10 resources (Part 6)").evaluate(
        "link => link.focus({preventScroll: true})"
    )
    page.keyboard.press("j")
    expect(page.locator("#resource-p6-item-1")).to_be_focused()
    assert real_errors(page) == []


def test_a_later_module_says_it_is_loading_and_a_failed_load_says_so(page, live_server):
    build_large_track()
    log_in(page, live_server)
    held = []
    # Module 8's rows are held back, module 7's fail: the others load as usual.
    page.route(lambda url: "module=part-8" in url, lambda route: held.append(route))
    page.route(lambda url: "module=part-7" in url, lambda route: route.abort())
    page.goto(f"{live_server.url}/tracks/big/")
    enrol(page)
    placeholder = page.locator("#module_body_part-8")
    link = placeholder.get_by_role("link", name="Show its 10 resources (Part 8)")
    expect(link).to_be_visible()
    # Before it comes into view: a box with a link, no "Loading…" shown.
    expect(placeholder.get_by_text("Loading…")).to_have_css("opacity", "0")
    assert placeholder.evaluate("e => getComputedStyle(e).borderStyle") == "dashed"

    # Module 7 fails to load: the page says so, and its link stays.
    page.locator("#module_body_part-7").scroll_into_view_if_needed()
    problem = "A module of this track could not be loaded. Use its “Show its …” link to try again."
    expect(page.locator("#request-problem")).to_have_text(problem)
    expect(page.locator("#module_body_part-7").get_by_role("link")).to_be_visible()

    placeholder.scroll_into_view_if_needed()
    expect(placeholder).to_have_class(re.compile(r"\bhtmx-request\b"))
    expect(placeholder.get_by_text("Loading…")).not_to_have_css("opacity", "0")  # (it pulses)
    height = placeholder.bounding_box()["height"]
    assert height >= 40, height  # a row's height: the page does not jump while modules arrive

    for route in held:
        route.continue_()
    expect(page.locator("#resource-p8-item-10")).to_be_attached()
    expect(page.locator("#module_body_part-8.module-more")).to_have_count(0)
    expect(page.locator("#request-problem")).to_have_text(problem)  # still true of module 7
    # The aborted load's own console lines (htmx logs it, Chromium reports it), nothing else.
    expected = ("htmx:sendError", "htmx:afterRequest", "net::ERR_FAILED")
    assert [e for e in real_errors(page) if not any(x in e for x in expected)] == []


def test_a_link_to_a_resource_of_a_later_module_finds_it(page, live_server):
    build_large_track()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/tracks/big/")
    enrol(page)
    page.goto(f"{live_server.url}/me/")  # as from the dashboard, the history or an email
    page.goto(f"{live_server.url}/tracks/big/#resource-p7-item-3")
    expect(page).to_have_url(f"{live_server.url}/tracks/big/?item=p7-item-3#resource-p7-item-3")
    expect(page.locator("#resource-p7-item-3")).to_be_in_viewport()
    assert real_errors(page) == []


def test_without_javascript_a_later_module_opens_with_a_link(page_without_js, live_server):
    page = page_without_js
    build_large_track()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/tracks/big/")
    page.get_by_role("button", name="Enrol").click()
    page.get_by_role("link", name="Show its 10 resources (Part 8)").click()
    expect(page).to_have_url(f"{live_server.url}/tracks/big/?module=part-8#module-part-8")
    page.locator("#resource-p8-item-4").get_by_role("button", name="Done").click()
    expect(page).to_have_url(f"{live_server.url}/tracks/big/?module=part-8#resource-p8-item-4")
    expect(page.get_by_text("marked done. Part 8: 1 of 10 done.")).to_be_visible()
    expect(
        page.locator("#resource-p8-item-4").get_by_role("button", name="Done")
    ).to_have_attribute("aria-pressed", "true")
    expect(header_points(page)).to_have_text("10")
