"""A member's standing in their cohorts, as they see it (the `/me/` card) and as the weekly
nudge tells it: the current phase, the next module target with its due date, and their pace
against the cohort's plan.

Read for many learners at once in a fixed number of queries (the nudge asks for a chunk of a
few hundred). Which modules a learner has completed comes from the caller, which has already
worked it out for its own page or email; pace reads the per-enrolment totals
(`Enrolment.modules_done`), the same figures the cohort dashboard shows its admins.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Prefetch
from django.urls import NoReverseMatch, reverse

from tracker.models import Enrolment

from . import pace
from .models import (
    Cohort,
    CohortMembership,
    CohortModuleTarget,
    CohortPhase,
    CohortRole,
    CohortTrack,
)


@dataclass(frozen=True)
class NextTarget:
    module_title: str
    track_title: str  # set only when the cohort runs more than one track
    week: int
    due_on: date
    # Its due day is behind the member (in their own time zone): "was due", not "by".
    overdue: bool = False

    @property
    def label(self) -> str:
        if self.track_title:
            return f"{self.module_title} ({self.track_title})"
        return self.module_title


@dataclass(frozen=True)
class CohortStanding:
    cohort: Cohort
    url: str  # the member's cohort page (site-relative)
    today: date
    week: int  # the cohort week today falls in (0 or less before the start)
    phase: CohortPhase | None
    next_phase: CohortPhase | None
    next_target: NextTarget | None
    pace: pace.Pace
    # For each of the cohort's tracks with targets: the day its plan has the track done (the
    # due day of its last module target). The pace page offers it as a target date.
    track_done_by: Mapping[int, date] = field(default_factory=dict)

    @property
    def started(self) -> bool:
        return self.today >= self.cohort.starts_on

    @property
    def ended(self) -> bool:
        return self.today > self.cohort.ends_on

    @property
    def phase_label(self) -> str:
        """The phase today falls in, or what comes next, in words."""
        if self.phase is not None:
            return self.phase.name
        if self.ended:
            return f"Ended on {self.cohort.ends_on:%-d %b %Y}"
        if self.next_phase is not None:
            return f"{self.next_phase.name} starts on {self.next_phase.starts_on:%-d %b %Y}"
        if not self.started:
            return f"Starts on {self.cohort.starts_on:%-d %b %Y}"
        return "Between phases"

    @property
    def pace_label(self) -> str:
        """ "Ahead", "On pace", "Behind by 2 modules"; empty without a pace plan."""
        return "" if self.pace.status is pace.PaceStatus.NO_PLAN else self.pace.label


def member_url(cohort: Cohort) -> str:
    """The member-facing cohort page. Until that page exists (issue 13's dashboard work), a
    cohort has no page for members, and the card names it without a link."""
    try:
        return reverse("cohorts:home", args=[cohort.slug])
    except NoReverseMatch:
        return ""


def _ordering_key(standing: CohortStanding) -> tuple:
    # Running cohorts first, then the ones to come, then the ended ones; latest start first.
    state = 2 if standing.ended else (0 if standing.started else 1)
    return (state, -standing.cohort.starts_on.toordinal(), standing.cohort.pk)


def standings_for(
    *,
    today_by_learner: Mapping[int, date],
    complete_modules: Mapping[int, Set[int]],
) -> dict[int, list[CohortStanding]]:
    """Each learner's standing in every cohort they are an active member of (running cohorts
    first), by learner id; learners in no cohort are left out. `today_by_learner` gives each
    learner's date in their own time zone; `complete_modules` the ids of the modules each has
    completed. Five queries however many learners, cohorts, tracks and modules."""
    learner_ids = list(today_by_learner)
    if not learner_ids:
        return {}
    memberships = list(
        CohortMembership.objects.filter(
            user_id__in=learner_ids,
            role=CohortRole.MEMBER,
            removed_at__isnull=True,
            cohort__archived_at__isnull=True,
        )
        .select_related("cohort")
        .prefetch_related(
            Prefetch("cohort__phases", queryset=CohortPhase.objects.order_by("starts_on", "pk")),
            Prefetch(
                "cohort__cohort_tracks",
                queryset=CohortTrack.objects.select_related("track").order_by("position", "pk"),
            ),
        )
    )
    if not memberships:
        return {}
    cohorts = {m.cohort_id: m.cohort for m in memberships}
    track_ids = {link.track_id for c in cohorts.values() for link in c.cohort_tracks.all()}
    targets = _targets_by_cohort(cohorts)
    modules_done: dict[tuple[int, int], int] = {
        (learner_id, track_id): done
        for learner_id, track_id, done in Enrolment.objects.filter(
            learner_id__in=learner_ids, track_id__in=track_ids, left_at__isnull=True
        ).values_list("learner_id", "track_id", "modules_done")
    }

    found: dict[int, list[CohortStanding]] = defaultdict(list)
    for membership in memberships:
        cohort, learner_id = membership.cohort, membership.user_id
        today = today_by_learner[learner_id]
        week = pace.cohort_week(starts_on=cohort.starts_on, today=today)
        cohort_targets = targets.get(cohort.pk, [])
        done = sum(
            modules_done.get((learner_id, link.track_id), 0) for link in cohort.cohort_tracks.all()
        )
        due = pace.due_counts([t.target_week for t in cohort_targets], week=week)
        phases = list(cohort.phases.all())
        found[learner_id].append(
            CohortStanding(
                cohort=cohort,
                url=member_url(cohort),
                today=today,
                week=week,
                phase=next((p for p in phases if p.starts_on <= today <= p.ends_on), None),
                next_phase=next((p for p in phases if p.starts_on > today), None),
                next_target=_next_target(
                    cohort, cohort_targets, complete_modules.get(learner_id, frozenset()), today
                ),
                pace=pace.pace_for(modules_done=done, due=due),
                track_done_by=_track_done_by(cohort, cohort_targets),
            )
        )
    for standings in found.values():
        standings.sort(key=_ordering_key)
    return dict(found)


def _track_done_by(cohort: Cohort, targets: list[CohortModuleTarget]) -> dict[int, date]:
    last: dict[int, int] = {}
    for target in targets:
        track_id = target.module.track_id
        last[track_id] = max(last.get(track_id, 0), target.target_week)
    return {
        track_id: pace.week_ends_on(starts_on=cohort.starts_on, week=week)
        for track_id, week in last.items()
    }


def _targets_by_cohort(cohorts: Mapping[int, Cohort]) -> dict[int, list[CohortModuleTarget]]:
    """The pace plan of each cohort: targets of its tracks' active modules, in the order they
    fall due (then the cohort's track order, then the module's place in its track)."""
    position = {
        (cohort_id, link.track_id): link.position
        for cohort_id, cohort in cohorts.items()
        for link in cohort.cohort_tracks.all()
    }
    rows = (
        CohortModuleTarget.objects.filter(
            cohort_id__in=list(cohorts),
            module__archived_at__isnull=True,
            module__track__archived_at__isnull=True,
        )
        .select_related("module")
        .only(
            "cohort_id",
            "target_week",
            "module__id",
            "module__title",
            "module__position",
            "module__track_id",
        )
    )
    found: dict[int, list[CohortModuleTarget]] = defaultdict(list)
    for target in rows:
        if (target.cohort_id, target.module.track_id) in position:
            found[target.cohort_id].append(target)
    for cohort_id, targets in found.items():
        targets.sort(
            key=lambda t, c=cohort_id: (
                t.target_week,
                position[(c, t.module.track_id)],
                t.module.position,
                t.module.pk,
            )
        )
    return found


def _next_target(
    cohort: Cohort, targets: list[CohortModuleTarget], complete: Set[int], today: date
) -> NextTarget | None:
    target = pace.next_open_target(targets, complete)
    if target is None:
        return None
    links = list(cohort.cohort_tracks.all())
    due_on = pace.week_ends_on(starts_on=cohort.starts_on, week=target.target_week)
    return NextTarget(
        module_title=target.module.title,
        track_title=next(
            (link.track.title for link in links if link.track_id == target.module.track_id), ""
        )
        if len(links) > 1
        else "",
        week=target.target_week,
        due_on=due_on,
        overdue=due_on < today,
    )
