"""Proof that the bulk-written learners are what the services would have written.

Two checks, both must pass before anything is measured:
- invariants over every row (SQL): points totals equal the ledger, a done row has a standing
  award of its resource's points and no other row has one, reversals undo their award, progress
  only where the learner is enrolled, timestamps that fit the status;
- twins: a few cohort histories (with skips, undos and reopened items) are replayed through
  `tracker.services` for new users, and their rows must equal the generated ones.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection

from curriculum.models import Resource
from tracker import services
from tracker.models import Certificate, PointsEntry, Profile, Progress

from .history import DONE, NOT_STARTED, SKIPPED, Event
from .learners import Dataset, cohort_history

INVARIANTS = {
    "points_total equals the ledger's sum": """
        SELECT count(*) FROM tracker_profile p
        LEFT JOIN (SELECT learner_id, sum(amount) AS total FROM tracker_pointsentry
                   GROUP BY learner_id) l ON l.learner_id = p.user_id
        WHERE p.points_total <> coalesce(l.total, 0)""",
    "a done row has a standing award of its points, no other row has one": """
        WITH latest AS (
            SELECT DISTINCT ON (learner_id, resource_id) learner_id, resource_id, kind, amount
            FROM tracker_pointsentry WHERE resource_id IS NOT NULL
            ORDER BY learner_id, resource_id, generation DESC, kind DESC)
        SELECT count(*) FROM tracker_progress pr
        JOIN curriculum_resource r ON r.id = pr.resource_id
        LEFT JOIN latest l ON l.learner_id = pr.learner_id AND l.resource_id = pr.resource_id
        WHERE (pr.status = 'done') <> coalesce(l.kind = 'award', false)
           OR (pr.status = 'done' AND l.amount <> r.points)""",
    "no ledger entry without its progress row": """
        SELECT count(*) FROM tracker_pointsentry e
        LEFT JOIN tracker_progress p
          ON p.learner_id = e.learner_id AND p.resource_id = e.resource_id
        WHERE e.resource_id IS NOT NULL AND p.id IS NULL""",
    "each reversal undoes its generation's award": """
        SELECT count(*) FROM tracker_pointsentry r
        LEFT JOIN tracker_pointsentry a
          ON a.learner_id = r.learner_id AND a.source_key = r.source_key
         AND a.generation = r.generation AND a.kind = 'award'
        WHERE r.kind = 'reversal' AND (a.id IS NULL OR a.amount <> -r.amount)""",
    "award generations run 1..n without gaps": """
        SELECT count(*) FROM (
            SELECT max(generation) AS top, count(*) FILTER (WHERE kind = 'award') AS awards
            FROM tracker_pointsentry GROUP BY learner_id, source_key) x
        WHERE top <> awards""",
    "progress only on tracks the learner is enrolled in": """
        SELECT count(*) FROM (SELECT DISTINCT learner_id, track_id FROM tracker_progress) p
        LEFT JOIN tracker_enrolment e
          ON e.learner_id = p.learner_id AND e.track_id = p.track_id AND e.left_at IS NULL
        WHERE e.id IS NULL""",
    "progress.track is its resource's track": """
        SELECT count(*) FROM tracker_progress p
        JOIN curriculum_resource r ON r.id = p.resource_id WHERE p.track_id <> r.track_id""",
    "timestamps fit the status": """
        SELECT count(*) FROM tracker_progress
        WHERE (status = 'done') <> (completed_at IS NOT NULL)
           OR (status IN ('done', 'in_progress') AND started_at IS NULL)
           OR started_at > completed_at
           OR updated_at < greatest(started_at, completed_at)""",
    "every user has a profile": """
        SELECT count(*) FROM auth_user u
        LEFT JOIN tracker_profile p ON p.user_id = u.id WHERE p.id IS NULL""",
}


def check_invariants() -> dict[str, int]:
    """{invariant: rows breaking it}, only the broken ones."""
    broken = {}
    with connection.cursor() as cursor:
        for name, sql in INVARIANTS.items():
            cursor.execute(sql)
            (count,) = cursor.fetchone()
            if count:
                broken[name] = count
    return broken


def _rows_of(user_id: int) -> tuple[dict, list, int, int]:
    progress = {
        row[0]: row[1:]
        for row in Progress.objects.filter(learner_id=user_id).values_list(
            "resource_id", "track_id", "status", "started_at", "completed_at", "updated_at"
        )
    }
    ledger = sorted(
        PointsEntry.objects.filter(learner_id=user_id).values_list(
            "resource_id", "capstone_id", "source_key", "kind", "amount", "generation", "created_at"
        ),
        key=lambda row: (row[2], row[5], row[3]),
    )
    total = Profile.objects.get(user_id=user_id).points_total
    certificates = Certificate.objects.filter(learner_id=user_id).count()
    return progress, ledger, total, certificates


def _twin_indexes(dataset: Dataset, wanted: int) -> list[int]:
    """Cohort members whose histories use every kind of step, then others."""
    items = dataset.items[dataset.big_track.pk]
    chosen: list[int] = []
    needs = [
        lambda ev: any(e.status == SKIPPED for e in ev),
        lambda ev: any(e.status == NOT_STARTED for e in ev),  # undone, then done again
        lambda ev: (
            sum(e.status == DONE for e in ev) > len({e.item for e in ev if e.status == DONE})
        ),
    ]
    for index in range(min(len(dataset.cohort_ids), 400)):
        if len(chosen) >= wanted:
            break
        events = cohort_history(index, items, dataset.now)
        if any(need(events) for need in needs) or index % 97 == 0:
            chosen.append(index)
    return chosen


def replay_twin(events: list[Event], *, username: str, track, resources: dict[int, Resource]):
    """A new user who clicks through `events` via the real services. Returns the user."""
    User = get_user_model()
    twin = User.objects.create_user(username=username, email=f"{username}@example.com")
    services.enrolment_join(learner=twin, track=track, now=events[0].at)
    for event in events:
        services.progress_set_status(
            learner=twin, resource=resources[event.item.id], status=event.status, now=event.at
        )
    return twin


def check_twins(dataset: Dataset, wanted: int) -> list[str]:
    """Differences between generated learners and their twins replayed through the services."""
    track = dataset.big_track
    resources = {r.pk: r for r in Resource.objects.filter(track=track)}
    problems = []
    twins = []
    try:
        for index in _twin_indexes(dataset, wanted):
            events = cohort_history(index, dataset.items[track.pk], dataset.now)
            twin = replay_twin(
                events, username=f"bench-twin-{index}", track=track, resources=resources
            )
            twins.append(twin.pk)
            generated, replayed = _rows_of(dataset.cohort_ids[index]), _rows_of(twin.pk)
            for what, left, right in zip(
                ("progress rows", "ledger", "points_total", "certificates"),
                generated,
                replayed,
                strict=True,
            ):
                if left != right:
                    problems.append(f"member {index}: {what} differ from the services' replay")
    finally:
        get_user_model().objects.filter(pk__in=twins).delete()
    return problems


def check(dataset: Dataset, *, twins: int) -> None:
    broken = check_invariants()
    problems = [f"{name}: {count} rows break it" for name, count in broken.items()]
    problems += check_twins(dataset, twins)
    if problems:
        raise SystemExit(
            "Generated data is not what the services write:\n  " + "\n  ".join(problems)
        )
