"""What every cohort page starts from: the cohort, its tracks, its pace plan and phases, and
where today falls in them (four queries; the tracks' structures come from the per-process
cache, keyed by the version read with the tracks)."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field
from datetime import date

from django.shortcuts import get_object_or_404

from curriculum.structure import TrackStructure, track_structure

from .. import pace
from ..models import Cohort, CohortModuleTarget, CohortPhase, CohortTrack

__all__ = ["CohortContext", "ModuleTarget", "cohort_context"]


@dataclass(frozen=True)
class ModuleTarget:
    module_id: int
    track_id: int
    title: str
    number: int  # 1-based in its track, as the track page numbers modules
    target_week: int
    due_on: date


@dataclass
class CohortContext:
    cohort: Cohort
    tracks: list[TrackStructure]
    targets: list[ModuleTarget]  # active modules with a target, in due order
    phases: list[CohortPhase]
    today: date
    week: int = field(init=False)
    weeks_total: int = field(init=False)
    due: pace.DueCounts = field(init=False)

    def __post_init__(self) -> None:
        starts_on = self.cohort.starts_on
        self.week = pace.cohort_week(starts_on=starts_on, today=self.today)
        self.weeks_total = pace.cohort_week(starts_on=starts_on, today=self.cohort.ends_on)
        self.due = pace.due_counts((t.target_week for t in self.targets), week=self.week)

    @property
    def track_ids(self) -> list[int]:
        return [t.id for t in self.tracks]

    @property
    def current_phase(self) -> CohortPhase | None:
        return next((p for p in self.phases if p.starts_on <= self.today <= p.ends_on), None)

    @property
    def started(self) -> bool:
        return self.week >= 1

    @property
    def finished(self) -> bool:
        return self.today > self.cohort.ends_on

    @property
    def week_label(self) -> str:
        if not self.started:
            return f"Starts {self.cohort.starts_on:%-d %b %Y}"
        if self.finished:
            return f"Ended {self.cohort.ends_on:%-d %b %Y}"
        return f"Week {self.week} of {self.weeks_total}"

    def pace_for(self, modules_done: int) -> pace.Pace:
        return pace.pace_for(modules_done=modules_done, due=self.due)

    def next_target(self, complete: Set[int]) -> ModuleTarget | None:
        """The next target of a member with the modules `complete` (see `complete_modules`)."""
        return pace.next_open_target(self.targets, complete)


def cohort_context(*, slug: str, today: date, cohort: Cohort | None = None) -> CohortContext:
    """The cohort by slug (404 when unknown) and what its pages need about its plan."""
    if cohort is None:
        cohort = get_object_or_404(Cohort, slug=slug)
    links = list(
        CohortTrack.objects.filter(cohort=cohort)
        .select_related("track")
        .only("track__id", "track__structure_version", "position")
        .order_by("position", "id")
    )
    # A track archived under a running cohort stays linked to it (docs/cohorts.md), but no one
    # can work on it any more: its pages are gone, so pace, targets and lists leave it out.
    tracks = [
        s
        for s in (track_structure(link.track.id, link.track.structure_version) for link in links)
        if s is not None and s.archived_at is None
    ]
    modules = {m.id: (s, m) for s in tracks for m in s.modules}
    targets = []
    rows = CohortModuleTarget.objects.filter(cohort=cohort, module_id__in=list(modules))
    for module_id, week in rows.values_list("module_id", "target_week"):
        structure, module = modules[module_id]
        targets.append(
            ModuleTarget(
                module_id=module_id,
                track_id=structure.id,
                title=module.title,
                number=module.number,
                target_week=week,
                due_on=pace.week_ends_on(starts_on=cohort.starts_on, week=week),
            )
        )
    order = {module_id: i for i, module_id in enumerate(modules)}
    targets.sort(key=lambda t: (t.target_week, order[t.module_id]))
    phases = list(CohortPhase.objects.filter(cohort=cohort).order_by("starts_on", "position"))
    return CohortContext(cohort=cohort, tracks=tracks, targets=targets, phases=phases, today=today)
