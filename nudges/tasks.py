"""Celery tasks for the weekly nudge: thin, named, ids and ISO weeks as arguments, idempotent
(they may run twice; the delivery rows decide what is left to do)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import services
from .broker import Publisher, publish


@shared_task(name="nudges.dispatch", ignore_result=True)
def dispatch_nudges() -> dict:
    """Hourly (beat): rows for the learners due since the last run, then one task per chunk."""
    with Publisher() as publisher:

        def hand_on(week: str, learner_ids: list[int]) -> bool:
            return publisher.publish(send_nudge_chunk, args=[learner_ids, week])

        report = services.nudge_dispatch(publish=hand_on)
    return {"due": report.due, "queued": report.queued, "chunks": report.chunks}


@shared_task(name="nudges.send_chunk", ignore_result=True, acks_late=True)
def send_nudge_chunk(learner_ids: list[int], week: str) -> dict:
    """Send one chunk's nudges for `week`. Rows that failed transiently wait with backoff; a
    task for them is scheduled at their retry time (if that publish fails, the next
    dispatcher run picks them up when their time has come)."""
    report = services.nudge_send_chunk(learner_ids=list(learner_ids), week=week)
    if report.retrying and report.retry_at is not None:
        countdown = max((report.retry_at - timezone.now()).total_seconds(), 0)
        publish(send_nudge_chunk, args=[report.retrying, week], countdown=countdown)
    return {"sent": report.sent, "skipped": report.skipped, "failed": report.failed}
