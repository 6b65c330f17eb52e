"""Cohorts end to end in headless Chromium (issue 13): an admin creates a cohort with two phases
and an invite link; a new learner signs up through the link and marks three resources done;
the admin's dashboard shows that learner's progress and pace; the admin filters to "behind",
sorts by last activity, downloads the CSV (checked row by row) and messages one at-risk member,
whose email a real Celery worker delivers to the test's SMTP server; a member of another cohort
gets 404 on this cohort's pages."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cohorts import services as cohort_services
from cohorts.models import Cohort, CohortInvite
from cohorts.tasks import send_waiting_messages
from tests.browser.session import log_in
from tests.factories import ModuleFactory, ResourceFactory, TrackFactory, UserFactory
from tests.nudges.conftest import broker, smtp_server, wait_for, workers  # noqa: F401
from tracker import services

pytestmark = [
    pytest.mark.browser,
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "a long walk to the river"
NEW_EMAIL = "nia@example.com"


def named(email: str, name: str, **extra):
    user = UserFactory(email=email, username=email.split("@")[0], **extra)
    services.profile_update(
        user=user,
        display_name=name,
        time_zone="UTC",
        nudge_enabled=False,
        nudge_weekday=0,
        nudge_hour=9,
    )
    return user


def curriculum():
    """Three one-week modules: the default pace plan makes them due in weeks 1, 2 and 3."""
    track = TrackFactory(slug="deep-learning", title="Deep Learning")
    modules = []
    for number, count in ((1, 3), (2, 2), (3, 2)):
        module = ModuleFactory(track=track, slug=f"part-{number}", title=f"Part {number}", weeks=1)
        for item in range(1, count + 1):
            ResourceFactory(
                module=module, slug=f"p{number}-r{item}", title=f"Part {number} item {item}"
            )
        modules.append(module)
    return track


def member_with_progress(cohort, code, user, *, modules: int, days_ago: int):
    """A member who finished the first `modules` modules, the last of it `days_ago` days ago."""
    now = timezone.now()
    cohort_services.cohort_join(user=user, code=code, now=now - timedelta(days=20))
    track = cohort.tracks.get()
    # The first `modules` modules in track order (factory positions are global sequences, so
    # they are compared, never taken as indexes).
    first = set(track.modules.order_by("position", "id").values_list("pk", flat=True)[:modules])
    resources = [
        r for r in track.resources.select_related("track", "module") if r.module_id in first
    ]
    resources.sort(key=lambda r: (r.module.position, r.module_id, r.position, r.pk))
    for offset, resource in enumerate(reversed(resources)):
        services.progress_set_status(
            learner=user,
            resource=resource,
            status="done",
            now=now - timedelta(days=days_ago, hours=offset),
        )


def test_a_cohort_from_creation_to_a_message(browser, live_server, request, settings):
    outbox = request.getfixturevalue("smtp_server")  # the test's outbox: a real SMTP server
    celery = request.getfixturevalue("workers")  # real Celery workers, started when needed
    settings.SITE_URL = live_server.url
    track = curriculum()
    admin = named("ada@example.com", "Ada Admin", is_staff=True)
    today = timezone.localdate()
    starts_on = today - timedelta(days=14)  # today is in week 3: parts 1 and 2 are due
    ends_on = starts_on + timedelta(weeks=10, days=-1)

    # --- the admin creates the cohort, its two phases and an invite link ---
    admin_context = browser.new_context(
        viewport={"width": 1200, "height": 900}, accept_downloads=True
    )
    admin_context.set_default_timeout(15_000)
    page = admin_context.new_page()
    log_in(page, live_server, admin)
    page.goto(f"{live_server.url}/cohorts/new/")
    page.get_by_label("Name", exact=True).fill("Autumn Cohort")
    page.get_by_label("Web address (slug)").fill("autumn")
    page.get_by_label("Starts on").fill(starts_on.isoformat())
    page.get_by_label("Ends on").fill(ends_on.isoformat())
    page.get_by_label("Deep Learning").check()
    page.get_by_role("button", name="Create cohort").click()
    expect(page).to_have_url(f"{live_server.url}/cohorts/autumn/settings/")

    phases = page.locator("#phases")
    learning_ends = starts_on + timedelta(weeks=6, days=-1)
    for row, (name, first, last) in enumerate(
        [
            ("Learning phase", starts_on, learning_ends),
            ("Project phase", learning_ends + timedelta(days=1), ends_on),
        ],
        start=1,
    ):
        phases = page.locator("#phases")
        phases.get_by_label(f"Phase name, row {row}").fill(name)
        phases.get_by_label(f"Starts on, row {row}").fill(first.isoformat())
        phases.get_by_label(f"Ends on, row {row}").fill(last.isoformat())
        phases.get_by_role("button", name="Save phases").click()
        expect(page.locator("#phases").get_by_label(f"Phase name, row {row + 1}")).to_be_visible()
    cohort = Cohort.objects.get(slug="autumn")
    assert [p.name for p in cohort.phases.all()] == ["Learning phase", "Project phase"]

    page.goto(f"{live_server.url}/cohorts/autumn/invites/")
    page.get_by_role("button", name="Create invite").click()
    link_field = page.get_by_test_id("invite-link")
    expect(link_field).to_have_count(1)
    invite_link = link_field.input_value()
    code = CohortInvite.objects.get(cohort=cohort).code
    assert invite_link == f"{live_server.url}/join/{code}/"

    # Members who joined earlier: one on pace, one a module behind, one quiet for weeks.
    bea = named("bea@example.com", "Bea On-Pace")
    dev = named("dev@example.com", "Dev Behind")
    cyd = named("cyd@example.com", "Cyd Quiet")
    member_with_progress(cohort, code, bea, modules=2, days_ago=1)
    member_with_progress(cohort, code, dev, modules=1, days_ago=3)
    member_with_progress(cohort, code, cyd, modules=0, days_ago=0)
    # ...and a member of another cohort, who must not learn this one exists.
    other = cohort_services.cohort_create(
        by=admin,
        name="Other Cohort",
        slug="other",
        starts_on=starts_on,
        ends_on=ends_on,
        track_ids=[track.pk],
    )
    outsider = named("olu@example.com", "Olu Outsider")
    cohort_services.cohort_join(
        user=outsider, code=cohort_services.invite_create(by=admin, cohort=other).code
    )

    # --- a new learner signs up through the link, joins, and marks three resources done ---
    learner_context = browser.new_context(viewport={"width": 1100, "height": 900})
    learner_context.set_default_timeout(15_000)
    learner = learner_context.new_page()
    learner.goto(invite_link)
    expect(learner.get_by_role("heading", level=1)).to_have_text("Autumn Cohort")
    learner.get_by_role("button", name="Sign up to join Autumn Cohort").click()
    expect(learner.get_by_text("you will then join Autumn Cohort")).to_be_visible()
    learner.get_by_label("Email").fill(NEW_EMAIL)
    learner.get_by_label("Display name").fill("Nia New")
    learner.get_by_label("Password:", exact=True).fill(PASSWORD)
    learner.get_by_label("Password (again)").fill(PASSWORD)
    learner.get_by_role("button", name="Sign Up").click()
    expect(learner).to_have_url(f"{live_server.url}/accounts/confirm-email/")
    confirmation = wait_for(
        lambda: [m for m in outbox.messages if m["To"] == NEW_EMAIL],
        timeout=30,
        message="no confirmation email",
    )[-1]
    body = confirmation.get_body(("plain",)).get_content()
    confirm_path = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", body).group(1)
    learner.goto(f"{live_server.url}{confirm_path}")
    learner.get_by_role("button", name="Confirm").click()
    # confirmed and logged in: joined, in the cohort, without pressing Join again
    expect(learner).to_have_url(f"{live_server.url}/cohorts/autumn/home/")
    expect(learner.get_by_text("Welcome to Autumn Cohort!")).to_be_visible()

    learner.goto(f"{live_server.url}/tracks/deep-learning/")
    for slug in ("p1-r1", "p1-r2", "p1-r3"):
        row = learner.locator(f"#resource-{slug}")
        row.get_by_role("button", name=re.compile(r"^Done\b")).click()
        expect(
            learner.locator(f"#resource-{slug}").get_by_role("button", name=re.compile(r"^Done\b"))
        ).to_have_attribute("aria-pressed", "true")
    learner.goto(f"{live_server.url}/me/")
    card = learner.get_by_test_id("cohort-autumn")
    expect(card).to_contain_text("Learning phase")
    expect(card.get_by_test_id("cohort-pace")).to_have_text("Behind by 1 module")

    # --- the admin's dashboard shows the new learner's progress and pace ---
    page.goto(f"{live_server.url}/cohorts/autumn/")
    nia_row = page.get_by_test_id("member-row").filter(has_text="Nia New")
    expect(nia_row).to_contain_text("42%")  # 3 of 7 items, rounded down
    expect(nia_row).to_contain_text("Behind by 1 module")

    # Filter to "behind", then sort by last activity (the state lands in the URL).
    page.get_by_label("Pace", exact=True).select_option(label="Behind")
    expect(page).to_have_url(re.compile(r"pace=behind"))
    names = page.get_by_test_id("member-row").locator("th")
    expect(names).to_have_count(3)
    page.get_by_role("link", name="Last activity").click()  # most recent first
    expect(page).to_have_url(re.compile(r"pace=behind&sort=-activity"))
    expect(page.get_by_role("link", name="Last activity")).to_be_focused()  # kept over the swap
    expect(names).to_have_text(["Nia New", "Dev Behind", "Cyd Quiet"])
    # The filter form follows the column's sort, so its next change keeps it; Back shows the
    # form as it was for that address.
    expect(page.get_by_label("Sort by")).to_have_value("-activity")
    page.get_by_label("Pace", exact=True).select_option(label="Any pace")
    expect(page).to_have_url(re.compile(r"sort=-activity"))
    expect(page).not_to_have_url(re.compile(r"pace=behind"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"pace=behind&sort=-activity"))
    expect(page.get_by_label("Pace", exact=True)).to_have_value("behind")
    expect(page.get_by_label("Sort by")).to_have_value("-activity")
    expect(names).to_have_text(["Nia New", "Dev Behind", "Cyd Quiet"])

    # The CSV holds exactly these rows, in this order, with the table's figures.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download these members as CSV").click()
    download = download_info.value
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    expected = [
        ("Nia New", "3", "1", "set", "Behind by 1 module", "no"),
        ("Dev Behind", "3", "1", "set", "Behind by 1 module", "no"),
        ("Cyd Quiet", "0", "0", "", "Behind by 2 modules", "yes"),
    ]
    assert [row["name"] for row in rows] == [name for name, *_ in expected]
    for row, (name, done, modules_done, activity, pace, at_risk) in zip(
        rows, expected, strict=True
    ):
        assert row["Deep Learning done"] == done, name
        assert row["Deep Learning required"] == "7", name
        assert row["modules_done"] == modules_done, name
        assert bool(row["last_activity"]) == bool(activity), name
        assert row["pace"] == pace and row["at_risk"] == at_risk, name
    assert int(rows[0]["points"]) > 0 and rows[0]["points"] == rows[1]["points"]
    assert rows[2]["points"] == "0"

    # --- message one at-risk member; a real worker delivers it ---
    at_risk = page.get_by_test_id("at-risk")
    expect(at_risk).to_contain_text("Cyd Quiet")
    for box in at_risk.get_by_role("checkbox").all():
        if box.get_attribute("id") != f"risk-{cyd.pk}":
            box.uncheck()
    page.locator("form", has=at_risk).get_by_role(
        "button", name="Message the selected members at risk"
    ).click()
    expect(page.get_by_text("To 1 member", exact=True)).to_be_visible()
    expect(page.get_by_role("checkbox", name="Cyd Quiet")).to_be_checked()
    page.get_by_label("Subject").fill("Checking in, {name}")
    page.get_by_label("Message").fill("Hi {name}, {pace} in {cohort}. Can we help?")
    celery.start()
    send_waiting_messages()  # beat's minutely sweep has run (nothing waits yet): a sender runs
    page.get_by_role("button", name="Send to the ticked members").click()
    expect(page.get_by_text("it goes out within a minute")).to_be_visible()
    send_waiting_messages()  # its next run hands the message to the worker
    message = wait_for(
        lambda: [m for m in outbox.messages if m["To"] == cyd.email],
        timeout=60,
        message=celery.logs(),
    )
    assert len(message) == 1 and message[0]["Subject"] == "Checking in, Cyd Quiet"
    assert "Hi Cyd Quiet, Behind by 2 modules in Autumn Cohort." in (
        message[0].get_body(("plain",)).get_content()
    )
    assert not [m for m in outbox.messages if m["To"] in (bea.email, dev.email)]

    # --- a member of another cohort gets 404 on every page of this one ---
    outsider_page = browser.new_page()
    log_in(outsider_page, live_server, outsider)
    for path in ("", "home/", "members.csv", "messages/", "settings/", "invites/", "members/"):
        response = outsider_page.goto(f"{live_server.url}/cohorts/autumn/{path}")
        assert response.status == 404, path
    outsider_page.context.close()
    learner_context.close()
    admin_context.close()
