"""The learners of a run and their rows, written with PostgreSQL's COPY.

Who they are (all histories deterministic, seeded by the learner's number):
- the cohort: `scale.cohort_members` learners on the big track, between 10% and 90% of it done
  (about half on average) over 26 weeks;
- further learners on the other tracks with a little progress, so that `scale.nudge_learners`
  learners in all (the cohort included) are due for a nudge in the same hour, across time zones;
- `heavy`: half of every track done (5,000 completions at full scale), the mark-done learner;
- `light`: 10 done on the big track, to show mark-done costs the same queries;
- 16 learners with about half of the 25-resource track done, the HTTP load's clients.

Rows are what the services would have written for those histories (`history.replay`):
users with their allauth email address, profiles with `points_total` equal to the ledger's sum,
enrolments, progress and the points ledger. `bench.consistency` checks it.
"""

from __future__ import annotations

import random
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection

from curriculum.models import Capstone, Module, Resource, Track
from tracker.models import Enrolment, PointsEntry, Profile, Progress

from .curriculum import HTTP_TRACK, track_slug
from .history import Event, Item, finished_in_order, progressing, replay
from .scales import Scale

HTTP_CLIENTS = 16
LIGHT_COMPLETIONS = 10
HISTORY_WEEKS = 26
# Whole-hour offsets, with and without daylight saving time, both hemispheres.
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Tokyo",
    "America/Sao_Paulo",
    "Europe/London",
    "Australia/Sydney",
    "America/Los_Angeles",
]


@dataclass
class LearnerSpec:
    username: str
    display_name: str
    nudge_zone: str | None  # None: nudges off
    events: list[Event]
    tracks: list[int]  # enrolled track ids
    enrolled_at: datetime
    id: int | None = None


@dataclass
class Dataset:
    now: datetime
    nudge_due_at: datetime  # the UTC hour every nudge learner is due in
    big_track: Track
    http_track: Track
    items: dict[int, list[Item]]  # track id -> its resources in page order
    heavy_id: int
    light_id: int
    member_id: int  # a typical cohort member (about half done): the track page's learner
    cohort_ids: list[int]
    nudge_ids: list[int]
    http_ids: list[int]
    counts: dict[str, int] = field(default_factory=dict)


def track_items() -> dict[int, list[Item]]:
    items: dict[int, list[Item]] = {}
    rows = (
        Resource.objects.active()
        .order_by("track_id", "module__position", "position")
        .values_list("id", "track_id", "points", "optional")
    )
    for pk, track_id, points, optional in rows:
        items.setdefault(track_id, []).append(Item(pk, track_id, points, optional))
    return items


def cohort_history(index: int, items: list[Item], now: datetime) -> list[Event]:
    rng = random.Random(f"cohort-{index}")
    start = now - timedelta(weeks=HISTORY_WEEKS) + timedelta(days=rng.uniform(0, 14))
    end = now - timedelta(hours=rng.uniform(1, 72))
    done = round(rng.triangular(0.1, 0.9, 0.5) * len(items))
    return progressing(rng, items, done=done, start=start, end=end)


def _specs(scale: Scale, items: dict[int, list[Item]], big: Track, http: Track, now: datetime):
    start = now - timedelta(weeks=HISTORY_WEEKS)
    others = [track_id for track_id in items if track_id not in (big.pk, http.pk)] or [big.pk]
    specs: dict[str, list[LearnerSpec]] = {"cohort": [], "nudge": [], "http": []}
    for n in range(scale.cohort_members):
        specs["cohort"].append(
            LearnerSpec(
                f"bench-member-{n:05d}",
                f"Member {n}",
                ZONES[n % len(ZONES)],
                cohort_history(n, items[big.pk], now),
                [big.pk],
                start - timedelta(days=1),
            )
        )
    for n in range(scale.nudge_learners - scale.cohort_members):
        rng = random.Random(f"nudge-{n}")
        track_id = others[n % len(others)]
        events = progressing(
            rng, items[track_id], done=rng.randint(0, 20), start=start, end=now - timedelta(days=2)
        )
        specs["nudge"].append(
            LearnerSpec(
                f"bench-learner-{n:05d}",
                f"Learner {n}",
                ZONES[n % len(ZONES)],
                events,
                [track_id],
                start - timedelta(days=1),
            )
        )
    heavy_events = []
    for track_id, track_items_ in items.items():
        if track_id != http.pk:
            half = len(track_items_) // 2
            heavy_events += finished_in_order(track_items_, done=half, start=start, end=now)
    specs["heavy"] = [
        LearnerSpec(
            "bench-heavy",
            "Heavy Learner",
            None,
            heavy_events,
            [t for t in items if t != http.pk],
            start - timedelta(days=1),
        )
    ]
    specs["light"] = [
        LearnerSpec(
            "bench-light",
            "Light Learner",
            None,
            finished_in_order(items[big.pk], done=LIGHT_COMPLETIONS, start=start, end=now),
            [big.pk],
            start - timedelta(days=1),
        )
    ]
    for n in range(HTTP_CLIENTS):
        rng = random.Random(f"http-{n}")
        events = progressing(rng, items[http.pk], done=12, start=start, end=now - timedelta(days=1))
        specs["http"].append(
            LearnerSpec(f"bench-http-{n:02d}", f"Web Client {n}", None, events, [http.pk], start)
        )
    return specs


