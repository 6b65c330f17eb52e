"""The track page in a real browser: one-click progress through HTMX without a reload,
keyboard shortcuts, a note whose <script> never runs; and the same status change with
JavaScript off (form post + redirect)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import (
    CapstoneFactory,
    ModuleFactory,
    ResourceFactory,
    TrackFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def build_track():
    track = TrackFactory(slug="dl", title="Deep Learning")
    first = ModuleFactory(track=track, slug="intro", title="Intro")
    second = ModuleFactory(track=track, slug="next", title="Next steps")
    second.requires.add(first)
    ResourceFactory(module=first, slug="lecture", title="Lecture", minutes=30)
    ResourceFactory(module=first, slug="reading", title="Reading", minutes=15)
    ResourceFactory(module=second, slug="project", title="Project", minutes=60)
    CapstoneFactory(module=second, slug="final", title="Final project")
    return track


def log_in(page, live_server):
    """Log in through the session cookie a Django test client gets from force_login."""
    user = UserFactory()
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return user


def enrol(page):
    page.get_by_role("button", name="Enrol").click()
    # The shortcuts button appears once htmx and waymark.js have wired the page up.
    expect(page.get_by_role("button", name="Keyboard shortcuts")).to_be_visible()


def real_errors(page) -> list[str]:
    """Console errors, minus Chromium's automatic /favicon.ico request (404: the site has none)."""
    return [e for e in page.console_errors if "status of 404" not in e]


def header_points(page):
    return page.get_by_test_id("header-points")


