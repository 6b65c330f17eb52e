"""`send_nudges --dry-run`: who would get what, read only."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings

from . import emails, selectors, services
from .models import NudgeDelivery


def _pace(track) -> str:
    projection = track.projection
    if projection.complete:
        return f"{track.track.title} complete"
    if projection.behind:
        return f"{track.track.title} {projection.days_off} days behind"
    if projection.ahead:
        return f"{track.track.title} {projection.days_off} days ahead"
    return f"{track.track.title} on time"


def describe_plan(*, now: datetime, week: str | None, learner=None) -> Iterator[str]:
    due = services.nudge_plan(now=now, week=week, learner=learner)
    pairs = {(d.week, d.learner_id) for d in due}
    if week is None and learner is None:  # the dispatcher also retries what is left over
        since = now - timedelta(hours=settings.NUDGE_CATCH_UP_HOURS)
        pairs |= set(selectors.claimable_work(now=now, since=since))
    if not pairs:
        yield "Nobody is due."
        return
    by_week: dict[str, list[int]] = defaultdict(list)
    for row_week, learner_id in sorted(pairs):
        by_week[row_week].append(learner_id)
    would_send = 0
    for row_week, ids in by_week.items():
        existing = dict(
            NudgeDelivery.objects.filter(week=row_week, learner_id__in=ids).values_list(
                "learner_id", "status"
            )
        )
        batch = selectors.nudge_batch(learner_ids=ids, week=row_week, now=now)
        for learner_id in ids:
            data = batch.get(learner_id)
            who = data.learner.email if data else f"learner {learner_id}"
            status = existing.get(learner_id)
            if status and selectors.is_final(status):
                yield f"{who} {row_week}: already {status}, nothing to do"
                continue
            reason = selectors.SKIP_NO_ADDRESS if data is None else data.skip_reason
            if reason:
                yield f"{who} {row_week}: would skip: {reason}"
                continue
            would_send += 1
            items = sum(len(t.next_items) for t in data.tracks)
            pace = "; ".join(_pace(t) for t in data.tracks)
            yield (
                f"{who} {row_week}: would send “{emails.subject_for(data)}” "
                f"({len(data.tracks)} track(s), {items} next item(s); {pace})"
            )
    yield f"Dry run: {would_send} email(s) would be sent; nothing was written."
