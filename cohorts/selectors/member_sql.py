"""The member table's SQL: one row per active member of a cohort with their kept figures per
cohort track, points, last activity, pace and at-risk flag, filtered and ordered in the
database (PostgreSQL and SQLite alike).

Written out rather than built with the ORM: for a page of 2,000 members the ORM spent longer
compiling the query (one LEFT JOIN per cohort track, the pace and at-risk expressions, three
window functions) than PostgreSQL took to answer it. The text depends only on the number of
cohort tracks and the shape of the filter and order, and is built from the few fragments
below; every value is a parameter.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection

from ops.text import folded
from tracker.models import ANONYMOUS_LEARNER_NAME, Enrolment, Profile

from .. import pace
from ..models import CohortMembership, CohortRole

INACTIVE_DAYS = 14
AT_RISK = "at_risk"


@dataclass(frozen=True)
class MemberFilter:
    """The table's state, as the URL carries it (validated by the filter form)."""

    q: str = ""
    track: int | None = None  # a cohort track id
    pace: str = ""  # a PaceStatus value, or AT_RISK
    sort: str = "name"  # a SORTS key or "track-<id>", "-" first for descending
    page: int = 1

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")


def _later(a: str, b: str) -> str:
    """The later of two nullable timestamps (GREATEST differs between the databases on NULL)."""
    return f"CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL OR {a} >= {b} THEN {a} ELSE {b} END"


def _figures(tracks: int) -> str:
    """Each active member's figures (`judged`): a SELECT over the memberships with one
    enrolment joined per cohort track (unique per learner and track, so one row each)."""
    quote = connection.ops.quote_name
    joins, columns, points, modules, last = [], [], [], [], ""
    for i in range(tracks):
        e = f"e{i}"
        joins.append(
            f"LEFT JOIN {quote(Enrolment._meta.db_table)} {e} "
            f"ON {e}.learner_id = m.user_id AND {e}.track_id = %(track_{i})s"
        )
        columns += [
            f"COALESCE({e}.done_units, 0) AS t{i}_done",
            f"COALESCE({e}.required_units, 0) AS t{i}_required",
            f"CASE WHEN {e}.id IS NOT NULL AND {e}.left_at IS NULL THEN 1 ELSE 0 END"
            f" AS t{i}_enrolled",
            f"CASE WHEN {e}.required_units > 0"
            f" THEN {e}.done_units * 100 / {e}.required_units ELSE 0 END AS t{i}_percent",
        ]
        points.append(f"COALESCE({e}.points, 0)")
        modules.append(f"COALESCE({e}.modules_done, 0)")
        last = f"{e}.last_activity_at" if not last else _later(last, f"{e}.last_activity_at")
    # The account's name only where the profile has none (`Profile.name`): a subquery, which
    # COALESCE runs for those few members alone; joining every member's account read the whole
    # user table (1.6 ms of 12 at full scale).
    users = quote(get_user_model()._meta.db_table)
    full_name = (
        "(SELECT NULLIF(TRIM(COALESCE(u.first_name, '') || ' ' || COALESCE(u.last_name, '')), '')"
        f" FROM {users} u WHERE u.id = m.user_id)"
    )
    name = f"COALESCE(NULLIF(TRIM(p.display_name), ''), {full_name}, %(anonymous)s)"
    figures = ", ".join(
        [
            "m.user_id",
            "m.joined_at",
            f"{name} AS name",
            "COALESCE(p.show_on_leaderboards, TRUE) AS shown",
            *columns,
            f"{' + '.join(points) or '0'} AS points",
            f"{' + '.join(modules) or '0'} AS modules_done",
            f"{last or 'NULL'} AS last_activity",
        ]
    )
    return (
        f"SELECT {figures} FROM {quote(CohortMembership._meta.db_table)} m "
        f"LEFT JOIN {quote(Profile._meta.db_table)} p ON p.user_id = m.user_id "
        f"{' '.join(joins)} "
        "WHERE m.cohort_id = %(cohort)s AND m.role = %(member_role)s AND m.removed_at IS NULL"
    )