def test_status_changes_progress_and_points_without_reload(page, live_server):
    build_track()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/tracks/dl/")
    enrol(page)
    expect(page.get_by_test_id("track-progress")).to_have_text("0 of 4 done · 0%")
    expect(header_points(page)).to_have_text("0")

    page.evaluate("window.__marker = 'still here'")
    lecture = page.locator("#resource-lecture")
    lecture.get_by_role("button", name="In progress").click()
    expect(lecture.get_by_role("button", name="In progress")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(lecture.get_by_role("button", name="In progress")).to_be_focused()
    expect(header_points(page)).to_have_text("0")

    # Each status button is named for its resource too (the title visually hidden).
    # (Chromium spaces out the positioned span: "Done : Lecture".)
    page.get_by_role("button", name=re.compile(r"^Done\s*:\s*Lecture$")).click()
    done = page.locator("#resource-lecture").get_by_role("button", name="Done")
    expect(done).to_have_attribute("aria-pressed", "true")
    expect(done).to_have_text("Done: Lecture")
    expect(done).to_be_focused()  # focus stays on the control after the swap
    expect(header_points(page)).to_have_text("30")
    expect(page.locator("#module_status_intro").get_by_test_id("module-progress")).to_have_text(
        "1 of 2 done"
    )
    expect(page.get_by_test_id("track-progress")).to_have_text("1 of 4 done · 25%")

    # Undo: points fall back.
    page.locator("#resource-lecture").get_by_role("button", name="Not started").click()
    expect(header_points(page)).to_have_text("0")
    expect(page.get_by_test_id("track-progress")).to_have_text("0 of 4 done · 0%")

    # Keyboard: focus a row, press d; then j moves on and d marks the next one.
    page.locator("#resource-lecture").focus()
    page.keyboard.press("d")
    expect(header_points(page)).to_have_text("30")
    page.keyboard.press("j")
    expect(page.locator("#resource-reading")).to_be_focused()
    page.keyboard.press("d")
    expect(header_points(page)).to_have_text("45")
    expect(page.locator("#module_status_intro")).to_contain_text("Complete")
    expect(page.locator("#module_status_next .soft-lock")).to_have_count(0)  # soft lock lifted

    # ? opens the help dialog, Escape closes it.
    page.keyboard.press("?")
    dialog = page.locator("#shortcut-help")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("In progress")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Focus outside the track (the site's header): the keys do nothing (WCAG 2.1.4).
    page.get_by_role("link", name="Tracks", exact=True).first.focus()
    page.keyboard.press("k")
    page.keyboard.press("?")
    expect(page.get_by_role("link", name="Tracks", exact=True).first).to_be_focused()
    expect(dialog).to_be_hidden()

    assert page.evaluate("window.__marker") == "still here"  # never reloaded
    assert real_errors(page) == []


# What screen readers announce when its text changes: live regions, explicit or by role.
LIVE = (
    "[aria-live]:not([aria-live='off']), [role='status'], [role='alert'], [role='log'],"
    " [role='marquee'], [role='timer'], output"
)

# Records every live region whose text a mutation touched (a change inside one, or one
# inserted), in the order they were touched, transient changes included.
WATCH_LIVE_REGIONS = """live => {
  window.__touched = [];
  const note = region => { if (!window.__touched.includes(region)) window.__touched.push(region); };
  const observer = new MutationObserver(records => {
    for (const record of records) {
      const at = record.target.nodeType === 1 ? record.target : record.target.parentElement;
      const around = at && at.closest(live);
      if (around) note(around);
      for (const node of record.addedNodes) {
        if (node.nodeType !== 1) continue;
        if (node.matches(live)) note(node);
        node.querySelectorAll(live).forEach(note);
      }
    }
  });
  observer.observe(document.body, { subtree: true, childList: true, characterData: true });
}"""

TOUCHED = """() => window.__touched.map(region => ({
  id: region.id, role: region.getAttribute("role"), text: region.textContent.trim()
}))"""

DONE_SAID = (
    "“Lecture” marked done. Intro: 1 of 2 done. Track: 1 of 4 done (25%)."
    " 30 points earned, 30 in total."
)


def live_regions_touched_by(page, act) -> list[dict]:
    """The live regions whose text changed while `act` ran and its answer settled."""
    page.evaluate(WATCH_LIVE_REGIONS, LIVE)
    act()
    page.wait_for_timeout(400)  # anything that would follow (waymark.js says after 100 ms)
    return page.evaluate(TOUCHED)


def test_a_status_click_is_said_once_in_one_live_region(page, live_server):
    """One click changed four polite live regions at once (the module's progress, the
    track's, the header points, the message area): a screen reader read four things, in an
    order of its choosing. Now they change silently and one region says one sentence."""
    build_track()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/tracks/dl/")
    enrol(page)
    lecture = page.locator("#resource-lecture")
    # Besides the enrolment's flash message, only the page's own two regions.
    regions = page.evaluate(f"() => [...document.querySelectorAll({LIVE!r})].map(r => r.id)")
    assert regions == ["request-problem", "announcer", ""]
    assert page.locator("[data-track-page], .site-header").locator(LIVE).count() == 0

    touched = live_regions_touched_by(
        page, lambda: lecture.get_by_role("button", name="Done").click()
    )
    assert touched == [{"id": "announcer", "role": None, "text": DONE_SAID}]
    # Everything still changed on screen, and focus stayed on the button pressed.
    expect(page.get_by_test_id("track-progress")).to_have_text("1 of 4 done · 25%")
    expect(page.locator("#module_status_intro").get_by_test_id("module-progress")).to_have_text(
        "1 of 2 done"
    )
    expect(header_points(page)).to_have_text("30")
    expect(lecture.get_by_role("button", name="Done")).to_be_focused()
    expect(page.locator("#track-progress")).to_have_count(1)  # contents swapped, not nested
    expect(page.locator("#header-points")).to_have_attribute("href", "/me/progress/")

    # Undo, and finishing the module: one sentence each, still through the same region.
    touched = live_regions_touched_by(
        page, lambda: lecture.get_by_role("button", name="Not started").click()
    )
    assert touched == [
        {
            "id": "announcer",
            "role": None,
            "text": "“Lecture” marked not started. Intro: 0 of 2 done. Track: 0 of 4 done (0%)."
            " 30 points taken back, 0 in total.",
        }
    ]
    lecture.get_by_role("button", name="Done").click()
    expect(page.locator("#announcer")).to_have_text(DONE_SAID)
    touched = live_regions_touched_by(
        page,
        lambda: page.locator("#resource-reading").get_by_role("button", name="Done").click(),
    )
    assert touched == [
        {
            "id": "announcer",
            "role": None,
            "text": "“Reading” marked done. Intro complete: 2 of 2 done. Ready for Next steps."
            " Track: 2 of 4 done (50%). 15 points earned, 45 in total.",
        }
    ]
    expect(page.locator("#module_status_next .soft-lock")).to_have_count(0)
    assert real_errors(page) == []


def test_a_refused_status_click_is_an_alert_and_nothing_else(page, live_server):
    track = build_track()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/tracks/dl/")
    enrol(page)
    # A lead removes a resource while the learner has the page open.
    track.resources.filter(slug="reading").update(archived_at=timezone.now())
    touched = live_regions_touched_by(
        page,
        lambda: page.locator("#resource-reading").get_by_role("button", name="Done").click(),
    )
    assert touched == [
        {
            "id": "",
            "role": "alert",
            "text": "'Reading' was removed from its track; its progress can no longer change.",
        }
    ]
    expect(page.locator("#request-problem")).to_be_hidden()  # no "briefly unavailable"
    expect(page.get_by_test_id("track-progress")).to_have_text("0 of 4 done · 0%")
    assert real_errors(page) == []


def test_note_with_a_script_never_runs(page, live_server):
    build_track()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/tracks/dl/")
    enrol(page)
    page.evaluate("window.__marker = 1")

    row = page.locator("#resource-project")
    row.get_by_role("link", name=re.compile("Add a note")).click()
    editor = row.get_by_label("Your note on Project")
    expect(editor).to_be_focused()
    editor.fill(
        "Remember **this**\n\n<script>window.__pwned=1</script>\n\n"
        '<img src=x onerror="window.__pwned=2">'
    )
    row.get_by_role("button", name="Save note").click()
    expect(row.get_by_test_id("note-body").locator("strong")).to_have_text("this")
    assert row.locator("script").count() == 0
    assert row.locator("[onerror]").count() == 0
    assert page.evaluate("window.__pwned") is None

    page.reload()
    expect(page.locator("#resource-project").get_by_test_id("note-body")).to_contain_text(
        "Remember"
    )
    assert page.evaluate("window.__pwned") is None

    # "Revisit later" flags in place, and /me/revisit/ lists it.
    page.locator("#resource-project").get_by_role(
        "button", name=re.compile("Revisit later")
    ).click()
    expect(page.locator("#resource-project .revisit-button")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.goto(f"{live_server.url}/me/revisit/")
    expect(page.get_by_role("link", name="Project")).to_have_attribute(
        "href", "/tracks/dl/#resource-project"
    )
    assert real_errors(page) == []


def test_a_status_click_keeps_the_note_being_typed_in_its_row(page, live_server):
    """Add a note, type, then press Done on the same resource: the row's answer used to
    replace the open editor, and the typing was gone without a word."""
    build_track()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/tracks/dl/")
    enrol(page)
    row = page.locator("#resource-lecture")
    row.get_by_role("link", name=re.compile("Add a note")).click()
    row.get_by_label("Your note on Lecture").fill("Half-typed *thought*")
    row.get_by_role("button", name="Done").click()
    expect(row.get_by_role("button", name="Done")).to_have_attribute("aria-pressed", "true")
    expect(row.get_by_label("Your note on Lecture")).to_have_value("Half-typed *thought*")
    row.get_by_role("button", name="Save note").click()  # the kept editor still saves in place
    expect(row.get_by_test_id("note-body").locator("em")).to_have_text("thought")
    page.reload()
    expect(page.locator("#resource-lecture").get_by_test_id("note-body")).to_contain_text(
        "Half-typed"
    )
    assert real_errors(page) == []


def test_a_click_on_a_page_gone_stale_says_to_reload(page, live_server):
    build_track()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/tracks/dl/")
    enrol(page)
    # A log-in in another tab gives the browser a new CSRF token: this page's is stale.
    page.context.add_cookies([{"name": "csrftoken", "value": "x" * 32, "url": live_server.url}])
    page.locator("#resource-lecture").get_by_role("button", name="Done").click()
    expect(page.locator("#request-problem")).to_contain_text(
        "That change was not saved: this page is out of date"
    )
    expect(page.get_by_test_id("track-progress")).to_have_text("0 of 4 done · 0%")
    expect(page.locator("#resource-lecture").get_by_role("button", name="Done")).to_have_attribute(
        "aria-pressed", "false"
    )


def test_status_control_works_without_javascript(page_without_js, live_server):
    page = page_without_js
    build_track()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/tracks/dl/")
    page.get_by_role("button", name="Enrol").click()
    expect(page.get_by_test_id("track-progress")).to_have_text("0 of 4 done · 0%")

    page.locator("#resource-lecture").get_by_role("button", name="Done").click()
    expect(page).to_have_url(f"{live_server.url}/tracks/dl/#resource-lecture")
    expect(page.locator(".flash")).to_have_text(DONE_SAID)  # the words #announcer says
    expect(header_points(page)).to_have_text("30")
    expect(page.get_by_test_id("track-progress")).to_have_text("1 of 4 done · 25%")

    page.locator("#resource-lecture").get_by_role("button", name="Not started").click()
    expect(header_points(page)).to_have_text("0")

    # The note editor is a page of its own without JavaScript.
    page.locator("#resource-lecture").get_by_role("link", name=re.compile("Add a note")).click()
    page.get_by_label("Your note on Lecture").fill("Plain *note*")
    page.get_by_role("button", name="Save note").click()
    expect(page).to_have_url(f"{live_server.url}/tracks/dl/#resource-lecture")
    expect(
        page.locator("#resource-lecture").get_by_test_id("note-body").locator("em")
    ).to_have_text("note")


def test_without_javascript_the_answer_to_a_click_far_down_stays_in_view(
    page_without_js, live_server
):
    page = page_without_js
    track = build_track()
    module = ModuleFactory(track=track, slug="long", title="A long module")
    for n in range(30):
        ResourceFactory(module=module, slug=f"item-{n}", title=f"Item {n}", minutes=5)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/tracks/dl/")
    page.get_by_role("button", name="Enrol").click()
    page.locator("#resource-item-29").get_by_role("button", name="Done").click()
    expect(page).to_have_url(f"{live_server.url}/tracks/dl/#resource-item-29")
    expect(page.get_by_text("“Item 29” marked done.")).to_be_in_viewport()
    expect(page.locator("#resource-item-29")).to_be_in_viewport()


def test_status_control_fits_a_phone_screen(page, live_server):
    build_track()
    log_in(page, live_server)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/tracks/dl/")
    enrol(page)
    buttons = page.locator("#resource-lecture .status-control button")
    for i in range(4):
        box = buttons.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    buttons.nth(2).click()
    expect(header_points(page)).to_have_text("30")
