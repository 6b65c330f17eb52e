"""`dashboard_ms_median`, `dashboard_queries` and `dashboard_sql_floor_ms`: the first page of the
2,000-member cohort's dashboard through Django's request cycle, and the best single
hand-written SQL that computes the same per-member figures.

The members are ready in every run: `dataset.cohort_ids` (2,000 at full scale) are enrolled
in the big track with 10-90% of it done over 26 weeks (about 500,000 progress rows). The
feature (issue 13) is plugged in as follows:

    1. `cohort_under_test(dataset)`: create the cohort on `dataset.big_track` and its admin,
       add `dataset.cohort_ids` as members (in bulk, with `bench.learners.copy_rows`, then
       the cohort's kept totals with its `repair_totals` command, and `repair_totals --check`
       added to `bench.consistency`), and return a `CohortUnderTest`: the dashboard's URL,
       the admin's user id, and FLOOR_SQL adapted to the tables the dashboard reads;
    2. run `python -m bench --scale small`: the figures appear in the table and the JSON.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings

from .inprocess import logged_in_client
from .learners import Dataset
from .scales import Scale
from .timing import counting_queries, median, repeat_timed, require

# Per member of the first page (by display name): the figures the dashboard shows, read from the
# totals kept on each enrolment (done and required units, points, complete modules, last
# activity): the best single SQL for them, without the filters, pace, heat map and panels. It
# finds the members as the dashboard does, by the cohort's memberships: an array of their 2,000
# ids (this floor until 28 November 2026) cost PostgreSQL 30-60% more.
FLOOR_SQL = """
    SELECT p.user_id, p.display_name, e.done_units, e.required_units, e.points,
           e.modules_done, e.last_activity_at
    FROM cohorts_cohortmembership m
    JOIN tracker_profile p ON p.user_id = m.user_id
    JOIN tracker_enrolment e ON e.learner_id = m.user_id AND e.track_id = %(track)s
    WHERE m.cohort_id = %(cohort)s AND m.role = %(member_role)s AND m.removed_at IS NULL
    ORDER BY p.display_name
    LIMIT %(page)s
