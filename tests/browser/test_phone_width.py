"""Pages with wide tables on a phone (375 px): the table scrolls in its own box and the page
never scrolls sideways (a visually hidden header or caption used to widen it)."""

from __future__ import annotations

import base64

import pytest
from django.db import transaction

from cohorts import services as cohort_services
from tests.browser.session import log_in
from tests.cohorts.dashboard_world import grow_cohort
from tests.factories import ModuleFactory, ResourceFactory, TrackFactory, UserFactory
from tracker import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 800}


def page_width(page, url: str) -> int:
    page.goto(url)
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_learners_dashboard_fits_a_phone(page, live_server):
    learner = UserFactory(email="a-rather-long-learner-address@demo.waymark.local")
    for n in range(3):
        track = TrackFactory(title=f"Practical Deep Learning for Coders, Part {n + 1} (2018/19)")
        ResourceFactory(module=ModuleFactory(track=track), minutes=600)
        services.enrolment_join(learner=learner, track=track)
    services.profile_update(
        user=learner,
        display_name="Dana",
        time_zone="Europe/Berlin",
        nudge_enabled=True,
        nudge_weekday=0,
        nudge_hour=9,
    )
    log_in(page, live_server, learner)
    page.set_viewport_size(PHONE)
    assert page_width(page, f"{live_server.url}/me/") <= PHONE["width"]
    # The nudge preview: a long address and subject in its header list overflowed it.
    assert page_width(page, f"{live_server.url}/nudges/preview/") <= PHONE["width"]


def test_a_cohorts_invites_and_settings_fit_a_phone(page, live_server):
    with transaction.atomic():  # the helper's writes expect a transaction, as in a request
        cohort, admin = grow_cohort(members=2, modules=3, resources=2)[:2]
    cohort_services.invite_create(by=admin, cohort=cohort, max_uses=5)
    log_in(page, live_server, admin)
    page.set_viewport_size(PHONE)
    for url in ("invites/", "settings/", "members/"):
        width = page_width(page, f"{live_server.url}/cohorts/{cohort.slug}/{url}")
        assert width <= PHONE["width"], url


# --- tables that scroll sideways say so ---------------------------------------------------------

NARROW_PHONE = {"width": 390, "height": 800}

_EDGE_SHADES = """async (b64) => {
  const img = new Image();
  img.src = "data:image/png;base64," + b64;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = img.width;
  canvas.height = img.height;
  const g = canvas.getContext("2d");
  g.drawImage(img, 0, 0);
  const y = Math.floor(img.height / 2);
  const dark = (x) => { const d = g.getImageData(x, y, 1, 1).data; return 255 - Math.min(d[0], d[1], d[2]); };
  return {left: dark(1), middle: dark(Math.floor(img.width / 2)), right: dark(img.width - 2)};
}"""


def scroll_cue(page, box) -> dict[str, bool]:
    """Whether a shadow darkens each edge of the scroll box: its table is hidden for the shot,
    so only the box's own background is compared, edge against middle."""
    hide = "(box, value) => { for (const child of box.children) child.style.visibility = value; }"
    box.evaluate(hide, "hidden")
    shot = box.screenshot()
    box.evaluate(hide, "")
    shades = page.evaluate(_EDGE_SHADES, base64.b64encode(shot).decode())
    return {edge: shades[edge] - shades["middle"] > 20 for edge in ("left", "right")}


def overflows(box) -> bool:
    return box.evaluate("element => element.scrollWidth > element.clientWidth")


@pytest.fixture
def admin_at_phone_width(page, live_server):
    with transaction.atomic():
        cohort, admin = grow_cohort(members=2, modules=3, resources=2)[:2]
    cohort_services.invite_create(by=admin, cohort=cohort, max_uses=5)
    log_in(page, live_server, admin)
    page.set_viewport_size(NARROW_PHONE)
    return f"{live_server.url}/cohorts/{cohort.slug}/"


@pytest.mark.parametrize(("url", "region"), [("invites/", "Invites table"), ("", "Members table")])
def test_a_table_wider_than_a_phone_shows_there_is_more_to_the_side(
    page, admin_at_phone_width, url, region
):
    page.goto(admin_at_phone_width + url)
    box = page.get_by_role("region", name=region)  # named, so a screen reader says what it is
    assert overflows(box)  # the invites' Used to Revoke, the dashboard's Pace are off-screen
    assert scroll_cue(page, box) == {"left": False, "right": True}
    box.evaluate("element => { element.scrollLeft = element.scrollWidth; }")
    assert scroll_cue(page, box) == {"left": True, "right": False}


def test_a_table_that_fits_a_phone_shows_no_scroll_cue(page, admin_at_phone_width):
    page.goto(admin_at_phone_width + "members/")
    box = page.get_by_role("region", name="Members table")
    assert not overflows(box)
    assert scroll_cue(page, box) == {"left": False, "right": False}


def test_a_scrolling_table_is_reached_and_scrolled_by_keyboard(page, admin_at_phone_width):
    page.goto(admin_at_phone_width + "invites/")
    page.locator("#invite-list-title").evaluate(
        "heading => { heading.tabIndex = -1; heading.focus(); }"
    )
    page.keyboard.press("Tab")
    box = page.get_by_role("region", name="Invites table")
    assert box.evaluate("element => element === document.activeElement")
    assert box.evaluate("element => getComputedStyle(element).outlineStyle") == "solid"
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    # Polled from here: wait_for_function evaluates a string in the page, which the CSP forbids.
    assert box.evaluate("element => element === document.activeElement")
    for _ in range(50):
        if box.evaluate("element => element.scrollLeft") > 0:
            break
        page.wait_for_timeout(100)
    assert box.evaluate("element => element.scrollLeft") > 0
