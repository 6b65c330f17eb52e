"""Per-enrolment totals: `Enrolment.done_units`, `required_units`, `modules_done`, `module_units`
(units done per module), `points` and `last_activity_at`, the figures cohort dashboards read
instead of aggregating progress rows.

The truth stays in the progress rows, the passed submissions and the points ledger; these are
copies kept in step in the transaction of every change:

- a status change (`progress_set_status`, and the resources of kind track that follow it)
  writes its enrolment's figures with one UPDATE (`enrolment_totals_after_change`), on
  PostgreSQL inside the statement that writes its ledger entry when it has one
  (`EnrolmentTotalsChange`);
- a capstone decision does the same, and a draft or submission only moves the last activity;
- enrolling (or coming back) works the figures out from scratch (`enrolment_totals_refresh`);
- a curriculum change that moves a track's structure version recomputes the units of every
  enrolment in it, set-based (`enrolment_units_recompute`);
- `manage.py repair_totals` recomputes everything and reports or fixes drift
  (`totals_repair`), `Profile.points_total` against the ledger included.

Definitions (the repair is their reference): units and modules by the completion rule
(`tracker.completion`) over the track's cached structure; points are the ledger's sum over the
track's resources and capstones (archived ones too: points earned stay earned); the last
activity is the latest `updated_at` of the learner's progress rows and capstone submissions
in the track.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count, DateTimeField, F, Max, Sum, Value
from django.db.models.functions import Coalesce, Greatest

from curriculum.structure import TrackStructure, build_structure, track_structure

from ..completion import TrackProgress
from ..models import (
    CapstoneSubmission,
    Enrolment,
    PointsEntry,
    Profile,
    Progress,
    ProgressStatus,
    SubmissionStatus,
)
from ..sql import update_from_values
from .weekly import weekly_completions_drift, weekly_completions_rebuild

__all__ = [
    "EnrolmentDrift",
    "EnrolmentTotalsChange",
    "ProfileDrift",
    "TotalsReport",
    "enrolment_activity_touch",
    "enrolment_totals_after_change",
    "enrolment_totals_refresh",
    "enrolment_totals_settle",
    "enrolment_units_recompute",
    "totals_repair",
]

UNIT_FIELDS = ("done_units", "required_units", "modules_done", "module_units")
TOTAL_FIELDS = (*UNIT_FIELDS, "points", "last_activity_at")
_BATCH = 500


def _later_of_stored_and(now: datetime):
    """`last_activity_at` moved to `now` unless it is later already (one expression)."""
    moment = Value(now, output_field=DateTimeField())
    return Greatest(Coalesce(F("last_activity_at"), moment), moment)


def _units_of(completion: TrackProgress) -> dict:
    return {
        "done_units": completion.done_units,
        "required_units": completion.total_units,
        "modules_done": sum(1 for module in completion.modules.values() if module.complete),
        "module_units": _module_units(
            (module.module_id, module.done_units) for module in completion.modules.values()
        ),
    }


def _module_units(pairs: Iterable[tuple[int, int]]) -> dict[str, int]:
    """`Enrolment.module_units`: units done per module, the modules with none left out (JSON
    keys are strings)."""
    return {str(module_id): units for module_id, units in pairs if units}


# --- in step with each change -------------------------------------------------------------


def enrolment_totals_after_change(
    *,
    learner_id: int,
    track_id: int,
    completion: TrackProgress,
    points_delta: int,
    now: datetime,
    structure: TrackStructure | None = None,
) -> None:
    """After a change in the track (the learner's writes are serialized by their profile
    lock): the units (in all and per module) worked out by the caller, the points moved by
    the ledger's change, the activity moved on. One UPDATE. It only matches while the stored
    `required_units` is the one the caller counted against: when a curriculum change committed
    in between (or the row was never counted), the figures are worked out again from the
    database instead."""
    units = _units_of(completion)
    matched = Enrolment.objects.filter(
        learner_id=learner_id, track_id=track_id, required_units=units["required_units"]
    ).update(
        done_units=units["done_units"],
        modules_done=units["modules_done"],
        module_units=units["module_units"],
        points=F("points") + points_delta,
        last_activity_at=_later_of_stored_and(now),
    )
    if not matched:  # rare: not enrolled (a resource of kind track), or stale required units
        enrolment_totals_refresh(learner_id=learner_id, track_id=track_id)


@dataclass
class EnrolmentTotalsChange:
    """A status change's figures for its enrolment, worked out before the write: the progress
    service writes them in its ledger statement where it can (PostgreSQL) and says whether
    the row matched; `enrolment_totals_settle` does what is left."""

    learner_id: int
    track_id: int
    completion: TrackProgress
    now: datetime
    # None until the ledger's statement carried the figures; then whether the row matched.
    matched: bool | None = None

    @property
    def units(self) -> dict[str, int]:
        return _units_of(self.completion)


def enrolment_totals_settle(change: EnrolmentTotalsChange, *, points_delta: int) -> None:
    """After the change's writes: store its figures unless its ledger statement did; when that
    statement's row did not match (stale required units, or no enrolment), work them out
    again from the database."""
    if change.matched is None:
        enrolment_totals_after_change(
            learner_id=change.learner_id,
            track_id=change.track_id,
            completion=change.completion,
            points_delta=points_delta,
            now=change.now,
        )
    elif not change.matched:
        enrolment_totals_refresh(learner_id=change.learner_id, track_id=change.track_id)


def enrolment_activity_touch(*, learner_id: int, track_id: int, now: datetime) -> None:
    """A change that moves no unit or point (a capstone draft, a submission, changes
    requested): only the last activity. One UPDATE."""
    Enrolment.objects.filter(learner_id=learner_id, track_id=track_id).update(
        last_activity_at=_later_of_stored_and(now)
    )


def enrolment_totals_refresh(*, learner_id: int, track_id: int) -> Enrolment | None:
    """Work the learner's figures in the track out from scratch and store them (enrolling,
    coming back, or after a curriculum change raced a write). None when not enrolled."""
    enrolment = (
        Enrolment.objects.select_for_update()
        .filter(learner_id=learner_id, track_id=track_id)
        .first()
    )
    if enrolment is None:
        return None
    structure = track_structure(track_id)
    if structure is None:
        return enrolment
    figures = _track_figures(structure, learner_ids=[learner_id], units_only=False)
    values = figures.get(learner_id, _empty(structure))
    changed = [name for name in TOTAL_FIELDS if getattr(enrolment, name) != values[name]]
    if changed:
        for name in changed:
            setattr(enrolment, name, values[name])
        enrolment.save(update_fields=changed)
    return enrolment


# --- set-based: a track's enrolments at once ------------------------------------------------


@dataclass(frozen=True)
class _ModuleRule:
    id: int
    plain: int  # required resources outside choice groups
    groups: dict[str, int]  # choice group -> units it asks for
    capstones: frozenset[int]  # required capstones

    @property
    def total(self) -> int:
        return self.plain + sum(self.groups.values()) + len(self.capstones)


def _module_rules(structure: TrackStructure) -> list[_ModuleRule]:
    """The completion rule's arithmetic per module (see `tracker.completion.module_progress`),
    in a form counts of done resources per (module, choice group) can be fed to."""
    rules = []
    for module in structure.modules:
        plain = 0
        sizes: dict[str, int] = defaultdict(int)
        for resource in module.resources:
            if resource.optional:
                continue
            if resource.choice:
                sizes[resource.choice] += 1
            else:
                plain += 1
        asks = module.choices_required or {}
        groups = {name: min(asks.get(name, 1), size) for name, size in sizes.items()}
        capstones = frozenset(c.id for c in module.capstones if not c.optional)
        rules.append(_ModuleRule(module.id, plain, groups, capstones))
    return rules


def _empty(structure: TrackStructure) -> dict:
    rules = _module_rules(structure)
    return {
        "done_units": 0,
        "required_units": sum(rule.total for rule in rules),
        "modules_done": sum(1 for rule in rules if rule.total == 0),
        "module_units": {},
        "points": 0,
        "last_activity_at": None,
    }


def _track_figures(
    structure: TrackStructure, *, learner_ids: Iterable[int] | None, units_only: bool
) -> dict[int, dict]:
    """{learner id: figures} for the learners with anything in the track (all, or these),
    aggregated in the database: done counts per (learner, module, choice group), passed
    capstones, and unless `units_only` the ledger's sums and the latest activity. Learners
    with nothing there are left out (their figures are `_empty`)."""
    rules = _module_rules(structure)
    required_resources = [
        r.id for module in structure.modules for r in module.resources if not r.optional
    ]
    required_capstones = [cid for rule in rules for cid in rule.capstones]
    ids = None if learner_ids is None else list(learner_ids)

    def mine(queryset):
        return queryset if ids is None else queryset.filter(learner_id__in=ids)

    counts: dict[int, dict[tuple[int, str], int]] = defaultdict(dict)
    done = mine(
        Progress.objects.filter(
            track_id=structure.id, status=ProgressStatus.DONE, resource_id__in=required_resources
        )
    )
    for learner_id, module_id, choice, number in (
        done.order_by()
        .values("learner_id", "resource__module_id", "resource__choice")
        .annotate(number=Count("id"))
        .values_list("learner_id", "resource__module_id", "resource__choice", "number")
    ):
        counts[learner_id][(module_id, choice)] = number
    passed: dict[int, set[int]] = defaultdict(set)
    if required_capstones:
        for learner_id, capstone_id in mine(
            CapstoneSubmission.objects.filter(
                track_id=structure.id,
                status=SubmissionStatus.PASSED,
                capstone_id__in=required_capstones,
            )
        ).values_list("learner_id", "capstone_id"):
            passed[learner_id].add(capstone_id)

    learners = set(counts) | set(passed)
    points: dict[int, int] = defaultdict(int)
    activity: dict[int, datetime] = {}
    if not units_only:
        for source in ("resource__track_id", "capstone__track_id"):
            rows = mine(PointsEntry.objects.filter(**{source: structure.id}))
            for learner_id, amount in (
                rows.order_by()
                .values("learner_id")
                .annotate(amount=Sum("amount"))
                .values_list("learner_id", "amount")
            ):
                points[learner_id] += amount or 0
        for model in (Progress, CapstoneSubmission):
            rows = mine(model.objects.filter(track_id=structure.id))
            for learner_id, latest in (
                rows.order_by()
                .values("learner_id")
                .annotate(latest=Max("updated_at"))
                .values_list("learner_id", "latest")
            ):
                if latest is not None and (
                    learner_id not in activity or latest > activity[learner_id]
                ):
                    activity[learner_id] = latest
        learners |= set(points) | set(activity)

    figures = {}
    for learner_id in learners:
        mine_counts = counts.get(learner_id, {})
        mine_passed = passed.get(learner_id, set())
        done_units = modules_done = 0
        per_module = []
        for rule in rules:
            units = mine_counts.get((rule.id, ""), 0)
            units += sum(
                min(mine_counts.get((rule.id, name), 0), wanted)
                for name, wanted in rule.groups.items()
            )
            units += len(rule.capstones & mine_passed)
            done_units += units
            modules_done += units >= rule.total
            per_module.append((rule.id, units))
        figures[learner_id] = {
            "done_units": done_units,
            "required_units": sum(rule.total for rule in rules),
            "modules_done": modules_done,
            "module_units": _module_units(per_module),
            "points": points.get(learner_id, 0),
            "last_activity_at": activity.get(learner_id),
        }
    return figures


def enrolment_units_recompute(*, track_ids: Iterable[int]) -> int:
    """After a curriculum change to these tracks (inside its transaction): the units and
    modules of every enrolment in them, from one read of done progress and one of passed
    capstones per track, written only where they differ (bulk). Returns the rows changed."""
    changed = 0
    for track_id in sorted(set(track_ids)):
        enrolments = list(
            Enrolment.objects.filter(track_id=track_id).only("pk", "learner_id", *UNIT_FIELDS)
        )
        if not enrolments:
            continue
        # Built, not cached: this transaction's version may still roll back.
        structure = build_structure(track_id)
        if structure is None:
            continue
        figures = _track_figures(structure, learner_ids=None, units_only=True)
        changed += _store(enrolments, figures, _empty(structure), UNIT_FIELDS)
    return changed


def _store(enrolments: list[Enrolment], figures: dict, empty: dict, names) -> int:
    stale = []
    for enrolment in enrolments:
        values = figures.get(enrolment.learner_id, empty)
        if any(getattr(enrolment, name) != values[name] for name in names):
            for name in names:
                setattr(enrolment, name, values[name])
            stale.append(enrolment)
    update_from_values(
        Enrolment,
        list(names),
        [(row.pk, *(getattr(row, name) for name in names)) for row in stale],
        batch=_BATCH,
    )
    return len(stale)


# --- repair -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnrolmentDrift:
    learner_id: int
    email: str
    track_slug: str
    # field -> (stored, recomputed)
    fields: dict[str, tuple]

    def describe(self) -> str:
        changes = ", ".join(
            _module_changes(stored, right)
            if name == "module_units"
            else f"{name} {_shown(stored)} → {_shown(right)}"
            for name, (stored, right) in self.fields.items()
        )
        return f"{self.email or f'learner {self.learner_id}'} in {self.track_slug}: {changes}"


@dataclass(frozen=True)
class ProfileDrift:
    learner_id: int
    email: str
    stored: int
    ledger: int

    def describe(self) -> str:
        who = self.email or f"learner {self.learner_id}"
        return f"{who}: points total {self.stored} → {self.ledger} (the ledger's sum)"


@dataclass
class TotalsReport:
    enrolments: int = 0
    profiles: int = 0
    enrolment_drift: list[EnrolmentDrift] = field(default_factory=list)
    profile_drift: list[ProfileDrift] = field(default_factory=list)
    weekly_drift: int = 0  # (learner, track, week) completion counts that differ from progress
    fixed: bool = False

    @property
    def drift(self) -> int:
        return len(self.enrolment_drift) + len(self.profile_drift) + self.weekly_drift

    def lines(self) -> list[str]:
        lines = [d.describe() for d in (*self.enrolment_drift, *self.profile_drift)]
        if self.weekly_drift:
            done = "rebuilt from progress" if self.fixed else "differ from progress"
            lines.append(f"weekly completion counts: {self.weekly_drift} {done}")
        return lines

    def summary_line(self) -> str:
        verdict = "ok" if not self.drift else ("FIXED" if self.fixed else "DRIFT")
        return (
            f"{verdict}: {self.enrolments} enrolments, {self.profiles} profiles, {self.drift} drift"
        )


def _module_changes(stored: dict, right: dict) -> str:
    """Only the modules whose units differ: "module 12 units 0 → 1"."""
    keys = sorted(set(stored) | set(right), key=int)
    return ", ".join(
        f"module {key} units {stored.get(key, 0)} → {right.get(key, 0)}"
        for key in keys
        if stored.get(key, 0) != right.get(key, 0)
    )


def _shown(value) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return "none" if value is None else str(value)


def totals_repair(*, fix: bool) -> TotalsReport:
    """Recompute every enrolment's figures and every profile's points total from progress,
    submissions and the ledger; report each difference and, with `fix`, store the right
    figures. A few aggregate queries per track, whatever the number of learners. With `fix`
    each track's enrolments are locked while they are recomputed, so a status change racing
    the repair waits and then applies its own (absolute) units and (relative) points on top."""
    report = TotalsReport(fixed=fix)
    track_ids = sorted(set(Enrolment.objects.values_list("track_id", flat=True)))
    for track_id in track_ids:
        with transaction.atomic():
            enrolments = Enrolment.objects.filter(track_id=track_id).select_related("track")
            if fix:
                enrolments = enrolments.select_for_update(of=("self",))
            enrolments = list(enrolments.only("pk", "learner_id", "track__slug", *TOTAL_FIELDS))
            structure = track_structure(track_id)
            if structure is None:
                continue
            figures = _track_figures(structure, learner_ids=None, units_only=False)
            empty = _empty(structure)
            report.enrolments += len(enrolments)
            for enrolment in enrolments:
                values = figures.get(enrolment.learner_id, empty)
                differing = {
                    name: (getattr(enrolment, name), values[name])
                    for name in TOTAL_FIELDS
                    if getattr(enrolment, name) != values[name]
                }
                if differing:
                    report.enrolment_drift.append(
                        EnrolmentDrift(enrolment.learner_id, "", enrolment.track.slug, differing)
                    )
            if fix:
                _store(enrolments, figures, empty, TOTAL_FIELDS)
    report.profile_drift = _profile_drift(fix=fix)
    report.profiles = Profile.objects.count()
    # The cohort charts' weekly counts (`WeeklyCompletions`), kept by the same services.
    report.weekly_drift = weekly_completions_drift()
    if fix and report.weekly_drift:
        weekly_completions_rebuild()
    _name_learners(report)
    return report


def _profile_drift(*, fix: bool) -> list[ProfileDrift]:
    """Profiles whose running total is not their ledger's sum (fixed under the profile lock,
    the one every points write takes)."""
    ledger = dict(
        PointsEntry.objects.order_by()
        .values("learner_id")
        .annotate(total=Sum("amount"))
        .values_list("learner_id", "total")
    )
    drift = []
    stored = Profile.objects.values_list("user_id", "points_total")
    for learner_id, total in stored.iterator():
        right = ledger.get(learner_id) or 0
        if total != right:
            drift.append(ProfileDrift(learner_id, "", total, right))
    if fix:
        for item in drift:
            with transaction.atomic():
                Profile.objects.select_for_update().filter(user_id=item.learner_id).first()
                right = (
                    PointsEntry.objects.filter(learner_id=item.learner_id).aggregate(
                        total=Sum("amount")
                    )["total"]
                    or 0
                )
                Profile.objects.filter(user_id=item.learner_id).update(points_total=right)
    return drift


def _name_learners(report: TotalsReport) -> None:
    from django.contrib.auth import get_user_model

    ids = {d.learner_id for d in (*report.enrolment_drift, *report.profile_drift)}
    if not ids:
        return
    emails = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "email"))
    report.enrolment_drift = [
        EnrolmentDrift(d.learner_id, emails.get(d.learner_id, ""), d.track_slug, d.fields)
        for d in report.enrolment_drift
    ]
    report.profile_drift = [
        ProfileDrift(d.learner_id, emails.get(d.learner_id, ""), d.stored, d.ledger)
        for d in report.profile_drift
    ]
