"""The cohort part of the weekly nudge: for a learner who is a member of a cohort, its name and
page, the phase it is in, the next module target with its due date, and their pace against
the cohort's plan. Read for a whole chunk in a fixed number of queries (`cohorts.standing`:
one when nobody in the chunk is in a cohort, five otherwise). A learner in several cohorts
hears about one: a running cohort before one still to come, the latest start first (the `/me/`
page lists them all).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.urls import reverse

from cohorts.standing import CohortStanding, standings_for


@dataclass(frozen=True)
class CohortSection:
    cohort_name: str = ""
    cohort_url: str = ""  # absolute
    phase: str = ""
    next_target: str = ""  # e.g. "Object detection", with its track when the cohort has several
    next_target_due: date | None = None
    next_target_overdue: bool = False  # its due day has passed: "was due", not "by"
    pace_status: str = ""  # e.g. "on pace", "behind by 1 module"; empty without a plan

    def __bool__(self) -> bool:
        return bool(self.cohort_name)


def section_for(standing: CohortStanding) -> CohortSection:
    # Until members have a cohort page of their own, the link leads to /me/, which shows it.
    path = standing.url or reverse("tracker:dashboard")
    target = standing.next_target
    return CohortSection(
        cohort_name=standing.cohort.name,
        cohort_url=f"{settings.SITE_URL}{path}",
        phase=standing.phase_label,
        next_target=target.label if target else "",
        next_target_due=target.due_on if target else None,
        next_target_overdue=bool(target and target.overdue),
        pace_status=standing.pace_label.lower(),
    )


def cohort_sections(
    *, today_by_learner: Mapping[int, date], complete_modules: Mapping[int, Set[int]]
) -> dict[int, CohortSection]:
    """Each learner's cohort section, by learner id; learners in no cohort are left out.
    `today_by_learner`: each learner's date in their own zone; `complete_modules`: the ids of
    the modules each has completed (the nudge has worked them out already)."""
    found = standings_for(today_by_learner=today_by_learner, complete_modules=complete_modules)
    return {learner_id: section_for(standings[0]) for learner_id, standings in found.items()}
