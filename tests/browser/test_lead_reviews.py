"""Capstone review in a real browser: a lead finds a submission in the queue (filters over HTMX,
with the state in the URL), passes it, and the learner's track page shows the certificate; the
same review without JavaScript; a learner who is not a lead gets 403/404 on every lead page;
a peer reviewer finds another learner's submission from their capstone page and sends it back;
turning the pages of the lead list and the peer list, with and without JavaScript, every link,
the filter form and the address keep the page both show."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from curriculum.models import ReviewMode
from tests.browser.conftest import _page
from tests.browser.session import log_in
from tests.factories import (
    CapstoneFactory,
    ModuleFactory,
    ResourceFactory,
    TrackFactory,
    UserFactory,
    enrol,
)
from tracker import services
from tracker.models import ReviewVia
from tracker.selectors import reviews as reviews_selectors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORK = {
    "title": "Pet breed classifier",
    "link": "https://example.com/pets",
    "writeup": "Trained a **ResNet-34**; 93% on the held-out set.",
    "constraints_met": ["Only PyTorch"],
}


def person(name: str, **kwargs):
    user = UserFactory(username=name, email=f"{name}@example.com", **kwargs)
    services.profile_update(
        user=user,
        display_name=name.title(),
        time_zone="UTC",
        nudge_enabled=False,
        nudge_weekday=0,
        nudge_hour=9,
    )
    return user


def signed_in(browser, live_server, user, *, javascript: bool = True):
    """A browser page with `user`'s session (made by the test client's force_login)."""
    context, page = _page(browser, javascript=javascript)
    log_in(page, live_server, user)
    return context, page


def track_with_a_submission(review=ReviewMode.LEAD):
    """A one-module track: one resource (done) and a capstone (submitted) are all the learner
    had left, so passing the capstone completes the track."""
    track = TrackFactory(slug="pets", title="Pets course")
    module = ModuleFactory(track=track, slug="one", title="Lesson one")
    resource = ResourceFactory(module=module, slug="video", title="Lesson video")
    capstone = CapstoneFactory(
        module=module,
        slug="final",
        title="Final project",
        constraints=["Only PyTorch"],
        review=review,
        points=150,
    )
    learner = person("dana")
    enrol(learner, track)
    services.progress_set_status(learner=learner, resource=resource, status="done")
    submission = services.capstone_submit(learner=learner, capstone=capstone, **WORK)
    return track, capstone, learner, submission


def real_errors(page) -> list[str]:
    return [e for e in page.console_errors if "status of 40" not in e]


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_a_lead_passes_a_submission_and_the_learner_gets_the_certificate(
    browser, live_server, javascript
):
    track, _, learner, _ = track_with_a_submission()
    lead = person("lee")
    staff = person("sam", is_staff=True)
    services.track_lead_grant(track=track, user=lead, granted_by=staff)
    # The lead also leads another track, where they passed a submission earlier.
    other = CapstoneFactory(module__track__slug="older", constraints=["Only PyTorch"])
    services.track_lead_grant(track=other.track, user=lead, granted_by=staff)
    old = enrol(person("old"), other.track)
    services.capstone_review(
        reviewer=lead,
        submission=services.capstone_submit(
            learner=old, capstone=other, **{**WORK, "title": "An older project"}
        ),
        decision="passed",
        comments="",
        via=ReviewVia.REVIEW_PAGE,
    )

    context, page = signed_in(browser, live_server, lead, javascript=javascript)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Lead", exact=True).click()
    expect(page.get_by_role("heading", name="Your tracks")).to_be_visible()
    expect(page.get_by_test_id("waiting-pets")).to_have_text(re.compile("^1 waiting"))
    page.get_by_role("link", name="Open the review queue").click()

    # The queue: the filter shows the passed one; the URL keeps the state.
    queue = page.locator("#lead-queue")
    expect(queue.get_by_role("link", name="Pet breed classifier")).to_be_visible()
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/lead/reviews/?" in r.url else None)
    if javascript:
        # From the keyboard: a closed select changes on each arrow key; the queue is asked
        # once the choice has settled, and the new count is said (#announcer).
        page.get_by_label("Status").focus()
        page.keyboard.press("ArrowDown")  # Changes requested
        page.keyboard.press("ArrowDown")  # Passed
    else:
        page.get_by_label("Status").select_option("passed")
        page.get_by_role("button", name="Show submissions").click()
    expect(page).to_have_url(re.compile(r"status=passed"))
    expect(queue.get_by_role("link", name="An older project")).to_be_visible()
    expect(queue.get_by_role("link", name="Pet breed classifier")).to_have_count(0)
    assert len(asked) == 1 and "status=passed" in asked[0], asked
    if javascript:
        expect(page.locator("#announcer")).to_have_text("1 submission")
    page.get_by_label("Status").select_option("waiting")
    if not javascript:
        page.get_by_role("button", name="Show submissions").click()
    expect(page).to_have_url(re.compile(r"status=waiting"))

    page.locator("#lead-queue").get_by_role("link", name="Pet breed classifier").click()
    expect(page.get_by_role("heading", name="Pet breed classifier")).to_be_visible()
    expect(page.get_by_test_id("writeup").locator("strong")).to_have_text("ResNet-34")
    page.get_by_label("Comments for the learner").fill("Clean work, *well* validated.")
    page.get_by_role("button", name="Pass", exact=True).click()
    expect(page.get_by_text("Passed “Pet breed classifier” by Dana")).to_be_visible()
    assert real_errors(page) == []
    context.close()

    context, page = signed_in(browser, live_server, learner, javascript=javascript)
    page.goto(live_server.url + "/tracks/pets/")
    expect(page.get_by_text("Track complete.")).to_be_visible()
    page.get_by_role("link", name="See your certificate").click()
    expect(page.get_by_test_id("certificate-name")).to_have_text("Dana")
    page.goto(live_server.url + "/tracks/pets/capstones/final/")
    expect(page.get_by_text("Clean work, well validated.")).to_be_visible()
    context.close()


def test_a_learner_who_is_not_a_lead_is_refused_on_every_lead_page(browser, live_server):
    track, _, _, submission = track_with_a_submission()
    context, page = signed_in(browser, live_server, person("nosy"))
    page.goto(live_server.url + "/")
    expect(page.get_by_role("link", name="Lead", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Reviews", exact=True)).to_have_count(0)
    for path, status in [
        ("/lead/", 403),
        ("/lead/reviews/", 403),
        (f"/tracks/{track.slug}/leads/", 403),
        (f"/lead/reviews/{submission.pk}/", 404),
    ]:
        response = page.goto(live_server.url + path)
        assert response.status == status, path
        assert "Pet breed classifier" not in page.content()
        assert "ResNet-34" not in page.content()
    page.goto(live_server.url + "/lead/")
    expect(page.get_by_role("heading", name="You can't open this page")).to_be_visible()
    context.close()


def test_a_peer_reviewer_finds_and_sends_back_another_learners_submission(browser, live_server):
    track, capstone, first_learner, first = track_with_a_submission(review=ReviewMode.PEER)
    services.capstone_review(
        reviewer=person("sam", is_staff=True),
        submission=first,
        decision="passed",
        comments="",
        via=ReviewVia.ADMIN,
    )
    second_learner = person("ben")
    enrol(second_learner, track)
    services.capstone_submit(
        learner=second_learner, capstone=capstone, **{**WORK, "title": "Ben's classifier"}
    )

    context, page = signed_in(browser, live_server, first_learner)  # passed: now a peer
    page.goto(live_server.url + "/tracks/pets/capstones/final/")
    page.get_by_role("link", name="1 waiting for a peer review").click()
    peer = page.locator("#peer-reviews")
    expect(peer.get_by_role("heading", name="Peer reviews")).to_be_visible()
    expect(peer.get_by_role("link", name="Pet breed classifier")).to_have_count(0)  # own work
    peer.get_by_role("link", name="Ben's classifier").click()
    expect(page.get_by_role("heading", name="Review history")).to_have_count(0)  # leads' only
    page.get_by_label("Comments for the learner").fill("Please add the **validation** split.")
    page.get_by_role("button", name="Request changes").click()
    expect(page.get_by_text("Changes requested on “Ben's classifier” by Ben")).to_be_visible()
    expect(page.get_by_test_id("peer-empty")).to_be_visible()
    context.close()

    context, page = signed_in(browser, live_server, second_learner)
    page.goto(live_server.url + "/tracks/pets/capstones/final/")
    expect(page.get_by_role("heading", name="Changes requested by your reviewer")).to_be_visible()
    expect(page.locator(".reviewer-comments strong")).to_have_text("validation")
    context.close()


# --- the two sections' pages ---------------------------------------------------------------

NEXT = {"lead": "Next page of your tracks' submissions", "peer": "Next page of peer reviews"}
PARAM = {"lead": "page", "peer": "peer_page"}


def a_lead_who_also_peer_reviews(monkeypatch):
    """A lead of the pets track (5 waiting submissions) who passed the birds track's peer
    capstone (5 other learners' submissions wait for a peer review): 2 a page, 3 pages each."""
    monkeypatch.setattr(reviews_selectors, "QUEUE_PAGE_SIZE", 2)
    staff = person("sam", is_staff=True)
    lead = person("lee")
    final = CapstoneFactory(
        module__track__slug="pets", module__track__title="Pets course", constraints=["Only PyTorch"]
    )
    services.track_lead_grant(track=final.track, user=lead, granted_by=staff)
    birds = CapstoneFactory(
        module__track__slug="birds",
        module__track__title="Birds course",
        constraints=["Only PyTorch"],
        review=ReviewMode.PEER,
    )
    enrol(lead, birds.track)
    services.capstone_review(
        reviewer=staff,
        submission=services.capstone_submit(learner=lead, capstone=birds, **WORK),
        decision="passed",
        comments="",
        via=ReviewVia.ADMIN,
    )
    for index in range(5):
        for prefix, cap in (("lead", final), ("peer", birds)):
            learner = person(f"{prefix}{index}")
            enrol(learner, cap.track)
            services.capstone_submit(
                learner=learner, capstone=cap, **{**WORK, "title": f"{prefix} work {index}"}
            )
    return lead


def shows(page, section: str, number: int):
    expect(page.get_by_test_id(f"{section}-count")).to_have_text(
        re.compile(rf"· page {number} of 3$")
    )


def shown_by(url: str) -> dict[str, int]:
    """The page of each section a URL asks for (none named: the first)."""
    query = parse_qs(urlsplit(url).query)
    return {section: int(query.get(PARAM[section], ["1"])[0]) for section in PARAM}


def everything_keeps(page, *, lead: int, peer: int, status: str = "waiting"):
    """Both sections show their page; each page link (its href and its hx-get) turns its own
    section and keeps the other's page and the filters; the filter form keeps the peer page
    (new filters start the lead list at its first page); the address names both pages."""
    shows(page, "lead", lead)
    shows(page, "peer", peer)
    now = {"lead": lead, "peer": peer}
    for section in ("lead", "peer"):
        links = page.locator(f"#{section}-queue nav.pagination a").evaluate_all(
            "links => links.flatMap(a => [a.getAttribute('href'), a.getAttribute('hx-get')])"
        )
        assert links, section
        for link in links:
            asked = shown_by(link)
            assert abs(asked[section] - now[section]) == 1, (section, link)
            other = "peer" if section == "lead" else "lead"
            assert asked[other] == now[other], (section, link, now)
            assert parse_qs(urlsplit(link).query)["status"] == [status], link
    kept = page.locator("form.queue-filters input[name=peer_page]")
    if peer > 1:
        expect(kept).to_have_value(str(peer))
    else:
        expect(kept).to_have_count(0)
    assert shown_by(page.url) == now, page.url


@pytest.mark.parametrize("first, then", [("peer", "lead"), ("lead", "peer")])
@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_turning_one_queue_section_keeps_the_page_the_other_shows(
    browser, live_server, monkeypatch, javascript, first, then
):
    """With htmx a page of one section was swapped in alone: the other section's links (and the
    filter form) kept the page it showed before, and following one jumped it back."""
    lead = a_lead_who_also_peer_reviews(monkeypatch)
    context, page = signed_in(browser, live_server, lead, javascript=javascript)
    page.goto(live_server.url + "/lead/reviews/")
    if javascript:
        page.evaluate("window.sameDocument = true")
    everything_keeps(page, lead=1, peer=1)

    page.get_by_role("link", name=NEXT[first]).click()
    shows(page, first, 2)
    everything_keeps(page, **{first: 2, then: 1})
    page.get_by_role("link", name=NEXT[then]).click()
    shows(page, then, 2)
    everything_keeps(page, lead=2, peer=2)
    if javascript:  # both turns were htmx swaps, not page loads
        assert page.evaluate("window.sameDocument") is True

    # Following a link of the first section's now keeps the second's page, and the other way.
    page.get_by_role("link", name=NEXT[first]).click()
    shows(page, first, 3)
    everything_keeps(page, **{first: 3, then: 2})
    page.get_by_role("link", name=NEXT[then].replace("Next", "Previous")).click()
    shows(page, then, 1)
    everything_keeps(page, **{first: 3, then: 1})

    # Back and reload show what the address names: what was seen.
    page.go_back()
    shows(page, then, 2)
    everything_keeps(page, **{first: 3, then: 2})
    page.go_back()
    shows(page, first, 2)
    everything_keeps(page, lead=2, peer=2)
    page.reload()
    everything_keeps(page, lead=2, peer=2)

    # New filters start the lead list at its first page; the peer list stays where it was.
    page.get_by_label("Status").select_option("all")
    if not javascript:
        page.get_by_role("button", name="Show submissions").click()
    expect(page).to_have_url(re.compile(r"status=all"))
    everything_keeps(page, lead=1, peer=2, status="all")
    assert real_errors(page) == []
    context.close()