def copy_rows(model, columns: list[str], rows: Iterable[tuple]) -> int:
    """COPY `rows` (values for `columns`) into `model`'s table; every other column gets the
    field's default, so a field added later with a default needs no change here."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    rest = [f for f in fields if f.attname not in columns]
    # Each default as the field would save it (a JSONField's dict as JSON, say).
    fixed = tuple(
        None if callable(f.default) else f.get_db_prep_save(f.get_default(), connection)
        for f in rest
    )
    per_row = [i for i, f in enumerate(rest) if callable(f.default)]
    names = ", ".join(f'"{name}"' for name in [*columns, *(f.column for f in rest)])
    count = 0
    table = model._meta.db_table
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy,
    ):
        for row in rows:
            extra = fixed
            if per_row:
                extra = list(fixed)
                for i in per_row:
                    extra[i] = rest[i].get_db_prep_save(rest[i].get_default(), connection)
            copy.write_row((*row, *extra))
            count += 1
    return count


def _write(specs: list[LearnerSpec], due_at: datetime, counts: dict[str, int]) -> None:
    User = get_user_model()
    counts["users"] = copy_rows(
        User,
        ["username", "email", "password", "first_name", "is_active", "date_joined"],
        (
            (s.username, f"{s.username}@example.com", "!bench", s.display_name, True, s.enrolled_at)
            for s in specs
        ),
    )
    ids = dict(
        User.objects.filter(username__in=[s.username for s in specs]).values_list("username", "id")
    )
    for spec in specs:
        spec.id = ids[spec.username]
    copy_rows(
        EmailAddress,
        ["user_id", "email", "verified", "primary"],
        ((s.id, f"{s.username}@example.com", True, True) for s in specs),
    )
    copy_rows(
        Enrolment,
        ["learner_id", "track_id", "enrolled_at"],
        ((s.id, track_id, s.enrolled_at) for s in specs for track_id in s.tracks),
    )
    progress_rows, ledger_rows, profiles = [], [], []
    for spec in specs:
        states, ledger = replay(spec.events)
        for item, st in states.items():
            progress_rows.append(
                (
                    spec.id,
                    item.id,
                    item.track_id,
                    st.status,
                    st.started_at,
                    st.completed_at,
                    st.updated_at,
                )
            )
        for e in ledger:
            ledger_rows.append(
                (
                    spec.id,
                    e.kind,
                    e.amount,
                    e.item.id,
                    f"resource:{e.item.id}",
                    e.generation,
                    e.created_at,
                )
            )
        zone = spec.nudge_zone
        local = due_at.astimezone(zoneinfo.ZoneInfo(zone or "UTC"))
        profiles.append(
            (
                spec.id,
                spec.display_name,
                zone or "UTC",
                zone is not None,
                local.weekday(),
                local.hour,
                sum(e.amount for e in ledger),
            )
        )
    counts["profiles"] = copy_rows(
        Profile,
        [
            "user_id",
            "display_name",
            "time_zone",
            "nudge_enabled",
            "nudge_weekday",
            "nudge_hour",
            "points_total",
        ],
        profiles,
    )
    counts["progress"] = copy_rows(
        Progress,
        [
            "learner_id",
            "resource_id",
            "track_id",
            "status",
            "started_at",
            "completed_at",
            "updated_at",
        ],
        progress_rows,
    )
    counts["ledger"] = copy_rows(
        PointsEntry,
        ["learner_id", "kind", "amount", "resource_id", "source_key", "generation", "created_at"],
        ledger_rows,
    )


def build(scale: Scale, *, now: datetime) -> Dataset:
    """Every learner of the run, written in bulk. The curriculum must be loaded already."""
    items = track_items()
    big = Track.objects.get(slug=track_slug(0))
    http = Track.objects.get(slug=HTTP_TRACK)
    due_at = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    specs = _specs(scale, items, big, http, now)
    counts: dict[str, int] = {}
    _write([s for group in specs.values() for s in group], due_at, counts)
    with connection.cursor() as cursor:  # what autovacuum would do before anyone measured
        tables = (Track, Module, Resource, Capstone, get_user_model(), EmailAddress, Profile)
        for model in (*tables, Enrolment, Progress, PointsEntry):
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')
    cohort_ids = [s.id for s in specs["cohort"]]
    typical = min(
        specs["cohort"], key=lambda s: abs(len({e.item for e in s.events}) - len(items[big.pk]) / 2)
    )
    return Dataset(
        now=now,
        nudge_due_at=due_at,
        big_track=big,
        http_track=http,
        items=items,
        heavy_id=specs["heavy"][0].id,
        light_id=specs["light"][0].id,
        member_id=typical.id,
        cohort_ids=cohort_ids,
        nudge_ids=cohort_ids + [s.id for s in specs["nudge"]],
        http_ids=[s.id for s in specs["http"]],
        counts=counts,
    )
