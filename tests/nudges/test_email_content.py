"""What the weekly nudge says, read as its learner reads it: each figure and link must agree
with the learner's own pages, and the preview must show exactly what is sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from curriculum.models import ResourceKind
from nudges import emails, schedule, selectors
from tests.factories import CapstoneFactory, ModuleFactory, ResourceFactory, TrackFactory
from tracker import services as tracker_services

from .conftest import make_learner

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday


def done(learner, resource, when):
    tracker_services.progress_set_status(
        learner=learner, resource=resource, status="done", now=when
    )


def sent_and_previewed(client, learner, *, now=NOW):
    """The email as the worker renders it, checked against the learner's own preview page."""
    zone = schedule.zone_or_utc(learner.profile.time_zone)
    week = schedule.current_week(now=now, zone=zone)
    data = selectors.nudge_batch(learner_ids=[learner.pk], week=week, now=now)[learner.pk]
    email = emails.render_nudge(data)
    client.force_login(learner)
    with time_machine.travel(now, tick=False):
        page = client.get(reverse("nudges:preview_own")).content.decode()
    body = email.html.split("<body>", 1)[1].rsplit("</body>", 1)[0].strip()
    assert body in page, "the preview differs from the email that is sent"
    return email


def test_a_stage_that_is_another_track_links_to_it_with_its_time_left_there(client):
    """Learning Deep Learning's fast.ai stage read "fast.ai: Practical Deep Learning for Coders
    (2640 min)", linked to its row on Learning Deep Learning's page, for a learner 73% through
    the fast.ai track: /me/ links that step to the fast.ai track and the pace page counts its
    525 minutes left."""
    base = ModuleFactory(track=TrackFactory(slug="base-course", title="Base course"))
    first = ResourceFactory(module=base, minutes=10)
    ResourceFactory(module=base, minutes=15)
    outer = ModuleFactory(track=TrackFactory(slug="outer-path", title="Outer path"))
    ResourceFactory(
        module=outer,
        kind=ResourceKind.TRACK,
        linked_track=base.track,
        url="",
        minutes=300,
        title="The base stage",
        slug="base-stage",
    )
    follower, newcomer = make_learner(), make_learner()
    for track in (outer.track, base.track):
        tracker_services.enrolment_join(learner=follower, track=track, now=NOW - timedelta(days=9))
    tracker_services.enrolment_join(
        learner=newcomer, track=outer.track, now=NOW - timedelta(days=9)
    )
    done(follower, first, NOW - timedelta(days=2))

    base_url = f"{settings.SITE_URL}/tracks/base-course/"
    email = sent_and_previewed(client, follower)
    assert f'<a href="{base_url}">The base stage</a>' in email.html
    assert "(the track Base course completes it; 15 min left)" in email.html
    assert f"The base stage (the track Base course completes it; 15 min left)\n   {base_url}\n" in (
        email.text
    )
    assert "300 min" not in email.text and "#resource-base-stage" not in email.text

    # Not following it: the link is the same, the time is the stage's own estimate.
    email = sent_and_previewed(client, newcomer)
    assert f"The base stage (the track Base course completes it; 300 min)\n   {base_url}\n" in (
        email.text
    )


def test_a_capstone_handed_in_is_not_told_as_work_still_to_do(client):
    """With only capstones left, "Next up" listed "Capstone: Capstone I: supervised deep
    learning" for a learner whose submission was waiting for review (the track page says
    "Submitted"), as if it were theirs to do."""
    module = ModuleFactory(track=TrackFactory(slug="with-capstones"))
    resource = ResourceFactory(module=module, minutes=10)
    handed_in = CapstoneFactory(module=module, title="Capstone I: a classifier", review="lead")
    CapstoneFactory(module=module, title="Final project", review="lead")
    learner = make_learner(track=module.track)
    done(learner, resource, NOW - timedelta(days=3))
    tracker_services.capstone_submit(
        learner=learner,
        capstone=handed_in,
        title="My classifier",
        link="https://example.com/work",
        writeup="",
        constraints_met=list(handed_in.constraints),
        now=NOW - timedelta(days=2),
    )

    email = sent_and_previewed(client, learner)
    assert "1. Capstone I: a classifier (submitted, waiting for review)\n" in email.text
    assert "2. Capstone: Final project\n" in email.text
    assert "Capstone: Capstone I" not in email.text
    assert 'Capstone I: a classifier</a> <span class="muted">(submitted, waiting for review)' in (
        email.html
    )


