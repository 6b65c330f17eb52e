"""`dashboard_ms_median`, `dashboard_queries` and `dashboard_sql_floor_ms`: the first page of the
2,000-member cohort's dashboard through Django's request cycle, and the best single
hand-written SQL that computes the same per-member figures.

The members are ready in every run: `dataset.cohort_ids` (2,000 at full scale) are enrolled
in the big track with 10-90% of it done over 26 weeks (about 500,000 progress rows). What is
missing is the feature (issue 13: cohorts, not started when this was written). To plug it in:

    1. `cohort_under_test(dataset)`: create the cohort on `dataset.big_track` and its admin,
       add `dataset.cohort_ids` as members (in bulk, with `bench.learners.copy_rows`, then
       the cohort's kept totals with its `repair_totals` command, and `repair_totals --check`
       added to `bench.consistency`), and return a `CohortUnderTest`: the dashboard's URL,
       the admin's user id, and FLOOR_SQL adapted to the tables the dashboard reads;
    2. run `python -m bench --scale small`: the figures appear in the table and the JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection

from .inprocess import logged_in_client
from .learners import Dataset
from .scales import Scale
from .timing import counting_queries, median, repeat_timed, require

# Per member of the first page (by display name): done and required units of the track, points,
# last activity, aggregated live from the progress rows. Once the cohort keeps per-member
# totals, the floor reads those instead (the best SQL for the same figures).
FLOOR_SQL = """
    SELECT p.user_id, p.display_name, p.points_total,
           count(*) FILTER (WHERE pr.status = 'done') AS done,
           max(pr.updated_at) AS last_activity
    FROM tracker_profile p
    LEFT JOIN tracker_progress pr ON pr.learner_id = p.user_id AND pr.track_id = %(track)s
    WHERE p.user_id = ANY(%(members)s)
    GROUP BY p.user_id, p.display_name, p.points_total
    ORDER BY p.display_name
    LIMIT %(page)s
"""


@dataclass
class CohortUnderTest:
    url: str
    admin_id: int
    page_size: int
    floor_sql: str = FLOOR_SQL


def cohort_under_test(dataset: Dataset) -> CohortUnderTest | None:
    """The bench cohort and its dashboard; None until cohorts exist (see the docstring)."""
    return None


def unavailable_reason() -> str | None:
    if not apps.is_installed("cohorts"):
        return (
            "cohorts (issue 13) are not on main yet: there is no cohort and no "
            "/cohorts/<slug>/ dashboard to measure (its 2,000 members are enrolled and ready)"
        )
    return None


def measure(dataset: Dataset, scale: Scale) -> dict[str, float] | None:
    cohort = cohort_under_test(dataset)
    if cohort is None:
        return None
    client = logged_in_client(cohort.admin_id)
    names = set(
        get_user_model()
        .objects.filter(pk__in=dataset.cohort_ids)
        .values_list("profile__display_name", flat=True)
    )

    def get() -> None:
        response = client.get(cohort.url)
        require(response.status_code == 200, f"cohort dashboard: HTTP {response.status_code}")
        html = response.content.decode()
        shown = sum(1 for name in names if f">{name}<" in html)
        require(shown >= min(cohort.page_size, len(names)) // 2, "dashboard: members missing")

    runs = repeat_timed(get, warmup=2, runs=scale.page_repeats)
    with counting_queries() as captured:
        get()
    params = {
        "track": dataset.big_track.pk,
        "members": dataset.cohort_ids,
        "page": cohort.page_size,
    }

    def floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute(cohort.floor_sql, params)
            require(len(cursor.fetchall()) == cohort.page_size, "floor SQL: short page")

    floor_runs = repeat_timed(floor, warmup=1, runs=scale.page_repeats)
    return {
        "dashboard_ms_median": median(runs) * 1000,
        "dashboard_queries": len(captured),
        "dashboard_sql_floor_ms": median(floor_runs) * 1000,
    }
