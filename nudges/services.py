"""Every write of the weekly nudge. Tasks, the `send_nudges` command, views and admin actions
call these.

* `nudge_dispatch`: what the hourly beat task does. Turns the learners due since the last run
  into delivery rows (one per learner and ISO week, in one transaction with the dispatcher's
  mark), then hands every row that still needs sending to the workers in chunks, after commit.
  Publishing may fail (broker down or hung): the rows stay, and the next run publishes them.
* `nudge_send_chunk`: what a worker does with one chunk: claim, load the email data of the
  whole chunk at once, send each message, mark each row.
* `nudge_deliver_now`: the same without a broker (`send_nudges`).
"""

from __future__ import annotations

import gc
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from tracker.models import Profile

from . import emails, mailer, outbox, schedule, selectors
from .models import BouncedAddress, DeliveryStatus, DispatchMark, NudgeDelivery

logger = logging.getLogger(__name__)

DISPATCH_MARK = "weekly-nudge"
# Stop sending from a claim this long before its lease ends (at most a fifth of the lease);
# the rest is released for another run.
LEASE_MARGIN_SECONDS = 5


class NudgeError(Exception):
    """Bad input a person can act on."""


# --- dispatch -------------------------------------------------------------------------------


@dataclass
class DispatchReport:
    window_start: datetime
    window_end: datetime
    due: int = 0  # learners newly due in the window
    queued: int = 0  # rows handed on (new and recovered)
    chunks: int = 0
    publish_failures: int = 0
    expired: int = 0  # rows that were not sent within the catch-up time


def _chunks(work: Iterable[tuple[str, int]], size: int) -> list[tuple[str, list[int]]]:
    by_week: dict[str, list[int]] = defaultdict(list)
    for week, learner_id in work:
        by_week[week].append(learner_id)
    return [
        (week, ids[i : i + size])
        for week, ids in sorted(by_week.items())
        for i in range(0, len(ids), size)
    ]


# The dispatcher's rows in one statement on PostgreSQL: three arrays instead of 10,000 rows of
# bound parameters (`bulk_create` spends more time building its statements than PostgreSQL
# spends running them). The columns without a value here are the nullable ones.
_CREATE_ROWS_SQL = """
INSERT INTO nudges_nudgedelivery
       (learner_id, week, due_at, status, claim_token, attempts, recipient, message_id, reason,
        created_at, updated_at)
SELECT learner_id, week, due_at, %s, '', 0, '', '', '', %s, %s
  FROM unnest(%s::integer[], %s::text[], %s::timestamptz[]) AS due (learner_id, week, due_at)
    ON CONFLICT (learner_id, week) DO NOTHING
"""


