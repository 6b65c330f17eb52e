"""The streak of many learners at once, for the weekly nudge: the dashboard's rule
(`tracker.weeks.current_streak`: consecutive ISO weeks, in the learner's own zone, with a
completion or a points award that still stands, ending this week, or last week while this one
has nothing yet), for a whole chunk in one query.

On PostgreSQL the query walks back week by week from each learner's current week and stops at
the first empty one (a recursive CTE; each step is two index probes, on
`tracker_progress(learner_id, completed_at)` and `tracker_pointsentry(learner_id, created_at)`),
so its cost follows the streaks, not the learners' whole history: for 500 learners with 250
completions each, a few milliseconds instead of grouping 250,000 rows by week. Elsewhere
(SQLite) it groups every completion and award by week, as the dashboard does.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import connection, transaction
from django.db.models import Case, CharField, Exists, Func, OuterRef, Value, When
from django.db.models.fields import DateField

from tracker import weeks
from tracker.models import PointsEntry, PointsKind, Progress, ProgressStatus

# A learner's week holds a completion, or an award that no reversal of the same source and
# generation undid. The index range (a day either side of the local week) finds candidates;
# the local week of each candidate decides, exactly as the dashboard's TruncWeek does.
_STREAKS_SQL = """
WITH RECURSIVE
learner (id, zone, monday) AS (
    SELECT * FROM unnest(%s::integer[], %s::text[], %s::date[])
),
walk (id, zone, monday, streak, first) AS (
    SELECT id, zone, monday, 0, TRUE FROM learner
  UNION ALL
    SELECT walk.id, walk.zone, walk.monday - 7,
           walk.streak + CASE WHEN week.active THEN 1 ELSE 0 END, FALSE
      FROM walk
      CROSS JOIN LATERAL (
        SELECT EXISTS (
            SELECT 1 FROM tracker_progress p
             WHERE p.learner_id = walk.id
               AND p.status = %s
               AND p.completed_at >= (walk.monday - 1)::timestamp AT TIME ZONE walk.zone
               AND p.completed_at < (walk.monday + 8)::timestamp AT TIME ZONE walk.zone
               AND date_trunc('week', p.completed_at AT TIME ZONE walk.zone)::date = walk.monday
        ) OR EXISTS (
            SELECT 1 FROM tracker_pointsentry a
             WHERE a.learner_id = walk.id
               AND a.kind = %s
               AND a.created_at >= (walk.monday - 1)::timestamp AT TIME ZONE walk.zone
               AND a.created_at < (walk.monday + 8)::timestamp AT TIME ZONE walk.zone
               AND date_trunc('week', a.created_at AT TIME ZONE walk.zone)::date = walk.monday
               AND NOT EXISTS (
                   SELECT 1 FROM tracker_pointsentry r
                    WHERE r.learner_id = a.learner_id
                      AND r.source_key = a.source_key
                      AND r.generation = a.generation
                      AND r.kind = %s
               )
        ) AS active
        OFFSET 0  -- keeps the subquery whole: its EXISTS run once per step, not twice
      ) AS week
     -- An empty week ends the walk, except the current one (it is not over yet).
     WHERE week.active OR walk.first
)
SELECT id, max(streak) FROM walk GROUP BY id
"""


def streaks(*, zones: dict[int, str], today: dict[int, date]) -> dict[int, int]:
    """{learner id: streak} for these learners, each with their zone name (valid: checked by
    the caller) and their local today."""
    if not zones:
        return {}
    if connection.vendor != "postgresql":
        return grouped_streaks(zones=zones, today=today)
    ids = list(zones)
    with transaction.atomic(), connection.cursor() as cursor:
        # The planner cannot size a recursion, guesses millions of rows and would spend a
        # second compiling the query (JIT) that then runs in milliseconds.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            _STREAKS_SQL,
            [
                ids,
                [zones[i] for i in ids],
                [weeks.week_start(today[i]) for i in ids],
                ProgressStatus.DONE.value,
                PointsKind.AWARD.value,
                PointsKind.REVERSAL.value,
            ],
        )
        found = dict(cursor.fetchall())
    return {learner_id: found.get(learner_id, 0) for learner_id in ids}


# --- every week, grouped (any database) ------------------------------------------------------


class LocalWeekStart(Func):
    """The Monday (a date) of the ISO week holding a timestamp, in a time zone given per row."""

    output_field = DateField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="(DATE_TRUNC('week', %(expressions)s))::date",
            arg_joiner=" AT TIME ZONE ",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        # Django's own SQLite function behind TruncWeek, which takes the zone as an argument.
        return self.as_sql(
            compiler,
            connection,
            template="date(django_datetime_trunc('week', %(expressions)s, 'UTC'))",
            **extra,
        )


def _zone_by_learner(zones: dict[int, str]):
    """A per-row zone name for SQL, from names Python already validated."""
    by_zone: dict[str, list[int]] = defaultdict(list)
    for learner_id, name in zones.items():
        by_zone[name].append(learner_id)
    return Case(
        *[When(learner_id__in=ids, then=Value(name)) for name, ids in by_zone.items()],
        default=Value("UTC"),
        output_field=CharField(),
    )


def active_weeks(*, zones: dict[int, str]) -> dict[int, list[date]]:
    """Mondays of every week with a completion, or a points award that still stands, per
    learner in their own zone: one query (the dashboard's rule, for many learners)."""
    learner_ids = list(zones)
    zone = _zone_by_learner(zones)
    completions = (
        Progress.objects.filter(
            learner_id__in=learner_ids, status=ProgressStatus.DONE, completed_at__isnull=False
        )
        .annotate(week=LocalWeekStart("completed_at", zone))
        .order_by()
        .values_list("learner_id", "week")
    )
    reversed_later = PointsEntry.objects.filter(
        learner_id=OuterRef("learner_id"),
        kind=PointsKind.REVERSAL,
        source_key=OuterRef("source_key"),
        generation=OuterRef("generation"),
    )
    awards = (
        PointsEntry.objects.filter(learner_id__in=learner_ids, kind=PointsKind.AWARD)
        .filter(~Exists(reversed_later))
        .annotate(week=LocalWeekStart("created_at", zone))
        .order_by()
        .values_list("learner_id", "week")
    )
    found: dict[int, list[date]] = defaultdict(list)
    for learner_id, week in completions.union(awards):
        found[learner_id].append(date.fromisoformat(week) if isinstance(week, str) else week)
    return found


def grouped_streaks(*, zones: dict[int, str], today: dict[int, date]) -> dict[int, int]:
    """The same figures from every active week of every learner (the portable way)."""
    active = active_weeks(zones=zones)
    return {
        learner_id: weeks.current_streak(active.get(learner_id, ()), today=today[learner_id])
        for learner_id in zones
    }