"""

# A member's name in the dashboard's table (the row header of each member row).
MEMBER_ROW_NAME = re.compile(r'<th scope="row">([^<]*)</th>\s*<td class="progress">')


@dataclass
class CohortUnderTest:
    url: str
    cohort_id: int
    admin_id: int
    page_size: int
    floor_sql: str = FLOOR_SQL


def cohort_under_test(dataset: Dataset) -> CohortUnderTest:
    """The bench cohort on the big track: 26 weeks in, its pace plan from the modules' hints,
    an admin, `dataset.cohort_ids` as members (COPY), their kept totals and weekly completion
    counts computed from the rows the bench wrote."""
    from allauth.account.models import EmailAddress
    from django.core.management import call_command

    from cohorts.models import (
        Cohort,
        CohortMembership,
        CohortModuleTarget,
        CohortRole,
        CohortTrack,
    )
    from cohorts.pace import default_target_weeks
    from curriculum.models import Module
    from tracker.services.weekly import weekly_completions_rebuild

    from .learners import copy_rows

    now = dataset.now
    track = dataset.big_track
    starts_on = (now - timedelta(weeks=26)).date()
    admin = get_user_model().objects.create(
        username="bench-cohort-admin", email="bench-cohort-admin@example.com", password="!bench"
    )
    EmailAddress.objects.create(user=admin, email=admin.email, verified=True, primary=True)
    cohort = Cohort.objects.create(
        slug="bench-cohort",
        name="Bench cohort",
        starts_on=starts_on,
        ends_on=(now + timedelta(weeks=4)).date(),
        created_by=admin,
        created_at=now,
        updated_at=now,
    )
    CohortTrack.objects.create(cohort=cohort, track=track, position=0)
    modules = list(
        Module.objects.filter(track=track, archived_at__isnull=True).order_by("position")
    )
    weeks = default_target_weeks(m.hint_days for m in modules)
    CohortModuleTarget.objects.bulk_create(
        CohortModuleTarget(cohort=cohort, module=m, target_week=w)
        for m, w in zip(modules, weeks, strict=True)
    )
    CohortMembership.objects.create(cohort=cohort, user=admin, role=CohortRole.ADMIN, joined_at=now)
    joined = now - timedelta(weeks=26)
    copy_rows(
        CohortMembership,
        ["cohort_id", "user_id", "role", "joined_at"],
        ((cohort.pk, pk, CohortRole.MEMBER.value, joined) for pk in dataset.cohort_ids),
    )
    call_command("repair_totals", verbosity=0, stdout=io.StringIO())  # its summary is not a figure
    weekly_completions_rebuild(track_ids=[track.pk])
    # What autovacuum does to freshly written tables (statistics, the visibility map, the dead
    # rows of the repair's 10,000 updates) before anyone measures them.
    with connection.cursor() as cursor:
        for table in (
            "cohorts_cohortmembership",
            "cohorts_cohortmoduletarget",
            "tracker_enrolment",
            "tracker_profile",
            "tracker_weeklycompletions",
            "auth_user",
        ):
            cursor.execute(f'VACUUM (ANALYZE) "{table}"')
    return CohortUnderTest(
        url=f"/cohorts/{cohort.slug}/", cohort_id=cohort.pk, admin_id=admin.pk, page_size=50
    )


def unavailable_reason() -> str | None:
    if not apps.is_installed("cohorts"):
        return (
            "cohorts (issue 13) are not on main yet: there is no cohort and no "
            "/cohorts/<slug>/ dashboard to measure (its 2,000 members are enrolled and ready)"
        )
    return None


def measure(dataset: Dataset, scale: Scale) -> dict[str, float] | None:
    from cohorts.models import CohortRole

    cohort = cohort_under_test(dataset)
    if cohort is None:
        return None
    client = logged_in_client(cohort.admin_id)
    names = set(
        get_user_model()
        .objects.filter(pk__in=dataset.cohort_ids)
        .values_list("profile__display_name", flat=True)
    )

    answers = []

    def get() -> None:
        answers.append(client.get(cohort.url))

    def check_answers() -> None:
        """Every page answered, with a page of the cohort's members in its table: checked
        after the timed requests (looking for 2,000 names in 145 kB of HTML took longer than
        the page itself)."""
        for response in answers:
            require(response.status_code == 200, f"cohort dashboard: HTTP {response.status_code}")
            rows = set(MEMBER_ROW_NAME.findall(response.content.decode()))
            require(len(rows & names) == min(cohort.page_size, len(names)), "members missing")
        answers.clear()

    runs = repeat_timed(get, warmup=2, runs=scale.page_repeats)
    check_answers()
    with counting_queries() as captured:
        get()
    queries = len(captured)  # now: every later request empties the log the count reads
    # The weekly chart is kept for COHORT_CHART_CACHE_SECONDS: the page as it answers when the
    # chart is recounted (every few minutes, or on every request with the setting at 0).
    with override_settings(COHORT_CHART_CACHE_SECONDS=0):
        uncached = repeat_timed(get, warmup=1, runs=scale.page_repeats)
    check_answers()
    params = {
        "track": dataset.big_track.pk,
        "cohort": cohort.cohort_id,
        "member_role": CohortRole.MEMBER.value,
        "page": cohort.page_size,
    }

    def floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute(cohort.floor_sql, params)
            require(len(cursor.fetchall()) == cohort.page_size, "floor SQL: short page")

    floor_runs = repeat_timed(floor, warmup=1, runs=scale.page_repeats)
    return {
        "dashboard_ms_median": median(runs) * 1000,
        "dashboard_uncached_chart_ms_median": median(uncached) * 1000,
        "dashboard_queries": queries,
        "dashboard_sql_floor_ms": median(floor_runs) * 1000,
    }
