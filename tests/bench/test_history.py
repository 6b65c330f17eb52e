"""The benchmark writes learners in bulk from histories: what it writes must be exactly what the
services write for the same clicks (bench.history.replay against tracker.services)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bench.consistency import replay_twin
from bench.history import DONE, NOT_STARTED, SKIPPED, Item, finished_in_order, progressing, replay
from tests.factories import ModuleFactory, ResourceFactory
from tracker.models import PointsEntry, Profile, Progress

NOW = datetime(2025, 3, 3, 12, tzinfo=UTC)


@pytest.fixture
def track_items(db):
    module = ModuleFactory()
    resources = [
        ResourceFactory(module=module, slug=f"r{n}", position=n, minutes=5 + n, optional=n % 5 == 4)
        for n in range(30)
    ]
    items = [Item(r.pk, r.track_id, r.points, r.optional) for r in resources]
    return module.track, {r.pk: r for r in resources}, items


def stored(user) -> tuple[dict, list, int]:
    progress = {
        p.resource_id: (p.status, p.started_at, p.completed_at, p.updated_at)
        for p in Progress.objects.filter(learner=user)
    }
    ledger = sorted(
        (e.resource_id, e.kind, e.amount, e.generation, e.created_at)
        for e in PointsEntry.objects.filter(learner=user)
    )
    return progress, ledger, Profile.objects.get(user=user).points_total


def replayed(events) -> tuple[dict, list, int]:
    states, ledger = replay(events)
    progress = {
        item.id: (s.status, s.started_at, s.completed_at, s.updated_at)
        for item, s in states.items()
    }
    entries = sorted((e.item.id, e.kind, e.amount, e.generation, e.created_at) for e in ledger)
    return progress, entries, sum(e.amount for e in ledger)


@pytest.mark.parametrize("seed", range(8))
def test_replay_writes_what_the_services_write(track_items, seed):
    track, resources, items = track_items
    rng = random.Random(seed)
    events = progressing(
        rng, items, done=rng.randint(5, 29), start=NOW - timedelta(weeks=26), end=NOW
    )
    twin = replay_twin(events, username=f"twin{seed}", track=track, resources=resources)
    assert stored(twin) == replayed(events)


def test_undo_redo_and_skip_are_replayed_like_the_services(track_items):
    """The rare steps, forced: skipped, done, undone (reversal), done again (generation 2),
    reopened while done (reversal, still started)."""
    track, resources, items = track_items
    a, b, c = items[0], items[1], items[4]
    hour = timedelta(hours=1)
    from bench.history import IN_PROGRESS, Event

    events = [
        Event(c, SKIPPED, NOW),
        Event(a, DONE, NOW + hour),
        Event(a, NOT_STARTED, NOW + 2 * hour),
        Event(a, DONE, NOW + 3 * hour),
        Event(a, DONE, NOW + 4 * hour),  # a repeat changes nothing
        Event(b, IN_PROGRESS, NOW + 5 * hour),
        Event(b, DONE, NOW + 6 * hour),
        Event(b, IN_PROGRESS, NOW + 7 * hour),
    ]
    twin = replay_twin(events, username="twin-rare", track=track, resources=resources)
    progress, ledger, total = stored(twin)
    assert (progress, ledger, total) == replayed(events)
    assert [(kind, gen) for rid, kind, _, gen, _ in ledger if rid == a.id] == [
        ("award", 1),
        ("award", 2),
        ("reversal", 1),
    ]
    assert total == a.points  # b's award was reversed, c skipped earns nothing


def test_finished_in_order_finishes_exactly_that_many(track_items):
    _, _, items = track_items
    events = finished_in_order(items, done=10, start=NOW - timedelta(days=10), end=NOW)
    states, ledger = replay(events)
    assert sum(s.status == DONE for s in states.values()) == 10
    assert len(ledger) == 10
