"""Hot reads written out as SQL, built once per process and database vendor.

The ORM compiles a queryset on every execution; for the few statements every click and every
track page runs (the learner's standing, the profile lock, the page's track row, progress,
notes and submissions, the header's role facts) compiling cost several times what PostgreSQL
took to answer (docs/performance.md). A `Statement` is such a read: a template naming tables
by model (`{progress}`), formatted once with the quoted table names, then executed with named
parameters. Columns come back as the driver gives them: `aware()` makes a timestamp what the
ORM would give (SQLite answers raw SQL with text).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection
from django.db.models import Model
from django.utils import timezone
from django.utils.dateparse import parse_datetime

__all__ = ["Statement", "aware", "update_from_values"]


class Statement:
    """SQL text from `template`, its `{name}` fields the quoted tables of `tables`' models,
    `{no_time}` a NULL typed as a timestamp (PostgreSQL resolves a UNION's column types pair by
    pair, and NULLs alone would make text of a timestamp column) and `{for_update}` a row lock
    where the database has one."""

    def __init__(self, template: str, **tables: type[Model]):
        self.template = template
        self.tables = tables
        self._sql: dict[str, str] = {}

    def sql(self) -> str:
        vendor = connection.vendor
        if vendor not in self._sql:
            quote = connection.ops.quote_name
            self._sql[vendor] = self.template.format(
                no_time="NULL::timestamptz" if vendor == "postgresql" else "NULL",
                for_update=" FOR UPDATE" if connection.features.has_select_for_update else "",
                **{name: quote(model._meta.db_table) for name, model in self.tables.items()},
            ).strip()
        return self._sql[vendor]

    def rows(self, params: dict | list) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(self.sql(), params)
            return cursor.fetchall()


def aware(value) -> datetime | None:
    """A timestamp column's value as the ORM would give it: aware, in UTC when stored naive."""
    moment = value if value is None or isinstance(value, datetime) else parse_datetime(str(value))
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


def update_from_values(
    model: type[Model], names: list[str], rows: list[tuple], *, batch: int = 500
):
    """Set the fields `names` of many rows of `model`, each row `(pk, *values)`: one
    `UPDATE ... FROM (VALUES ...)` per `batch` rows. `bulk_update` writes a CASE WHEN per field
    over every pk, which PostgreSQL evaluates row by row: it was most of a track's totals
    recompute at 2,000 enrolments (about 0.9 of 1.3 s; now 0.15 s). Values go through each field's
    `get_db_prep_save`; each column is cast to its field's type (a VALUES column of NULLs alone
    would be text). Elsewhere (SQLite), one UPDATE per row."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    pk_column = quote(model._meta.pk.column)
    table = quote(model._meta.db_table)

    def column(index: int, field) -> str:
        return f"CAST(v.column{index} AS {field.db_type(connection)})"

    def prepared(row: tuple) -> list:
        pk, *values = row
        return [
            pk,
            *(
                field.get_db_prep_save(v, connection)
                for field, v in zip(fields, values, strict=True)
            ),
        ]

    if connection.vendor != "postgresql":
        # SQLite runs statements in process: one UPDATE per row is as quick, and needs no
        # UPDATE ... FROM (SQLite 3.33+).
        sets = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET {sets} WHERE {pk_column} = %s",
                [[*values, pk] for pk, *values in map(prepared, rows)],
            )
        return
    sets = ", ".join(
        f"{quote(field.column)} = {column(i + 2, field)}" for i, field in enumerate(fields)
    )
    width = len(fields) + 1
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            placeholders = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(chunk))
            params = [value for row in chunk for value in prepared(row)]
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM (VALUES {placeholders}) AS v "
                f"WHERE {table}.{pk_column} = v.column1",
                params,
            )