# Pace and at risk over the figures (`docs/cohorts.md`, "Pace"); `has_plan` is 0 or 1.
_JUDGED = """
    SELECT f.*,
        CASE WHEN %(has_plan)s = 0 THEN %(no_plan)s
             WHEN f.modules_done < %(due_before)s THEN %(behind)s
             WHEN f.modules_done > %(due_by_end)s THEN %(ahead)s
             ELSE %(on_pace)s END AS pace,
        CASE WHEN f.last_activity < %(quiet_since)s
               OR (f.last_activity IS NULL AND f.joined_at < %(quiet_since)s)
               OR (%(has_plan)s = 1 AND f.modules_done < %(due_before)s - 1)
             THEN 1 ELSE 0 END AS at_risk
    FROM ({figures}) f
"""


class MemberQuery:
    """The member figures of one cohort (`CohortContext`) at `now`: SQL text and parameters."""

    def __init__(self, ctx, *, now: datetime):
        self.ctx = ctx
        due = ctx.due
        adapt = connection.ops.adapt_datetimefield_value
        self.params = {
            "cohort": ctx.cohort.pk,
            "member_role": CohortRole.MEMBER.value,
            "anonymous": ANONYMOUS_LEARNER_NAME,
            "has_plan": 1 if due.has_plan else 0,
            "due_before": due.due_before_this_week,
            "due_by_end": due.due_by_end_of_this_week,
            "quiet_since": adapt(now - timedelta(days=INACTIVE_DAYS)),
            **{status.name.lower(): status.value for status in pace.PaceStatus},
            **{f"track_{i}": track.id for i, track in enumerate(ctx.tracks)},
        }
        self.judged = _JUDGED.format(figures=_figures(len(ctx.tracks)))

    def match(self, filters: MemberFilter) -> str:
        """The SQL condition (on `judged`'s columns) for the members `filters` keeps."""
        conditions = ["1 = 1"]
        if filters.q:
            # Accents aside: "muller" finds Müller (ops.text; unaccent on both databases).
            escaped = folded(filters.q).replace("\\", "\\\\").replace("%", "\\%")
            self.params["q"] = "%" + escaped.replace("_", "\\_") + "%"
            conditions.append("unaccent(LOWER(name)) LIKE %(q)s ESCAPE '\\'")
        if filters.track is not None and filters.track in self.ctx.track_ids:
            conditions.append(f"t{self.ctx.track_ids.index(filters.track)}_enrolled = 1")
        if filters.pace == AT_RISK:
            conditions.append("at_risk = 1")
        elif filters.pace:
            self.params["pace_filter"] = filters.pace
            conditions.append("pace = %(pace_filter)s")
        return " AND ".join(conditions)

    def order(self, filters: MemberFilter) -> str:
        """The table's order: the sorted column, then name and id (stable pages)."""
        key, desc = filters.sort_key, filters.descending
        columns = {"points": "points", "activity": "last_activity", "pace": "modules_done"}
        if (
            key.startswith("track-")
            and key[6:].isascii()
            and key[6:].isdigit()
            and len(key) < 24
            and int(key[6:]) in self.ctx.track_ids
        ):
            columns[key] = f"t{self.ctx.track_ids.index(int(key[6:]))}_percent"
        if key not in columns:
            way = "DESC" if desc else "ASC"
            return f"LOWER(name) {way}, user_id {way}"
        first = f"{columns[key]} DESC NULLS LAST" if desc else f"{columns[key]} ASC NULLS FIRST"
        return f"{first}, LOWER(name) ASC, user_id ASC"

    def rows(self, sql: str) -> list[dict]:
        with connection.cursor() as cursor:
            cursor.execute(sql, self.params)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def stream(self, sql: str, *, chunk: int) -> Iterator[dict]:
        """Rows a chunk at a time (a server-side cursor on PostgreSQL)."""
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, self.params)
            names = [column[0] for column in cursor.description]
            while batch := cursor.fetchmany(chunk):
                for row in batch:
                    yield dict(zip(names, row, strict=True))

    def with_ids(self, name: str, ids: list[int]) -> str:
        """`IN (...)` over `ids` as parameters named `name_0`, `name_1`...; never empty."""
        self.params.update({f"{name}_{i}": value for i, value in enumerate(ids)})
        return "(" + (", ".join(f"%({name}_{i})s" for i in range(len(ids))) or "NULL") + ")"