def test_a_quiet_week_with_only_capstones_left_names_them_not_a_resource(client):
    """A learner whose every resource was done, two capstones still to pass, read "Nothing
    logged in the last 7 days: a single resource this week gets you going again" above a
    "Next up" of those two capstones: no resource was left."""
    module = ModuleFactory(track=TrackFactory(slug="capstones-left"))
    resource = ResourceFactory(module=module, minutes=10)
    first = CapstoneFactory(module=module, title="Capstone I: a classifier", review="lead")
    second = CapstoneFactory(module=module, title="Final project", review="lead")
    learner = make_learner(track=module.track)
    done(learner, resource, NOW - timedelta(days=20))

    text = sent_and_previewed(client, learner).text
    assert (
        "Nothing logged in the last 7 days: what is left is your capstones, and working on one "
        "this week gets you going again.\n" in text
    )
    assert "a single resource" not in text
    assert "1. Capstone I: a classifier\n" in text and "2. Capstone: Final project\n" in text

    # Both handed in, waiting for review: nothing is theirs to do, and the line says so.
    for capstone in (first, second):
        tracker_services.capstone_submit(
            learner=learner,
            capstone=capstone,
            title=f"My {capstone.title}",
            link="https://example.com/work",
            writeup="",
            constraints_met=list(capstone.constraints),
            now=NOW - timedelta(days=10),
        )
    text = sent_and_previewed(client, learner).text
    assert (
        "Nothing logged in the last 7 days: what is left is your capstones, handed in and "
        "waiting for review.\n" in text
    )
    assert "a single resource" not in text and "working on" not in text


def test_a_quiet_week_is_not_called_a_lapse_for_a_newcomer_or_a_finished_course(client):
    """A learner who had enrolled that morning read "a single resource this week gets you going
    again"; one whose every track was complete was told to finish a resource (none was left);
    one whose streak had lapsed read "Streak: none yet", as if they had never had one."""
    module = ModuleFactory(track=TrackFactory(slug="short-course"))
    first, second = ResourceFactory(module=module), ResourceFactory(module=module)
    newcomer = make_learner()
    tracker_services.enrolment_join(
        learner=newcomer, track=module.track, now=NOW - timedelta(hours=3)
    )
    lapsed, finished = make_learner(track=module.track), make_learner(track=module.track)
    done(lapsed, first, NOW - timedelta(days=20))
    for resource in (first, second):
        done(finished, resource, NOW - timedelta(days=20))

    text = sent_and_previewed(client, newcomer).text
    assert "Nothing logged yet: a single resource this week gets you started." in text
    assert "going again" not in text and "Streak: none yet." in text

    text = sent_and_previewed(client, lapsed).text
    assert "a single resource this week gets you going again." in text
    assert "Streak: none this week or last. Finish one thing this week to start a new one." in text

    text = sent_and_previewed(client, finished).text
    assert "Nothing logged in the last 7 days, and nothing is left to do in your tracks." in text
    assert "Streak: none this week or last.\n" in text
    assert "a single resource" not in text and "Finish one thing" not in text


def test_the_subject_counts_the_same_seven_days_as_the_email(client):
    """Sent on a Monday morning, the subject said "3 done this week" of work done the week
    before (the learner's week, as /me/ counts it, had just begun), while the email itself said
    "In the last 7 days you finished 3 resources"."""
    module = ModuleFactory(track=TrackFactory(slug="weekly"))
    resources = [ResourceFactory(module=module, title=f"Step {i}") for i in range(4)]
    learner = make_learner(track=module.track)
    for resource in resources[:3]:
        done(learner, resource, datetime(2026, 11, 26, 18, tzinfo=UTC))  # Thursday
    email = sent_and_previewed(client, learner, now=datetime(2026, 11, 30, 9, tzinfo=UTC))
    assert email.subject == "3 done in the last 7 days · Next up: Step 3"
    assert "In the last 7 days you finished 3 resources" in email.text


def test_the_email_says_its_links_need_a_log_in_and_unsubscribing_does_not(client):
    """Every link but "Stop these emails" leads to a page behind the log-in (the pace plan,
    the dashboard, the profile, a capstone, the cohort page), and the email did not say so."""
    module = ModuleFactory(track=TrackFactory(slug="links"))
    ResourceFactory(module=module)
    learner = make_learner(track=module.track)
    email = sent_and_previewed(client, learner)
    said = "these links open your own pages on Waymark: log in if it asks; stopping these emails"
    assert said in email.html and said[0].upper() + said[1:] in email.text
    client.logout()
    assert client.get(reverse("track:pace_plan", args=["links"])).status_code == 302
