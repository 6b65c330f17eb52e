"""Consistency checks on learner points, for load and fault runs and for operators.

Three figures per learner must agree: the running total on the profile (what pages show),
the sum of the points ledger, and a recomputation from progress: the points of every resource
marked done plus those of every capstone passed. The figures are aggregated in the database,
a handful of queries whatever the number of learners."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Sum

from tracker.models import (
    CapstoneSubmission,
    PointsEntry,
    Profile,
    Progress,
    ProgressStatus,
    SubmissionStatus,
)


@dataclass(frozen=True)
class PointsDrift:
    learner_id: int
    total: int  # Profile.points_total
    ledger: int  # sum of PointsEntry.amount
    recomputed: int  # done resources + passed capstones

    def describe(self) -> str:
        return (
            f"learner {self.learner_id}: total {self.total}, ledger {self.ledger}, "
            f"recomputed from progress {self.recomputed}"
        )


def _sums(queryset, learner_field: str, amount_field: str) -> dict[int, int]:
    rows = queryset.values(learner_field).annotate(points=Sum(amount_field))
    return {row[learner_field]: row["points"] or 0 for row in rows}


def points_drift() -> tuple[int, list[PointsDrift]]:
    """(learners checked, those whose three figures disagree)."""
    figures: dict[int, dict[str, int]] = defaultdict(
        lambda: {"total": 0, "ledger": 0, "recomputed": 0}
    )
    for learner_id, total in Profile.objects.values_list("user_id", "points_total"):
        figures[learner_id]["total"] = total
    for learner_id, points in _sums(PointsEntry.objects, "learner_id", "amount").items():
        figures[learner_id]["ledger"] = points
    done = Progress.objects.filter(status=ProgressStatus.DONE)
    passed = CapstoneSubmission.objects.filter(status=SubmissionStatus.PASSED)
    for source in (
        _sums(done, "learner_id", "resource__points"),
        _sums(passed, "learner_id", "capstone__points"),
    ):
        for learner_id, points in source.items():
            figures[learner_id]["recomputed"] += points
    drift = [
        PointsDrift(learner_id=learner_id, **values)
        for learner_id, values in sorted(figures.items())
        if len(set(values.values())) != 1
    ]
    return len(figures), drift
