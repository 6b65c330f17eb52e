"""Sending a chunk of nudges to a real SMTP server on loopback (in this process; the worker
tests run the same through Celery): what the email says, exactly once, skips with reasons,
SMTP failures retried with backoff or flagged for good, and lapsed claims taken over."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from nudges import emails, outbox, schedule, selectors, services
from nudges.models import BouncedAddress, DeliveryStatus, NudgeDelivery
from tests.factories import CapstoneFactory, ResourceFactory, UserFactory
from tracker import selectors as tracker_selectors
from tracker import services as tracker_services
from tracker.models import SubmissionStatus

from .conftest import free_port, make_learner

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 9, 9, 0, 5, tzinfo=UTC)  # Monday of 2026-W11
WEEK = "2026-W11"


def queue(*learners, week: str = WEEK, now: datetime = NOW) -> None:
    services._create_rows(
        [selectors.Due(learner.pk, week, now - timedelta(seconds=5)) for learner in learners],
        now=now,
    )


def send(*learners, week: str = WEEK, now: datetime = NOW) -> services.ChunkReport:
    return services.nudge_send_chunk(learner_ids=[x.pk for x in learners], week=week, now=now)


def row(learner, week: str = WEEK) -> NudgeDelivery:
    return NudgeDelivery.objects.get(learner=learner, week=week)


@pytest.fixture
def busy_learner(small_track, settings):
    """A learner with something in every section: recent completions, a streak, a plan that is
    behind, a capstone sent back, revisit flags."""
    settings.SITE_URL = "https://waymark.example"
    learner = make_learner(zone="Europe/Berlin", weekday=0, hour=10, track=small_track)
    resources = list(small_track.resources.order_by("module__position", "position"))
    for resource in resources[:2]:
        tracker_services.progress_set_status(
            learner=learner, resource=resource, status="done", now=NOW - timedelta(days=2)
        )
    tracker_services.progress_set_status(
        learner=learner, resource=resources[2], status="skipped", now=NOW - timedelta(days=1)
    )
    tracker_services.pace_plan_set(
        learner=learner,
        track=small_track,
        hours_per_week=None,
        target_date=date(2026, 3, 12),
        today=date(2026, 3, 1),
    )
    tracker_services.note_set_revisit(learner=learner, resource=resources[0], revisit=True)
    capstone = CapstoneFactory(
        module=resources[0].module, title="Build a classifier", slug="classifier", constraints=[]
    )
    submission = tracker_services.capstone_submit(
        learner=learner,
        capstone=capstone,
        title="My pet classifier",
        link="https://example.com/mine",
        writeup="It works.",
        constraints_met=[],
    )
    tracker_services.capstone_review(
        reviewer=UserFactory(is_staff=True),
        submission=submission,
        decision=SubmissionStatus.CHANGES_REQUESTED,
        comments="Add a validation set.",
        via="admin",
    )
    return learner


def test_the_email_has_every_section_with_absolute_links_and_list_headers(
    busy_learner, small_track, smtp_server
):
    queue(busy_learner)
    report = send(busy_learner)
    assert report.sent == 1
    [message] = smtp_server.messages
    assert message["To"] == busy_learner.email
    assert message["Message-ID"] == f"<nudge.{WEEK}.{busy_learner.pk}@waymark.example>"
    unsubscribe = emails.unsubscribe_url(busy_learner.pk)
    assert unsubscribe.startswith("https://waymark.example/nudges/unsubscribe/")
    assert message["List-Unsubscribe"].strip() == f"<{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Subject"] == "2 done in the last 7 days · Next up: Item reading"

    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    track_url = "https://waymark.example/tracks/dl-basics/"
    for raw in (text, html):
        body = " ".join(re.sub(r"<[^>]+>", " ", raw).split())  # the words, without markup
        assert "finished 2 resources and earned 40 points" in body
        assert "Streak: 1 week in a row" in body
        assert "deep learning basics" in body.lower() and "33% done" in body
        # Next three unfinished required items, skipped ones last, linked to the track page.
        assert body.index("Item reading") < body.index("Item second-video")
        assert body.index("Item second-video") < body.index("Item first-exercise")
        for slug in ("first-exercise", "reading", "second-video"):
            assert f"{track_url}#resource-{slug}" in raw
        # Pace: projected finish against the learner's target, behind.
        assert "Your own plan: projected finish" in body and "days behind" in body
        assert "your target 12 Mar 2026" in body
        assert f"{track_url}plan/" in raw
        # The capstone sent back, and the revisit list.
        assert "My pet classifier (Build a classifier): changes requested" in body
        assert "https://waymark.example/tracks/dl-basics/capstones/classifier/" in raw
        assert "Item intro-video (Deep Learning Basics)" in body
        assert f"{track_url}#resource-intro-video" in raw
        assert unsubscribe in raw and "https://waymark.example/me/profile/" in raw
    assert "every Monday at 10:00 (Europe/Berlin)" in text

    delivered = row(busy_learner)
    assert delivered.status == DeliveryStatus.SENT
    assert delivered.message_id == message["Message-ID"]
    assert delivered.recipient == busy_learner.email and delivered.sent_at == NOW


def test_a_chunk_sent_twice_sends_once(busy_learner, smtp_server):
    queue(busy_learner)
    send(busy_learner)
    again = send(busy_learner, now=NOW + timedelta(minutes=5))
    assert again.claimed == 0 and len(smtp_server.messages) == 1
    queue(busy_learner)  # a second dispatcher run cannot make a second row
    assert NudgeDelivery.objects.filter(learner=busy_learner).count() == 1


def test_a_learner_with_nothing_enrolled_gets_nothing_and_the_log_says_why(smtp_server):
    idle = make_learner()
    queue(idle)
    report = send(idle)
    assert report.skipped == 1 and smtp_server.messages == []
    skipped = row(idle)
    assert skipped.status == DeliveryStatus.SKIPPED
    assert skipped.reason == "Not enrolled in any track."


def test_a_learner_who_unsubscribed_after_dispatch_is_skipped(small_track, smtp_server):
    learner = make_learner(track=small_track)
    queue(learner)
    services.nudge_subscription_set(learner_id=learner.pk, enabled=False)
    send(learner)
    assert smtp_server.messages == []
    assert row(learner).reason == "Weekly nudges are turned off in their profile."


def test_a_transient_failure_waits_with_growing_backoff_then_sends(
    small_track, smtp_server, settings
):
    settings.NUDGE_RETRY_BASE_SECONDS = 60
    learner = make_learner(track=small_track)
    queue(learner)
    smtp_server.rcpt_replies[learner.email] = "451 4.3.0 Try again later"
    report = send(learner)
    first = row(learner)
    assert report.retrying == [learner.pk]
    assert first.status == DeliveryStatus.PENDING and first.attempts == 1
    assert first.retry_at == NOW + timedelta(seconds=60)
    assert "451" in first.reason and "Try again later" in first.reason
    # Not before its time; then a second failure doubles the wait.
    assert send(learner, now=NOW + timedelta(seconds=30)).claimed == 0
    send(learner, now=NOW + timedelta(seconds=61))
    second = row(learner)
    assert second.attempts == 2
    assert second.retry_at == NOW + timedelta(seconds=61 + 120)
    del smtp_server.rcpt_replies[learner.email]
    send(learner, now=second.retry_at + timedelta(seconds=1))
    assert row(learner).status == DeliveryStatus.SENT and row(learner).attempts == 3
    assert len(smtp_server.messages) == 1


def test_retries_give_up_after_the_last_attempt(small_track, smtp_server, settings):
    settings.NUDGE_MAX_ATTEMPTS = 2
    learner = make_learner(track=small_track)
    queue(learner)
    smtp_server.rcpt_replies[learner.email] = "421 4.7.0 Busy"
    send(learner)
    send(learner, now=NOW + timedelta(hours=2))
    failed = row(learner)
    assert failed.status == DeliveryStatus.FAILED and failed.attempts == 2
    assert failed.reason.startswith("Gave up after 2 attempts. Last error: Recipient deferred: 421")


def test_a_permanent_refusal_fails_flags_the_address_and_stops_later_weeks(
    small_track, smtp_server
):
    learner = make_learner(track=small_track)
    queue(learner)
    smtp_server.rcpt_replies[learner.email] = "550 5.1.1 No such user"
    report = send(learner)
    assert report.failed == 1 and report.retrying == []
    failed = row(learner)
    assert failed.status == DeliveryStatus.FAILED
    assert failed.reason == "Recipient refused: 550 5.1.1 No such user"
    flag = BouncedAddress.objects.get()
    assert flag.email == learner.email.lower() and flag.code == 550
    # Next week nothing is attempted for that address; the log says why.
    queue(learner, week="2026-W12")
    send(learner, week="2026-W12", now=NOW + timedelta(days=7))
    assert row(learner, "2026-W12").reason.startswith("Their address was refused for good (550)")
    assert smtp_server.messages == []
    # Staff clear the flag: it sends again.
    services.address_unflag(email=learner.email)
    del smtp_server.rcpt_replies[learner.email]
    queue(learner, week="2026-W13")
    send(learner, week="2026-W13", now=NOW + timedelta(days=14))
    assert row(learner, "2026-W13").status == DeliveryStatus.SENT


def test_an_unreachable_mail_server_leaves_the_whole_chunk_waiting(
    small_track, settings, smtp_server
):
    settings.EMAIL_PORT = free_port()  # nothing listens there
    learners = [make_learner(track=small_track) for _ in range(3)]
    queue(*learners)
    report = send(*learners)
    assert sorted(report.retrying) == sorted(x.pk for x in learners)
    for learner in learners:
        waiting = row(learner)
        assert waiting.status == DeliveryStatus.PENDING
        assert waiting.reason.startswith("Mail server unreachable")


def test_a_lapsed_claim_is_taken_over_and_a_live_one_is_left_alone(small_track, smtp_server):
    crashed = make_learner(track=small_track)
    busy = make_learner(track=small_track)
    queue(crashed, busy)
    # A worker claimed both and died; its lease on `crashed` ran out, on `busy` it still runs.
    NudgeDelivery.objects.filter(learner=crashed).update(
        status=DeliveryStatus.SENDING, claim_token="dead", lease_until=NOW - timedelta(seconds=1)
    )
    NudgeDelivery.objects.filter(learner=busy).update(
        status=DeliveryStatus.SENDING, claim_token="alive", lease_until=NOW + timedelta(minutes=5)
    )
    report = send(crashed, busy)
    assert report.claimed == 1 and smtp_server.to(crashed.email) and not smtp_server.to(busy.email)
    # The dead worker cannot finish a row it no longer holds.
    assert not outbox.mark_sent(
        row(crashed), token="dead", now=NOW, message_id="<x@y>", recipient="x@y"
    )
    assert row(crashed).message_id == f"<nudge.{WEEK}.{crashed.pk}@127.0.0.1>"


def test_a_resend_after_a_crash_carries_the_same_message_id(small_track, smtp_server):
    learner = make_learner(track=small_track)
    queue(learner)
    send(learner)
    # Pretend the worker died between the server's OK and recording it: the row is claimable.
    NudgeDelivery.objects.filter(learner=learner).update(
        status=DeliveryStatus.SENDING, lease_until=NOW, sent_at=None
    )
    send(learner, now=NOW + timedelta(minutes=20))
    first, second = smtp_server.messages
    assert first["Message-ID"] == second["Message-ID"]


def test_the_streak_matches_the_dashboard(busy_learner):
    now = timezone.now()
    week = schedule.current_week(now=now, zone=schedule.zone_or_utc("Europe/Berlin"))
    data = selectors.nudge_batch(learner_ids=[busy_learner.pk], week=week, now=now)
    dashboard = tracker_selectors.dashboard_for(
        learner=busy_learner, profile=busy_learner.profile, now=now
    )
    assert data[busy_learner.pk].streak == dashboard.streak


def build_learners(track, count: int) -> list:
    learners = []
    resources = list(track.resources.all())
    for _ in range(count):
        learner = make_learner(track=track)
        tracker_services.progress_set_status(
            learner=learner, resource=resources[0], status="done", now=NOW - timedelta(days=1)
        )
        tracker_services.note_set_revisit(learner=learner, resource=resources[1], revisit=True)
        learners.append(learner)
    return learners


def test_the_email_data_of_a_chunk_takes_the_same_queries_for_ten_times_the_learners(
    small_track, django_assert_num_queries
):
    few = build_learners(small_track, 2)
    for position in range(10):
        ResourceFactory(module=small_track.modules.first(), position=10 + position)
    many = few + build_learners(small_track, 18)
    # A worker builds a track's structure once (six queries) and keeps it for every chunk.
    selectors.nudge_batch(learner_ids=[x.pk for x in few], week=WEEK, now=NOW)
    # Twelve queries (one finds nobody in a cohort); on PostgreSQL the streak query's SET LOCAL
    # too, in a savepoint inside the test's transaction (its own transaction in a worker).
    expected = 12 + (3 if connection.vendor == "postgresql" else 0)
    with django_assert_num_queries(expected) as small:
        selectors.nudge_batch(learner_ids=[x.pk for x in few], week=WEEK, now=NOW)
    with django_assert_num_queries(len(small.captured_queries)):
        batch = selectors.nudge_batch(learner_ids=[x.pk for x in many], week=WEEK, now=NOW)
    assert all(data.revisit and data.completions_recent == 1 for data in batch.values())
