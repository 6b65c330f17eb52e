"""Celery tasks for cohorts: thin, ids as arguments, idempotent (the delivery rows decide what
is left to send)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from nudges.broker import Publisher, publish


@shared_task(name="cohorts.send_waiting", ignore_result=True)
def send_waiting_messages() -> dict:
    """Every minute (beat): one `cohorts.send_message` per message with rows waiting. A message
    sent while the broker was down goes out on the first run after it is back."""
    from .services import messages

    messages.cohort_message_sweep_seen()
    waiting = messages.cohort_messages_waiting()
    with Publisher() as publisher:
        queued = sum(publisher.publish(send_cohort_message, args=[pk]) for pk in waiting)
    return {"waiting": len(waiting), "queued": queued}


@shared_task(name="cohorts.send_message", ignore_result=True, acks_late=True)
def send_cohort_message(message_id: int) -> dict:
    """Send a cohort message's waiting deliveries; rows that failed transiently are tried
    again at their retry time."""
    from .services import messages

    report = messages.cohort_message_deliver(message_id=message_id)
    if report.retrying and report.retry_at is not None:
        countdown = max((report.retry_at - timezone.now()).total_seconds(), 0)
        publish(send_cohort_message, args=[message_id], countdown=countdown)
    return {"sent": report.sent, "skipped": report.skipped, "failed": report.failed}
