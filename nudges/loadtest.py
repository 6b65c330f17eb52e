"""Entry points for timing the weekly nudge end to end (`bench/nudge_run.py` calls these; see
docs/nudges.md and docs/performance.md): one dispatcher run for a given hour through the real
broker, and a clean slate between repeated runs.

Workers (`celery -A config worker --concurrency=2`) and an SMTP server must be running; the
budget is 10,000 due learners delivered in 20 s or less with 2 worker processes.
"""

from __future__ import annotations

from datetime import datetime

from . import services, tasks
from .broker import Publisher
from .models import DispatchMark, NudgeDelivery


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
