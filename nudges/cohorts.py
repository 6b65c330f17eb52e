"""The cohort part of the weekly nudge: the seam the cohorts feature (issue 13) fills in.

Cohorts do not exist yet, so every learner's section is empty and the email leaves it out.
When they do, `cohort_sections` loads, in a fixed number of queries for the whole chunk, each
learner's cohort: its current phase, the next module target and their pace status against it.
The templates already render a non-empty section (`nudges/email/nudge.html`, `nudge.txt`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class CohortSection:
    cohort_name: str = ""
    cohort_url: str = ""  # absolute
    phase: str = ""
    next_target: str = ""  # e.g. "Module 3: Convolutions"
    next_target_due: date | None = None
    pace_status: str = ""  # e.g. "on pace", "behind by 1 module"

    def __bool__(self) -> bool:
        return bool(self.cohort_name)


def cohort_sections(*, learner_ids: list[int], now: datetime) -> dict[int, CohortSection]:
    """Each learner's cohort section, by learner id; learners in no cohort are left out."""
    return {}
