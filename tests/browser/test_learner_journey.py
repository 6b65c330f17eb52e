"""Issue 3's end-to-end learner journey in a real browser, once with JavaScript (HTMX swaps,
no reload) and once without (plain form posts that redirect back to the resource's anchor).

A new learner presses "Sign up and enrol" on a seed track's page, signs up through the real form,
confirms the address by the emailed link and lands back on that track enrolled, marks a resource in
progress then done and sees module progress, track progress and header points move, undoes it
and sees the points fall back, writes a note whose <script> never runs, submits a seed capstone
for review, and finishes a small track to receive a certificate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Locator, Page, expect

from curriculum.loader import load_paths
from tests.factories import CapstoneFactory, ModuleFactory, ResourceFactory, TrackFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
PASSWORD = "a long journey 4 learners"
DISPLAY_NAME = "Ada Journey"
HOSTILE_NOTE = "<script>window.__pwned = 1</script>**bold**"


def progress_counts(locator: Locator) -> tuple[int, int]:
    """(done, total) from a progress text such as "✓ Complete · 1 of 3 done · 33%"."""
    for part in locator.inner_text().split("·"):
        match = re.match(r"^(\d+) of (\d+) done", part.strip())
        if match:
            return int(match[1]), int(match[2])
    raise AssertionError(f"no progress count in {locator.inner_text()!r}")


def progress_text(done: int, total: int) -> re.Pattern:
    """A progress text saying exactly `done` of `total` (the track's adds a percentage)."""
    return re.compile(rf"(^|· ){done} of {total} done( ·|$)")


@dataclass
class Journey:
    page: Page
    base_url: str
    javascript: bool

    def goto(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def points(self) -> Locator:
        return self.page.get_by_test_id("header-points")

    def mark_unreloaded(self, value: int) -> None:
        """With JavaScript, a marker on `window` survives HTMX swaps but not a page load."""
        if self.javascript:
            self.page.evaluate(f"window.__journey = {value}")

    def assert_not_reloaded(self, value: int) -> None:
        if self.javascript:
            assert self.page.evaluate("window.__journey") == value, "the page reloaded"

    def enrol(self) -> None:
        self.page.get_by_role("button", name="Enrol", exact=True).click()
        expect(self.page.get_by_text("You are enrolled in")).to_be_visible()
        if self.javascript:
            # The shortcuts button is unhidden once htmx and waymark.js have wired the page up.
            expect(self.page.get_by_role("button", name="Keyboard shortcuts")).to_be_visible()

    def set_status(self, track: str, resource: str, label: str) -> None:
        # A status button's name is its label and the resource's title ("Done : Lecture 1").
        name = re.compile(rf"^{re.escape(label)}\b")
        self.page.locator(f"#resource-{resource}").get_by_role("button", name=name).click()
        if not self.javascript:  # a post, then a redirect back to the resource's anchor
            expect(self.page).to_have_url(f"{self.base_url}/tracks/{track}/#resource-{resource}")
        # A fresh locator: with HTMX the row element itself was swapped out.
        pressed = self.page.locator(f"#resource-{resource}").get_by_role("button", name=name)
        expect(pressed).to_have_attribute("aria-pressed", "true")

    def resource_points(self, resource: str) -> int:
        meta = self.page.locator(f"#resource-{resource} .resource-main .meta").inner_text()
        return int(re.search(r"(\d+) pts", meta)[1])

    def console_errors(self) -> list[str]:
        """Console errors, minus Chromium's automatic /favicon.ico request (404: the site has
        none), the same filter as test_track_page.py and test_dashboard.py."""
        return [e for e in self.page.console_errors if "status of 404" not in e]


def sign_up_and_enrol(journey: Journey, track: str) -> None:
    """From the track page's call to action to that track's page, signed in and enrolled."""
    page = journey.page
    journey.goto(f"/tracks/{track}/")
    page.get_by_role("button", name=re.compile("^Sign up and enrol")).click()
    expect(page).to_have_url(f"{journey.base_url}/accounts/signup/?next=%2Ftracks%2F{track}%2F")
    expect(page.get_by_text(re.compile("then be enrolled in"))).to_be_visible()
    # One address per run: confirmation emails to one address are rate-limited (3 minutes).
    page.get_by_label("Email").fill(f"ada-{'js' if journey.javascript else 'no-js'}@example.com")
    page.get_by_label("Display name").fill(DISPLAY_NAME)
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    # Sign-up answers the same for a new and a known address (no account enumeration): the
    # address is confirmed by the emailed link, which then logs the new learner in and, in
    # the browser that pressed the call to action, enrols them.
    expect(page).to_have_url(f"{journey.base_url}/accounts/confirm-email/")
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[-1].body).group(0)
    journey.goto("/" + link.split("://", 1)[1].split("/", 1)[1])
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(f"{journey.base_url}/tracks/{track}/")
    expect(page.get_by_text("You are enrolled in")).to_be_visible()
    expect(page.get_by_role("region", name="Your progress in this track")).to_be_visible()
    expect(page.get_by_test_id("track-progress")).to_contain_text("· 0%")
    expect(page.locator(".site-header")).to_contain_text(DISPLAY_NAME)
    expect(journey.points()).to_have_text("0")
    if journey.javascript:  # htmx and waymark.js have wired the page up
        expect(page.get_by_role("button", name="Keyboard shortcuts")).to_be_visible()


def progress_then_undo(journey: Journey) -> None:
    page = journey.page
    track, module, resource = "fastai-part1", "lesson-1", "lesson-1-video"
    expect(page).to_have_url(f"{journey.base_url}/tracks/{track}/")  # enrolled at sign-up
    journey.mark_unreloaded(1)

    module_progress = page.locator(f"#module_status_{module}").get_by_test_id("module-progress")
    track_progress = page.get_by_test_id("track-progress")
    module_done, module_total = progress_counts(module_progress)
    track_done, track_total = progress_counts(track_progress)
    assert (module_done, track_done) == (0, 0)
    assert module_total > 1 and track_total > module_total
    expect(track_progress).to_contain_text("· 0%")
    points = journey.resource_points(resource)
    assert points > 0

    journey.set_status(track, resource, "In progress")
    expect(journey.points()).to_have_text("0")  # in progress earns nothing yet
    expect(module_progress).to_have_text(progress_text(0, module_total))

    journey.set_status(track, resource, "Done")
    expect(journey.points()).to_have_text(str(points))
    expect(module_progress).to_have_text(progress_text(1, module_total))
    expect(track_progress).to_have_text(progress_text(1, track_total))
    expect(track_progress).not_to_contain_text("· 0%")
    # Said in one sentence: through #announcer with JavaScript, as the flash message without.
    said = page.locator("#announcer" if journey.javascript else ".flash")
    expect(said).to_have_text(
        f"“Lesson 1 video” marked done. Image classification: 1 of {module_total} done."
        f" Track: 1 of {track_total} done ({100 // track_total}%)."
        f" {points} points earned, {points} in total."
    )

    # Undo: back to in progress, and the points fall back.
    journey.set_status(track, resource, "In progress")
    expect(journey.points()).to_have_text("0")
    expect(module_progress).to_have_text(progress_text(0, module_total))
    expect(track_progress).to_have_text(progress_text(0, track_total))
    expect(said).to_have_text(
        f"“Lesson 1 video” marked in progress. Image classification: 0 of {module_total} done."
        f" Track: 0 of {track_total} done (0%). {points} points taken back, 0 in total."
    )

    # Done again: the points come back once, not twice.
    journey.set_status(track, resource, "Done")
    expect(journey.points()).to_have_text(str(points))
    journey.assert_not_reloaded(1)


def hostile_note(journey: Journey) -> None:
    page = journey.page
    track, resource = "fastai-part1", "lesson-1-homework"
    page.locator(f"#resource-{resource}").get_by_role("link", name=re.compile("Add a note")).click()
    # With JavaScript the editor swaps in place; without, it is a page of its own.
    page.get_by_label(re.compile("^Your note on Homework")).fill(HOSTILE_NOTE)
    page.get_by_role("button", name="Save note").click()
    if not journey.javascript:
        expect(page).to_have_url(f"{journey.base_url}/tracks/{track}/#resource-{resource}")

    note = page.locator(f"#note_{resource}").get_by_test_id("note-body")
    expect(note.locator("strong")).to_have_text("bold")
    expect(note).not_to_contain_text("__pwned")
    assert page.locator(f"#resource-{resource} script").count() == 0
    if journey.javascript:
        assert page.evaluate("window.__pwned") is None
        journey.assert_not_reloaded(1)
        page.reload()  # the stored note, rendered by the full page, is just as inert
        expect(note.locator("strong")).to_have_text("bold")
        assert page.evaluate("window.__pwned") is None


def submit_seed_capstone(journey: Journey) -> None:
    page = journey.page
    track = "learning-deep-learning"
    journey.goto(f"/tracks/{track}/")
    journey.enrol()
    capstone_row = page.locator("#capstone-capstone-1")
    capstone_row.get_by_role("link", name=re.compile("Start your submission")).click()
    expect(page).to_have_url(f"{journey.base_url}/tracks/{track}/capstones/capstone-1/")
    expect(page.locator(".status-pill")).to_have_text("Not started")

    page.get_by_label("Title").fill("Digits from scratch")
    page.get_by_label("Link").fill("https://github.com/example/capstone")
    page.get_by_label("Write-up").fill("A plain **PyTorch** network, every step explained.")
    constraints = page.locator(".capstone-checklist input[type=checkbox]")
    assert constraints.count() == 4  # the seed lists four
    for index in range(constraints.count()):
        constraints.nth(index).check()
    page.get_by_role("button", name="Submit for review").click()

    expect(page.locator(".messages")).to_contain_text("Submitted for review")
    expect(page.locator(".status-pill")).to_have_text("Submitted")
    readonly = page.locator(".submission-readonly")
    expect(readonly).to_contain_text("https://github.com/example/capstone")
    expect(readonly.locator(".writeup strong")).to_have_text("PyTorch")

    page.locator(".breadcrumb").get_by_role("link", name="Learning Deep Learning").click()
    status = page.locator("#capstone-capstone-1").get_by_test_id("submission-status")
    expect(status).to_have_text("Submitted")


def finish_small_track(journey: Journey) -> None:
    """Two resources and a self-review capstone: the capstone passes at once, and marking the
    last resource done completes the track and issues the certificate."""
    page = journey.page
    track = TrackFactory(slug="small", title="A Small Track")
    module = ModuleFactory(track=track, slug="only", title="The only module")
    ResourceFactory(module=module, slug="watch", title="Watch", minutes=10)
    ResourceFactory(module=module, slug="read", title="Read", minutes=5)
    CapstoneFactory(module=module, slug="vouch", title="Vouch for it", review="self", points=40)
    start = int(journey.points().inner_text())

    journey.goto("/tracks/small/")
    journey.enrol()
    track_progress = page.get_by_test_id("track-progress")
    expect(track_progress).to_have_text("0 of 3 done · 0%")

    page.locator("#capstone-vouch").get_by_role("link", name=re.compile("Start your")).click()
    page.get_by_label("Title").fill("I did it")
    page.get_by_label("Link").fill("https://github.com/example/small")
    page.get_by_label("Only PyTorch, TensorFlow or MXNet").check()
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".messages")).to_contain_text("Passed: you vouched for your capstone")
    expect(page.locator(".status-pill")).to_have_text("Passed")
    expect(journey.points()).to_have_text(str(start + 40))
    expect(page.get_by_role("link", name="view your certificate")).to_have_count(0)  # not yet

    page.locator(".breadcrumb").get_by_role("link", name="A Small Track").click()
    journey.mark_unreloaded(3)
    expect(track_progress).to_have_text("1 of 3 done · 33%")
    journey.set_status("small", "watch", "Done")
    expect(track_progress).to_have_text("2 of 3 done · 66%")  # percentages round down
    expect(page.get_by_role("link", name="See your certificate")).to_have_count(0)
    journey.set_status("small", "read", "Done")
    expect(journey.points()).to_have_text(str(start + 40 + 10 + 5))
    expect(track_progress).to_have_text("3 of 3 done · 100%")

    # The status change announces the new certificate (HTMX: in the track's message area;
    # without JS: a flash message), and the progress block links it too.
    announcement = page.locator(".message").filter(has_text="You completed A Small Track!")
    expect(announcement).to_be_visible()
    certificate_link = announcement.get_by_role("link", name="See your certificate")
    progress_block = page.locator("#track-progress")
    expect(progress_block).to_contain_text("Track complete.")
    expect(progress_block.get_by_role("link", name="See your certificate")).to_have_attribute(
        "href", certificate_link.get_attribute("href")
    )
    journey.assert_not_reloaded(3)

    certificate_link.click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(journey.base_url)}/certificates/[^/]+/$"))
    expect(page.get_by_test_id("certificate-name")).to_have_text(DISPLAY_NAME)
    expect(page.get_by_test_id("certificate-track")).to_have_text("A Small Track")
    verify = page.locator(".certificate-verify a")
    expect(verify).to_have_text(re.compile(r"/certificates/[^/]+/$"))
    assert verify.inner_text().endswith(page.url.removeprefix(journey.base_url))


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_a_new_learner_journey(request, live_server, javascript):
    page = request.getfixturevalue("page" if javascript else "page_without_js")
    journey = Journey(page=page, base_url=live_server.url, javascript=javascript)
    load_paths([str(SEEDS)])

    sign_up_and_enrol(journey, "fastai-part1")
    progress_then_undo(journey)
    hostile_note(journey)
    submit_seed_capstone(journey)
    finish_small_track(journey)

    journey.goto("/me/")
    expect(page.get_by_test_id("certificate-count")).to_have_text("1")
    assert journey.console_errors() == []
