"""Pages with wide tables on a phone (375 px): the table scrolls in its own box and the page
never scrolls sideways (a visually hidden header or caption used to widen it)."""

from __future__ import annotations

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
