"""Entry points for timing the weekly nudge end to end (`bench/` calls these; see
docs/nudges.md): make N learners due at an instant, then run one dispatcher pass through the
real broker and wait until the workers have finished every row it handed on.

Workers (`celery -A config worker --concurrency=2`) and an SMTP server must be running; the
budget is 10,000 due learners delivered in 20 s or less with 2 worker processes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from curriculum.models import Track
from tracker.models import Enrolment, Profile

from . import schedule, services, tasks
from .broker import Publisher
from .models import FINAL_STATUSES, DeliveryStatus, DispatchMark, NudgeDelivery


@transaction.atomic
def make_due_learners(
    *, count: int, due: datetime, track_slugs: list[str], prefix: str = "nudge-load"
) -> list[int]:
    """`count` learners (UTC) whose nudge falls due at `due`, each enrolled in the given tracks.
    Bulk writes: this builds a benchmark's data set, not a learner's real history."""
    weekday, hour = due.weekday(), due.hour
    User = get_user_model()
    password = make_password(None)
    users = User.objects.bulk_create(
        [
            User(username=f"{prefix}-{i}", email=f"{prefix}-{i}@example.com", password=password)
            for i in range(count)
        ],
        batch_size=2000,
    )
    Profile.objects.bulk_create(
        [Profile(user=u, time_zone="UTC", nudge_weekday=weekday, nudge_hour=hour) for u in users],
        batch_size=2000,
    )
    tracks = list(Track.objects.filter(slug__in=track_slugs))
    enrolled_at = due - timedelta(days=30)
    Enrolment.objects.bulk_create(
        [Enrolment(learner=u, track=t, enrolled_at=enrolled_at) for u in users for t in tracks],
        batch_size=2000,
    )
    return [u.pk for u in users]


def dispatch_hour(due_at: datetime) -> services.DispatchReport:
    """The dispatcher's run as beat makes it at `due_at` (the top of an hour): rows for every
    learner due since the last run, chunks published to the real broker for the workers."""
    with Publisher() as publisher:
        report = services.nudge_dispatch(
            publish=lambda week, ids: publisher.publish(tasks.send_nudge_chunk, args=[ids, week]),
            now=due_at,
        )
    if report.publish_failures:
        raise RuntimeError(f"{report.publish_failures} of {report.chunks} chunks not published")
    return report


def forget_deliveries() -> None:
    """Remove every delivery row and the dispatcher's mark: the next dispatcher run sends to
    the learners due in its hour again (a benchmark's repeated runs; never in production)."""
    NudgeDelivery.objects.all().delete()
    DispatchMark.objects.filter(name=services.DISPATCH_MARK).delete()


@dataclass
class DeliveryTiming:
    seconds: float
    due: int
    chunks: int
    counts: dict[str, int]


def time_delivery(
    *, window_start: datetime | None = None, timeout: float = 300, poll: float = 0.1
) -> DeliveryTiming:
    """One dispatcher pass published to the broker, timed until every row it handed on is
    sent, skipped or failed. `window_start` resets the dispatcher's mark first (so learners
    due after it are picked up again by a repeated run on fresh rows)."""
    if window_start is not None:
        DispatchMark.objects.update_or_create(
            name=services.DISPATCH_MARK, defaults={"covered_until": window_start}
        )
    started = time.perf_counter()
    with Publisher() as publisher:
        report = services.nudge_dispatch(
            publish=lambda week, ids: publisher.publish(tasks.send_nudge_chunk, args=[ids, week])
        )
    now = timezone.now()
    weeks = {schedule.current_week(now=now - timedelta(days=d), zone=UTC) for d in (0, 1)}
    open_rows = NudgeDelivery.objects.filter(week__in=weeks).exclude(status__in=FINAL_STATUSES)
    deadline = started + timeout
    while open_rows.exists():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"rows still open after {timeout} s: {open_rows.count()}")
        time.sleep(poll)
    seconds = time.perf_counter() - started
    counts = {
        status: NudgeDelivery.objects.filter(week__in=weeks, status=status).count()
        for status in DeliveryStatus.values
    }
    return DeliveryTiming(seconds, report.due, report.chunks, counts)
