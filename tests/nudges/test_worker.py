"""The weekly nudge end to end with real components, no eager mode: Redis as the broker, Celery
worker processes started here, an SMTP server on loopback. Also what happens when the broker
is down or hung: the web does not wait, publishing fails fast, the next run recovers."""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from nudges import outbox, services, tasks
from nudges.broker import Publisher
from nudges.models import DeliveryStatus, DispatchMark, NudgeDelivery

from .conftest import (
    broker_key,
    make_due_learner,
    make_learner,
    purge_celery_keys,
    top_of_hour,
    wait_for,
)

pytestmark = pytest.mark.services

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]


def mark_covered_until(instant) -> None:
    """As if the last dispatcher run ended just before `instant`."""
    DispatchMark.objects.update_or_create(
        name=services.DISPATCH_MARK, defaults={"covered_until": instant}
    )


def final_rows() -> int:
    return NudgeDelivery.objects.filter(
        status__in=[DeliveryStatus.SENT, DeliveryStatus.SKIPPED, DeliveryStatus.FAILED]
    ).count()


def test_emptying_the_broker_keeps_the_cache_that_shares_its_database(redis_client, settings):
    """The worker tests empty the broker of old messages, while the other test process's
    sessions and rate limits sit in the same Redis database (REDIS_URL is both by default)."""
    from django.core.cache import cache

    if settings.CACHES["default"]["BACKEND"] != "ops.cache.FailoverCache":
        pytest.skip("the cache is the database's here (no REDIS_URL)")
    if settings.CACHES["redis"]["LOCATION"] != settings.CELERY_BROKER_URL:
        pytest.skip("the cache and the broker are in different Redis databases here")
    queue, binding = broker_key("celery"), broker_key("_kombu.binding.celery")
    redis_client.lpush(queue, "an old task message")
    redis_client.sadd(binding, "celery")
    cache.set("a-session-of-another-test", "kept", 60)

    purge_celery_keys(redis_client)

    assert not redis_client.exists(queue, binding)
    assert cache.get("a-session-of-another-test") == "kept"
    cache.delete("a-session-of-another-test")


def test_a_task_goes_to_this_test_process_s_own_queue(broker):
    """Under `pytest -n` each process's tasks carry its own key prefix (tests/conftest.py), so
    its workers never take another process's tasks; CELERY_KEY_PREFIX does the same for
    deployments sharing one Redis database."""
    from config.celery import app

    app.send_task("nudges.a_task_no_worker_runs", args=[1])
    assert broker.llen(broker_key("celery")) == 1


def dispatch_here(*, chunk_size: int | None = None, url: str | None = None):
    """A dispatcher run in this process, publishing to the broker like the beat task does."""
    with Publisher(url=url) as publisher:
        return services.nudge_dispatch(
            publish=lambda week, ids: publisher.publish(tasks.send_nudge_chunk, args=[ids, week]),
            chunk_size=chunk_size,
        )


