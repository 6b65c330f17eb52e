"""Ending a cohort in headless Chromium: its admin ticks that it is over and archives it from
the settings page (refused, with the reason next to the box, until ticked); the cohort leaves
their list; staff find it marked archived and restore it."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cohorts import services as cohort_services
from cohorts.models import Cohort
from tests.browser.session import log_in
from tests.factories import ModuleFactory, TrackFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_archives_a_cohort_and_staff_restore_it(browser, live_server):
    staff = UserFactory(is_staff=True)
    admin = UserFactory()
    track = TrackFactory(title="Deep Learning")
    ModuleFactory(track=track, weeks=1)
    today = timezone.localdate()
    cohort = cohort_services.cohort_create(
        by=staff,
        name="Winter cohort",
        slug="winter",
        starts_on=today,
        ends_on=today.replace(year=today.year + 1),
        track_ids=[track.pk],
    )
    cohort_services.cohort_admin_add(by=staff, cohort=cohort, user_email=admin.email)

    for javascript in (True, False):
        context = browser.new_context(java_script_enabled=javascript)
        page = context.new_page()
        log_in(page, live_server, admin if javascript else staff)
        if javascript:
            page.goto(f"{live_server.url}/cohorts/winter/settings/")
            page.get_by_role("button", name="Archive Winter cohort").click()
            expect(
                page.get_by_text("Tick the box to confirm that the cohort is over.")
            ).to_be_visible()
            assert Cohort.objects.get(pk=cohort.pk).archived_at is None
            page.get_by_label("Yes, Winter cohort is over: archive it.").check()
            page.get_by_role("button", name="Archive Winter cohort").click()
            expect(page).to_have_url(f"{live_server.url}/cohorts/#main")
            expect(page.get_by_text("Winter cohort is archived")).to_be_in_viewport()
            expect(page.get_by_test_id("cohort-row")).to_have_count(0)
        else:
            page.goto(f"{live_server.url}/cohorts/")
            row = page.get_by_test_id("cohort-row").filter(has_text="Winter cohort")
            expect(row.get_by_text("Archived")).to_be_visible()
            row.get_by_role("link", name="Settings of Winter cohort").click()
            expect(page.get_by_test_id("archived-notice")).to_be_visible()
            page.get_by_role("button", name="Restore Winter cohort").click()
            expect(page.get_by_text("Winter cohort is restored")).to_be_visible()
            assert Cohort.objects.get(pk=cohort.pk).archived_at is None
        context.close()
