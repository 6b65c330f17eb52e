"""Completions per learner, track and ISO week (`WeeklyCompletions`), kept in step with
progress: one statement per change that enters or leaves "done", in the caller's transaction.

Weeks are ISO weeks in UTC, named by their Monday. The rows are a cache of the progress rows'
`completed_at`: `weekly_completions_rebuild` recomputes them (bulk writes that bypass the
progress service, such as the bench's COPY, call it), `weekly_completions_drift` compares.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction

from ..models import Progress, ProgressStatus, WeeklyCompletions

__all__ = [
    "week_of",
    "weekly_completions_drift",
    "weekly_completions_moved",
    "weekly_completions_rebuild",
    "weekly_weeks_moved",
]


def week_of(instant: datetime) -> date:
    day = instant.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def _table() -> str:
    return connection.ops.quote_name(WeeklyCompletions._meta.db_table)


def weekly_weeks_moved(*, removed: datetime | None, added: datetime | None) -> dict:
    """The weeks a completion leaves and enters, as the parameters `w_removed` and `w_added`
    of the progress service's single PostgreSQL statement (None: no such move)."""
    if removed is not None and added is not None and week_of(removed) == week_of(added):
        return {"w_removed": None, "w_added": None}
    return {
        "w_removed": week_of(removed) if removed is not None else None,
        "w_added": week_of(added) if added is not None else None,
    }


def weekly_completions_moved(
    *, learner_id: int, track_id: int, removed: datetime | None, added: datetime | None
) -> None:
    """A completion left the week of `removed` and/or entered the week of `added` (the
    statements PostgreSQL runs inside the progress service's single write, run on their own)."""
    weeks = weekly_weeks_moved(removed=removed, added=added)
    with connection.cursor() as cursor:
        if weeks["w_removed"] is not None:
            cursor.execute(
                f"UPDATE {_table()} SET completions = completions - 1 "
                "WHERE learner_id = %s AND track_id = %s AND week = %s AND completions > 0",
                [learner_id, track_id, weeks["w_removed"]],
            )
        if weeks["w_added"] is not None:
            # One statement on PostgreSQL and SQLite alike: the week's row, or one more in it.
            cursor.execute(
                f"INSERT INTO {_table()} (learner_id, track_id, week, completions) "
                "VALUES (%s, %s, %s, 1) ON CONFLICT (learner_id, track_id, week) "
                f"DO UPDATE SET completions = {_table()}.completions + 1",
                [learner_id, track_id, weeks["w_added"]],
            )


def _from_progress(*, track_ids=None, learner_ids=None) -> Counter:
    rows = Progress.objects.filter(status=ProgressStatus.DONE, completed_at__isnull=False)
    if track_ids is not None:
        rows = rows.filter(track_id__in=list(track_ids))
    if learner_ids is not None:
        rows = rows.filter(learner_id__in=list(learner_ids))
    counts: Counter = Counter()
    for learner_id, track_id, completed_at in rows.values_list(
        "learner_id", "track_id", "completed_at"
    ).iterator(chunk_size=10_000):
        counts[(learner_id, track_id, week_of(completed_at))] += 1
    return counts


def _kept(*, track_ids=None, learner_ids=None) -> Counter:
    rows = WeeklyCompletions.objects.filter(completions__gt=0)
    if track_ids is not None:
        rows = rows.filter(track_id__in=list(track_ids))
    if learner_ids is not None:
        rows = rows.filter(learner_id__in=list(learner_ids))
    return Counter(
        {
            (learner_id, track_id, week): n
            for learner_id, track_id, week, n in rows.values_list(
                "learner_id", "track_id", "week", "completions"
            ).iterator(chunk_size=10_000)
        }
    )


def weekly_completions_drift(*, track_ids=None, learner_ids=None) -> int:
    """How many (learner, track, week) counts differ from the progress rows."""
    truth, kept = (
        _from_progress(track_ids=track_ids, learner_ids=learner_ids),
        _kept(track_ids=track_ids, learner_ids=learner_ids),
    )
    return sum(1 for key in truth.keys() | kept.keys() if truth[key] != kept[key])


@transaction.atomic
def weekly_completions_rebuild(*, track_ids=None, learner_ids=None) -> int:
    """Recompute the counts (of the given tracks and learners, or all) from progress; answers
    how many rows there are now."""
    counts = _from_progress(track_ids=track_ids, learner_ids=learner_ids)
    old = WeeklyCompletions.objects.all()
    if track_ids is not None:
        old = old.filter(track_id__in=list(track_ids))
    if learner_ids is not None:
        old = old.filter(learner_id__in=list(learner_ids))
    old.delete()
    WeeklyCompletions.objects.bulk_create(
        [
            WeeklyCompletions(learner_id=learner_id, track_id=track_id, week=week, completions=n)
            for (learner_id, track_id, week), n in counts.items()
        ],
        batch_size=5_000,
    )
    return len(counts)