def _create_rows(due: list[selectors.Due], *, now: datetime) -> None:
    """A row per due learner and week; a row that exists already is left as it is (a learner's
    week has one row, whoever made it first)."""
    if not due:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _CREATE_ROWS_SQL,
                [
                    DeliveryStatus.PENDING.value,
                    now,
                    now,
                    [d.learner_id for d in due],
                    [d.week for d in due],
                    [d.due_at for d in due],
                ],
            )
        return
    NudgeDelivery.objects.bulk_create(
        [
            NudgeDelivery(
                learner_id=d.learner_id,
                week=d.week,
                due_at=d.due_at,
                created_at=now,
                updated_at=now,
            )
            for d in due
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )


def _expire_stale(*, now: datetime, since: datetime) -> int:
    """Rows still unsent long after their time fail: a weeks-late nudge helps nobody."""
    return NudgeDelivery.objects.filter(outbox.claimable(now), due_at__lte=since).update(
        status=DeliveryStatus.FAILED,
        reason=f"Not sent within {settings.NUDGE_CATCH_UP_HOURS} hours of its time.",
        updated_at=now,
    )


def _dispatch_rows(*, now: datetime, size: int) -> tuple[DispatchReport, list]:
    """The dispatcher's database work, in one transaction: rows for the learners due since the
    mark, the mark moved on, stale rows expired, and the chunks that still need sending."""
    catch_up = timedelta(hours=settings.NUDGE_CATCH_UP_HOURS)
    with transaction.atomic():
        mark, _ = DispatchMark.objects.select_for_update().get_or_create(
            name=DISPATCH_MARK, defaults={"covered_until": now - timedelta(hours=1)}
        )
        start = max(mark.covered_until, now - catch_up)
        report = DispatchReport(window_start=start, window_end=now)
        if now > start:
            due = selectors.due_learners(start=start, end=now)
            _create_rows(due, now=now)
            report.due = len(due)
            mark.covered_until = now
            mark.save(update_fields=["covered_until"])
        report.expired = _expire_stale(now=now, since=now - catch_up)
        work = selectors.claimable_work(now=now, since=now - catch_up)
    chunks = _chunks(work, size)
    report.queued, report.chunks = len(work), len(chunks)
    return report, chunks


def nudge_dispatch(
    *,
    publish: Callable[[str, list[int]], bool],
    now: datetime | None = None,
    chunk_size: int | None = None,
) -> DispatchReport:
    """Turn due learners into rows, then publish every row that still needs sending, in
    chunks, once the rows are committed.

    `publish(week, learner_ids) -> bool` hands a chunk on (the tasks module passes one that
    enqueues `send_nudge_chunk` and never raises); False leaves the chunk's rows for the next
    run to pick up."""
    now = now or timezone.now()
    report, chunks = _dispatch_rows(now=now, size=chunk_size or settings.NUDGE_CHUNK_SIZE)

    def hand_on():
        for week, ids in chunks:
            if not publish(week, ids):
                report.publish_failures += 1
        if report.publish_failures:
            logger.error(
                "Nudge dispatch could not hand on %d of %d chunks; the next run retries them",
                report.publish_failures,
                report.chunks,
            )

    transaction.on_commit(hand_on)
    logger.info(
        "Nudge dispatch (%s, %s]: %d newly due, %d to send in %d chunks",
        report.window_start.isoformat(),
        now.isoformat(),
        report.due,
        report.queued,
        report.chunks,
    )
    return report


# --- sending a chunk ------------------------------------------------------------------------


@dataclass
class ChunkReport:
    week: str = ""
    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retrying: list[int] = field(default_factory=list)
    retry_at: datetime | None = None
    released: int = 0


def address_flag(*, email: str, code: int, error: str, now: datetime | None = None) -> None:
    BouncedAddress.objects.update_or_create(
        email=email.lower(),
        defaults={"code": code, "error": error[:500], "flagged_at": now or timezone.now()},
    )


def address_unflag(*, email: str) -> int:
    deleted, _ = BouncedAddress.objects.filter(email=email.lower()).delete()
    return deleted


@contextmanager
def cycle_collector_paused():
    """Python's cycle collector off while a chunk runs, on again after (whatever happens).
    Measured on a chunk of 500: it took a quarter of the CPU time, walking the chunk's many
    short-lived objects again and again, while the chunk leaves almost no cyclic garbage
    (the process's peak memory was the same without it); what little there is goes at the
    next collection after the chunk."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def nudge_send_chunk(
    *, learner_ids: list[int], week: str, now: datetime | None = None, connection=None
) -> ChunkReport:
    """Claim these learners' rows for `week`, send what is due, mark each row. Idempotent:
    rows already sent, skipped, failed or held by another worker are left alone. `now` fixes
    the clock (tests, `send_nudges`); by default each row is stamped when it is finished."""
    with cycle_collector_paused():
        return _send_chunk(learner_ids=learner_ids, week=week, now=now, connection=connection)


def _send_chunk(*, learner_ids: list[int], week: str, now: datetime | None, connection):
    schedule.parse_week(week)
    clock = timezone.now if now is None else (lambda: now)
    now = clock()
    report = ChunkReport(week=week)
    claim = outbox.claim(
        NudgeDelivery.objects.filter(week=week, learner_id__in=learner_ids), now=now
    )
    report.claimed = len(claim.rows)
    if not claim.rows:
        return report
    batch = selectors.nudge_batch(
        learner_ids=[r.learner_id for r in claim.rows], week=week, now=now
    )

    def prepare(row):
        data = batch.get(row.learner_id)
        reason = selectors.SKIP_NO_ADDRESS if data is None else data.skip_reason
        return (None, reason) if reason else (emails.render_nudge(data), "")

    return send_claimed(
        claim, prepare=prepare, report=report, now=now, clock=clock, connection=connection
    )


def send_claimed(claim, *, prepare, report, now: datetime, clock, connection=None):
    """Send the rows of `claim` in order over one connection and finish each row; shared by
    every `OutboundEmail` (the weekly nudge, cohort messages). `prepare(row)` answers
    `(rendered, "")` (anything with `message()`, `message_id` and `to`) or `(None, reason)`
    to skip the row. Rows the lease will not cover are released for another run."""
    lease = (claim.lease_until - now).total_seconds()
    deadline = time.monotonic() + lease - min(LEASE_MARGIN_SECONDS, lease / 5)
    if connection is None:
        connection, lost = mailer.open_connection()
    else:
        lost = None
    try:
        with outbox.quick_commits():
            for index, row in enumerate(claim.rows):
                if time.monotonic() >= deadline:
                    report.released = outbox.release(claim.rows[index:], token=claim.token, now=now)
                    logger.warning("Send ran out of lease; released %d rows", report.released)
                    break
                rendered, reason = prepare(row)
                if reason:
                    outbox.mark_skipped(row, token=claim.token, now=clock(), reason=reason)
                    report.skipped += 1
                    continue
                outcome = lost or mailer.send(rendered.message(), connection)
                _record(row, claim.token, rendered, outcome, report, when=clock())
                if outcome.connection_lost:
                    lost = outcome  # the rest of the chunk cannot go now: record them alike
    finally:
        connection.close()
    return report


def _record(
    row, token: str, rendered, outcome: mailer.Outcome, report: ChunkReport, *, when: datetime
) -> None:
    if outcome.sent:
        outbox.mark_sent(
            row, token=token, now=when, message_id=rendered.message_id, recipient=rendered.to
        )
        report.sent += 1
        return
    if outcome.bad_address:
        address_flag(email=rendered.to, code=outcome.code or 550, error=outcome.error, now=when)
    retry_at = outbox.record_failure(
        row,
        token=token,
        now=when,
        error=outcome.error,
        permanent=outcome.kind == mailer.PERMANENT,
        recipient=rendered.to,
    )
    if retry_at is None:
        report.failed += 1
    else:
        report.retrying.append(row.learner_id)
        report.retry_at = min(report.retry_at or retry_at, retry_at)


# --- without a broker: `send_nudges` --------------------------------------------------------


@dataclass
class DeliverReport:
    due: list[selectors.Due]
    chunks: list[ChunkReport] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(c, name) if name != "retrying" else len(c.retrying) for c in self.chunks)


def nudge_deliver_now(
    *,
    now: datetime | None = None,
    week: str | None = None,
    learner=None,
    chunk_size: int | None = None,
) -> DeliverReport:
    """Send in this process, without beat or a worker: the dispatcher's run (no `week`, no
    `learner`), every learner due by now in `week`, or one learner (their current week unless
    `week` is given, whatever their hour). Never twice: rows already final are left alone."""
    now = now or timezone.now()
    size = chunk_size or settings.NUDGE_CHUNK_SIZE
    if week is None and learner is None:
        _, chunks = _dispatch_rows(now=now, size=size)
        report = DeliverReport(due=[])
        for chunk_week, ids in chunks:
            report.chunks.append(nudge_send_chunk(learner_ids=ids, week=chunk_week, now=now))
        return report
    due = nudge_plan(now=now, week=week, learner=learner)
    _create_rows(due, now=now)
    report = DeliverReport(due=due)
    for chunk_week, ids in _chunks(((d.week, d.learner_id) for d in due), size):
        report.chunks.append(nudge_send_chunk(learner_ids=ids, week=chunk_week, now=now))
    return report


def nudge_plan(*, now: datetime, week: str | None, learner=None) -> list[selectors.Due]:
    """Who `send_nudges --week/--user` would send to (reads only)."""
    if week is not None:
        schedule.parse_week(week)
    if learner is not None:
        profile = Profile.objects.filter(user=learner).first()
        if profile is None:
            raise NudgeError(f"{learner.email} has no profile yet (they never logged in).")
        zone = schedule.zone_or_utc(profile.time_zone)
        target = week or schedule.current_week(now=now, zone=zone)
        when = schedule.due_at(
            week=target, weekday=profile.nudge_weekday, hour=profile.nudge_hour, zone=zone
        )
        return [selectors.Due(learner.pk, target, when)]
    if week is None:
        start = DispatchMark.objects.filter(name=DISPATCH_MARK).values_list(
            "covered_until", flat=True
        ).first() or now - timedelta(hours=1)
        start = max(start, now - timedelta(hours=settings.NUDGE_CATCH_UP_HOURS))
        return selectors.due_learners(start=start, end=now)
    return selectors.learners_due_in_week(week=week, now=now)


def delivery_state(*, learner_id: int, week: str) -> str | None:
    """What became of a learner's week ("sent", "skipped: ..."), for the command's output."""
    row = NudgeDelivery.objects.filter(learner_id=learner_id, week=week).first()
    if row is None:
        return None
    return f"{row.status}: {row.reason}" if row.reason else row.status


def learner_by_email(email: str):
    user = get_user_model().objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise NudgeError(f"No account has the email address {email!r}.")
    return user


# --- unsubscribe ----------------------------------------------------------------------------


@transaction.atomic
def nudge_subscription_set(*, learner_id: int, enabled: bool) -> Profile | None:
    """Turn a learner's weekly nudge off (or back on). None for an unknown learner."""
    profile = Profile.objects.select_for_update().filter(user_id=learner_id).first()
    if profile is None:
        return None
    if profile.nudge_enabled != enabled:
        profile.nudge_enabled = enabled
        profile.save(update_fields=["nudge_enabled"])
    return profile