def test_the_hourly_dispatcher_sends_exactly_one_email_per_due_learner(
    workers, smtp_server, small_track, settings
):
    settings.SITE_URL = "https://waymark.example"
    workers.env["SITE_URL"] = settings.SITE_URL
    hour = top_of_hour()
    due = [make_due_learner(hour, zone=zone, track=small_track) for zone in ZONES for _ in range(3)]
    idle = make_due_learner(hour, zone="Europe/Berlin")  # nothing enrolled
    # Due two hours on: when the test straddles the hour, the run rightly takes the next hour's
    # learners too (it once found 12:00's learners due, and the count never settled).
    later = [make_due_learner(hour + timedelta(hours=2), zone=z, track=small_track) for z in ZONES]
    mark_covered_until(hour - timedelta(seconds=1))

    workers.start()
    with Publisher() as publisher:  # what beat does on the hour
        assert publisher.publish(tasks.dispatch_nudges, args=[])
    wait_for(
        lambda: final_rows() == len(due) + 1,
        timeout=90,
        message=f"not every due learner was handled:\n{workers.logs()}",
    )
    time.sleep(0.5)  # anything extra would arrive now

    per_learner = Counter(m["To"] for m in smtp_server.messages)
    assert per_learner == Counter({learner.email: 1 for learner in due})
    assert not any(smtp_server.to(learner.email) for learner in later + [idle])
    skipped = NudgeDelivery.objects.get(learner=idle)
    assert skipped.status == DeliveryStatus.SKIPPED
    assert skipped.reason == "Not enrolled in any track."

    learner = due[0]
    [message] = smtp_server.to(learner.email)
    row = NudgeDelivery.objects.get(learner=learner)
    assert message["Message-ID"] == row.message_id
    assert message["Message-ID"] == f"<nudge.{row.week}.{learner.pk}@waymark.example>"
    assert (
        message["List-Unsubscribe"]
        .strip()
        .startswith("<https://waymark.example/nudges/unsubscribe/")
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    assert "https://waymark.example/tracks/dl-basics/#resource-intro-video" in text
    assert "https://waymark.example/tracks/dl-basics/plan/" in text
    html = message.get_body(("html",)).get_content()
    assert 'href="https://waymark.example/tracks/dl-basics/#resource-intro-video"' in html


def test_a_worker_killed_mid_run_leaves_every_learner_with_exactly_one_message(
    workers, smtp_server, small_track, settings
):
    lease = 3
    settings.NUDGE_LEASE_SECONDS = lease
    workers.env["NUDGE_LEASE_SECONDS"] = str(lease)
    smtp_server.delay = 0.01  # a slower server, so the kill lands mid-run
    hour = top_of_hour()
    due = [make_due_learner(hour, zone=ZONES[i % 4], track=small_track) for i in range(240)]
    mark_covered_until(hour - timedelta(seconds=1))

    first = workers.start()
    report = dispatch_here(chunk_size=20)
    assert report.chunks == 12 and report.publish_failures == 0
    wait_for(lambda: len(smtp_server.messages) >= 60, timeout=60, message=workers.logs())
    workers.kill(first)  # SIGKILL to the worker and its pool processes
    received_at_kill = len(smtp_server.messages)
    assert received_at_kill < len(due), "the run finished before the kill"
    # Work was left: usually claims the dead worker held (only their leases running out frees
    # them); on a busy machine its 3 s lease may have run short first and the chunk's rest gone
    # back to waiting. Either way, what follows must deliver each of them exactly once.
    assert NudgeDelivery.objects.exclude(status=DeliveryStatus.SENT).exists()

    workers.start()
    time.sleep(lease + 1)  # the dead worker's claims lapse

    def all_sent_after_the_next_run() -> bool:
        # The next hourly run hands on what is left. On a busy machine a 3 s lease can run
        # short mid-chunk: the worker then gives the rest back and the run after hands it on
        # again (as beat's hourly runs would), so keep running until everything went.
        if NudgeDelivery.objects.filter(status=DeliveryStatus.SENT).count() == len(due):
            return True
        if not NudgeDelivery.objects.filter(outbox.claimable(timezone.now())).exists():
            return False  # the workers still hold everything left: let them finish
        dispatch_here(chunk_size=20)
        return False

    wait_for(
        all_sent_after_the_next_run,
        timeout=120,
        interval=1.0,
        message=f"not every learner got their nudge:\n{workers.logs()}",
    )
    time.sleep(0.5)

    ids = Counter(smtp_server.message_ids())
    expected = {row.message_id for row in NudgeDelivery.objects.all()}
    assert set(ids) == expected and len(expected) == len(due)
    # Every learner has exactly one distinct message. A copy can only come from a send the
    # kill caught between the server's OK and recording it (at most one per pool process),
    # and it carries the same Message-ID, so it is recognisable downstream.
    copies = sum(ids.values()) - len(expected)
    assert copies <= 2, f"{copies} duplicates"
    assert {m["To"] for m in smtp_server.messages} == {learner.email for learner in due}


# --- a broker that is down or hung ----------------------------------------------------------


@pytest.fixture(params=["closed", "hung"])
def bad_broker_url(request, closed_broker_url, hung_broker_url):
    return {"closed": closed_broker_url, "hung": hung_broker_url}[request.param]


def test_marking_progress_answers_fast_whatever_the_broker_does(
    client, small_track, settings, bad_broker_url
):
    settings.CELERY_BROKER_URL = bad_broker_url
    learner = make_learner(track=small_track)
    client.force_login(learner)
    resource = small_track.resources.first()
    url = reverse("track:set_status", kwargs={"slug": small_track.slug, "item": resource.slug})
    for status in ("done", "in_progress", "done"):
        started = time.perf_counter()
        response = client.post(url, {"status": status}, HTTP_HX_REQUEST="true")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200
        assert elapsed < 1.0, (
            f"marking progress took {elapsed:.2f}s with the broker {bad_broker_url}"
        )


def test_publishing_to_a_bad_broker_fails_fast_and_is_logged(bad_broker_url, caplog):
    started = time.perf_counter()
    with Publisher(url=bad_broker_url) as publisher, caplog.at_level(logging.ERROR):
        first = publisher.publish(tasks.send_nudge_chunk, args=[[1], "2026-W05"])
        second = publisher.publish(tasks.send_nudge_chunk, args=[[2], "2026-W05"])
    elapsed = time.perf_counter() - started
    assert (first, second) == (False, False)
    # Bounded by the broker socket timeout (3 s), once: the second publish does not wait again.
    assert elapsed < 4.5, f"publishing took {elapsed:.1f}s"
    assert "Could not publish nudges.send_chunk" in caplog.text


def test_the_dispatcher_recovers_once_the_broker_is_back(
    workers, smtp_server, small_track, hung_broker_url
):
    hour = top_of_hour()
    due = [make_due_learner(hour, zone=zone, track=small_track) for zone in ZONES]
    mark_covered_until(hour - timedelta(seconds=1))

    started = time.perf_counter()
    report = dispatch_here(url=hung_broker_url)  # the broker hangs during this run
    assert time.perf_counter() - started < 5
    assert report.due == len(due) and report.publish_failures == report.chunks == 1
    assert NudgeDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == len(due)

    workers.start()
    again = dispatch_here()  # the next run, with the broker back: nothing new is due
    assert again.due == 0 and again.queued == len(due)
    wait_for(
        lambda: NudgeDelivery.objects.filter(status=DeliveryStatus.SENT).count() == len(due),
        timeout=60,
        message=workers.logs(),
    )
    time.sleep(0.3)
    assert Counter(m["To"] for m in smtp_server.messages) == Counter(
        {learner.email: 1 for learner in due}
    )
