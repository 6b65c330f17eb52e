"""The cohort section of the weekly nudge (nudges/cohorts.py): the cohort's name and page, its
current phase, the next module target with its date and the learner's pace against it, sent
through a real SMTP server on loopback; read for a whole chunk in a fixed number of queries."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from cohorts.models import CohortMembership, CohortRole
from cohorts.standing import member_url
from nudges import emails, selectors
from tests.cohorts.member_world import cohort_with, member_of
from tests.factories import ModuleFactory, ResourceFactory, TrackFactory
from tracker import services as tracker_services

from .conftest import make_learner
from .test_delivery import NOW, WEEK, queue, send

pytestmark = pytest.mark.django_db

STARTS_ON = date(2026, 2, 23)  # NOW (Monday 9 March 2026) is in cohort week 3


@pytest.fixture
def cohort(small_track):
    start, following = small_track.modules.order_by("position")
    return cohort_with(
        slug="spring-2026",
        name="Spring Cohort 2026",
        tracks=[small_track],
        starts_on=STARTS_ON,
        weeks=10,
        phases=[("Learning phase", 1, 4), ("Project phase", 5, 10)],
        targets={start: 2, following: 4},
    )


def words(raw: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", raw).split())


def test_a_members_email_has_the_cohort_phase_next_target_and_pace(
    cohort, small_track, smtp_server, settings
):
    settings.SITE_URL = "https://waymark.example"
    learner = make_learner(track=small_track)
    member_of(cohort, learner)
    queue(learner)
    assert send(learner).sent == 1
    [message] = smtp_server.messages
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = f"https://waymark.example{member_url(cohort) or '/me/'}"
    assert "YOUR COHORT: Spring Cohort 2026" in text
    assert f'<a href="{link}">Spring Cohort 2026</a>' in html
    for raw in (text, html):
        body = words(raw)
        assert "Phase: Learning phase" in body
        assert "Next target: Start, was due 8 Mar 2026" in body
        assert "Against the cohort's pace plan, you are behind by 1 module" in body
        assert link in raw


def test_a_target_already_past_reads_was_due_in_the_email_on_me_and_the_member_page(
    client, cohort, small_track
):
    """On Monday 9 March the nudge read "Next target: Start by 8 Mar 2026" (the day before),
    as did the /me/ card ("by Sun 8 Mar 2026") and the member page ("due by Sunday 8 Mar
    2026"): a target already missed, worded as one still ahead."""
    learner = make_learner(track=small_track)
    member_of(cohort, learner)
    email = emails.render_nudge(
        selectors.nudge_batch(learner_ids=[learner.pk], week=WEEK, now=NOW)[learner.pk]
    )
    for raw in (email.text, email.html):
        assert "Next target: Start, was due 8 Mar 2026" in words(raw)
        assert "by 8 Mar" not in raw
    client.force_login(learner)
    with time_machine.travel(NOW, tick=False):
        me = words(client.get(reverse("tracker:dashboard")).content.decode())
        home = words(client.get(reverse("cohorts:home", args=[cohort.slug])).content.decode())
        plan = words(
            client.get(
                reverse("track:pace_plan", kwargs={"slug": small_track.slug})
            ).content.decode()
        )
    assert "Start was due Sun 8 Mar 2026 (week 2)" in me
    assert "Next target: Start (module 1), was due Sunday 8 Mar 2026 (end of week 2)." in home
    assert "its next target is Start, was due Sun 8 Mar 2026" in plan

    # The day before, it is still ahead: "by" everywhere, as before.
    day_before = datetime(2026, 3, 7, 9, tzinfo=UTC)
    email = emails.render_nudge(
        selectors.nudge_batch(learner_ids=[learner.pk], week="2026-W10", now=day_before)[learner.pk]
    )
    assert "Next target: Start by 8 Mar 2026" in email.text
    with time_machine.travel(day_before, tick=False):
        me = words(client.get(reverse("tracker:dashboard")).content.decode())
        home = words(client.get(reverse("cohorts:home", args=[cohort.slug])).content.decode())
    assert "Start by Sun 8 Mar 2026 (week 2)" in me
    assert "Next target: Start (module 1), due by Sunday 8 Mar 2026 (end of week 2)." in home


def test_the_section_follows_progress_and_the_kept_totals(cohort, small_track):
    learner = make_learner(track=small_track)
    member_of(cohort, learner)
    for resource in small_track.resources.filter(module__slug="start"):
        tracker_services.progress_set_status(
            learner=learner, resource=resource, status="done", now=NOW - timedelta(days=3)
        )
    section = selectors.nudge_batch(learner_ids=[learner.pk], week=WEEK, now=NOW)[learner.pk].cohort
    assert section.next_target == "Next" and section.next_target_due == date(2026, 3, 22)
    assert section.pace_status == "on pace"


def test_no_section_outside_a_cohort_for_admins_or_after_removal(cohort, small_track, smtp_server):
    outsider, admin, removed = (make_learner(track=small_track) for _ in range(3))
    member_of(cohort, admin, role=CohortRole.ADMIN)
    member_of(cohort, removed)
    CohortMembership.objects.filter(user=removed).update(removed_at=NOW)
    queue(outsider, admin, removed)
    assert send(outsider, admin, removed).sent == 3
    for message in smtp_server.messages:
        assert "YOUR COHORT" not in message.get_body(("plain",)).get_content()
        assert "nudge-cohort" not in message.get_body(("html",)).get_content()


def test_a_cohort_without_a_plan_names_no_target_or_pace(small_track):
    learner = make_learner(track=small_track)
    member_of(cohort_with(slug="unplanned", tracks=[small_track], starts_on=STARTS_ON), learner)
    section = selectors.nudge_batch(learner_ids=[learner.pk], week=WEEK, now=NOW)[learner.pk].cohort
    assert section.cohort_name == "Unplanned" and section.phase == "Between phases"
    assert section.next_target == "" and section.pace_status == ""


def members(count: int) -> list:
    """`count` learners, each in a cohort of their own over a track of their own (five
    targets), with some progress: nothing about them is shared."""
    found = []
    for _ in range(count):
        track = TrackFactory()
        modules = [ModuleFactory(track=track, position=n) for n in range(5)]
        resources = [ResourceFactory(module=module) for module in modules]
        cohort = cohort_with(
            slug=f"cohort-{track.pk}",
            tracks=[track],
            starts_on=STARTS_ON,
            phases=[("Learning", 1, 4), ("Project", 5, 12)],
            targets={module: n + 1 for n, module in enumerate(modules)},
        )
        learner = make_learner(track=track)
        member_of(cohort, learner)
        tracker_services.progress_set_status(
            learner=learner, resource=resources[0], status="done", now=NOW - timedelta(days=1)
        )
        found.append(learner)
    return found


def test_cohort_sections_of_a_chunk_take_the_same_queries_for_ten_times_the_learners(
    django_assert_num_queries,
):
    few = members(2)
    many = few + members(18)
    for chunk in (few, many):  # the worker keeps the tracks' structures for every chunk
        selectors.nudge_batch(learner_ids=[x.pk for x in chunk], week=WEEK, now=NOW)
    # Sixteen queries (five of them the cohorts'); on PostgreSQL the streak query's SET LOCAL
    # in a savepoint too (SQLite counts streaks without it).
    expected = 16 + (3 if connection.vendor == "postgresql" else 0)
    with django_assert_num_queries(expected) as small:
        selectors.nudge_batch(learner_ids=[x.pk for x in few], week=WEEK, now=NOW)
    with django_assert_num_queries(len(small.captured_queries)):
        batch = selectors.nudge_batch(learner_ids=[x.pk for x in many], week=WEEK, now=NOW)
    assert all(data.cohort.pace_status == "behind by 1 module" for data in batch.values())
    assert all(data.cohort.next_target for data in batch.values())
