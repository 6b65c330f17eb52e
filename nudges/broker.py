"""Publishing to the broker without ever waiting on it for long, and without raising.

The broker's connect and socket timeouts and the bounded publish retry come from settings
(`CELERY_BROKER_TRANSPORT_OPTIONS`, `CELERY_TASK_PUBLISH_RETRY_POLICY`); a publish that still
fails is logged and reported as False. The work itself is in the database, so whoever called
leaves it for the next scheduled run (the hourly nudge dispatcher, the minutely cohort-message
sweep). Requests never publish: only beat's tasks and the workers do.
"""

from __future__ import annotations

import contextlib
import logging

from django.conf import settings

from config.celery import app

logger = logging.getLogger(__name__)


class Publisher:
    """One broker connection for a run of publishes. After the first failure it stops trying
    (each try could take the whole timeout), so a dead broker costs one bounded wait."""

    def __init__(self, url: str | None = None):
        self.url = url or settings.CELERY_BROKER_URL
        self.connection = None
        self.broken = False

    def __enter__(self) -> Publisher:
        self.connection = app.connection_for_write(url=self.url)
        return self

    def __exit__(self, *exc) -> None:
        # Closing a dead connection may fail; it is gone either way.
        with contextlib.suppress(Exception):
            self.connection.release()

    def publish(self, task, *, args: list, countdown: float | None = None) -> bool:
        if self.broken:
            return False
        try:
            task.apply_async(
                args=args,
                connection=self.connection,
                countdown=countdown,
                retry=True,
                retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY,
            )
        except Exception as error:  # kombu, redis and socket errors alike: log, never raise
            self.broken = True
            logger.error(
                "Could not publish %s to the broker (%s: %s); the next scheduled run "
                "picks the work up from the database",
                task.name,
                type(error).__name__,
                error,
            )
            return False
        return True


def publish(task, *, args: list, countdown: float | None = None) -> bool:
    """Publish one task; False (logged) when the broker is down or hung."""
    with Publisher() as publisher:
        return publisher.publish(task, args=args, countdown=countdown)
