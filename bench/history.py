"""Learners' histories (what they clicked, and when) and what the services make of them.

`replay` is what `tracker.services.progress_set_status` does to the progress rows and the
points ledger, step for step, without the database; `bench.consistency` proves it by replaying
sample histories through the real services and comparing the rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from tracker.models import PointsKind, ProgressStatus

DONE = ProgressStatus.DONE.value
IN_PROGRESS = ProgressStatus.IN_PROGRESS.value
SKIPPED = ProgressStatus.SKIPPED.value
NOT_STARTED = ProgressStatus.NOT_STARTED.value
AWARD = PointsKind.AWARD.value
REVERSAL = PointsKind.REVERSAL.value


@dataclass(frozen=True, slots=True)
class Item:
    """A resource of a track, as histories need it."""

    id: int
    track_id: int
    points: int
    optional: bool


@dataclass(frozen=True, slots=True)
class Event:
    item: Item
    status: str
    at: datetime


@dataclass(slots=True)
class ProgressState:
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    item: Item
    kind: str
    amount: int
    generation: int
    created_at: datetime


def replay(events: list[Event]) -> tuple[dict[Item, ProgressState], list[LedgerEntry]]:
    """The progress rows and ledger entries `progress_set_status` leaves after `events`."""
    progress: dict[Item, ProgressState] = {}
    latest: dict[Item, LedgerEntry] = {}
    ledger: list[LedgerEntry] = []
    for event in events:
        item, status, now = event.item, event.status, event.at
        row = progress.get(item)
        if row is not None and row.status == status:
            continue  # repeating a status changes nothing
        if row is None:
            row = progress[item] = ProgressState(NOT_STARTED, None, None, now)
        previous = row.status
        row.status = status
        row.updated_at = now
        if status == IN_PROGRESS and row.started_at is None:
            row.started_at = now
        if status == DONE:
            row.completed_at = now
            row.started_at = row.started_at or now
        else:
            row.completed_at = None
        last = latest.get(item)
        entry = None
        if status == DONE and (last is None or last.kind != AWARD):
            generation = 1 if last is None else last.generation + 1
            entry = LedgerEntry(item, AWARD, item.points, generation, now)
        elif status != DONE and previous == DONE and last is not None and last.kind == AWARD:
            entry = LedgerEntry(item, REVERSAL, -last.amount, last.generation, now)
        if entry is not None:
            ledger.append(entry)
            latest[item] = entry
    return progress, ledger


def progressing(
    rng: random.Random, items: list[Item], *, done: int, start: datetime, end: datetime
) -> list[Event]:
    """A learner working through `items` in order between `start` and `end`: `done` of them
    finished (some opened first, some optional ones skipped, a few undone and redone or
    reopened), then the next one in progress."""
    events: list[Event] = []
    done = min(done, len(items))
    step = (end - start) / (done + 2)
    hour = timedelta(hours=1)
    for index, item in enumerate(items[:done]):
        at = start + step * (index + 1)
        if item.optional and rng.random() < 0.3:
            events.append(Event(item, SKIPPED, at))
            continue
        if rng.random() < 0.3:
            events.append(Event(item, IN_PROGRESS, at - hour))
        events.append(Event(item, DONE, at))
        chance = rng.random()
        if chance < 0.03:  # undone by mistake, then done again: a second award generation
            events.append(Event(item, NOT_STARTED, at + hour / 4))
            events.append(Event(item, DONE, at + hour / 2))
        elif chance < 0.04:  # reopened, and still open
            events.append(Event(item, IN_PROGRESS, at + hour / 4))
    if done < len(items):
        events.append(Event(items[done], IN_PROGRESS, end))
    return events


def finished_in_order(
    items: list[Item], *, done: int, start: datetime, end: datetime
) -> list[Event]:
    """Exactly `done` items done, one after the other: for learners whose count must be exact."""
    step = (end - start) / (done + 1)
    return [
        Event(item, DONE, start + step * (index + 1)) for index, item in enumerate(items[:done])
    ]
