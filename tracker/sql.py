"""Hot reads written out as SQL, built once per process and database vendor.

The ORM compiles a queryset on every execution; for the few statements every click and every
track page runs (the learner's standing, the profile lock, the page's track row, progress,
notes and submissions, the header's role facts) compiling cost several times what PostgreSQL
took to answer (docs/performance.md). A `Statement` is such a read: a template naming tables
by model (`{progress}`), formatted once with the quoted table names, then executed with named
parameters. Columns come back as the driver gives them: `aware()` makes a timestamp what the
ORM would give (SQLite answers raw SQL with text).

On PostgreSQL a `Statement` runs as a prepared statement (`statement_cursor`): parsed and
planned once per connection instead of on every click. Planning was a third to a half of each
hot statement's time (`EXPLAIN ANALYZE`: 0.10-0.46 ms planned for 0.05-0.49 ms executed).
The parameters are then bound by the server, so a parameter whose type PostgreSQL cannot infer
from where it stands needs a cast in the SQL.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Model
from django.utils import timezone
from django.utils.dateparse import parse_datetime

__all__ = [
    "Statement",
    "aware",
    "id_list_aggregate",
    "ids",
    "model_columns",
    "statement_cursor",
    "timestamp_plus",
    "update_from_values",
]


@contextmanager
def statement_cursor():
    """A cursor for `Statement` SQL: on PostgreSQL one that binds parameters on the server, so
    psycopg prepares its statements (settings: `prepare_threshold` 0, unless
    `DATABASE_PREPARED_STATEMENTS` is off for a pooler that cannot keep them), wrapped as
    Django wraps every cursor (so queries are counted, logged and their errors translated);
    elsewhere Django's own."""
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            yield cursor
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    # What connection.cursor() does, with a server-binding cursor in place of the connection's.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        raw = ServerBindingCursor(connection.connection)
    if connection.queries_logged:
        cursor = _LoggedStatementCursor(raw, connection)
    else:
        cursor = connection.make_cursor(raw)
    with cursor:
        yield cursor


class _LoggedStatementCursor(CursorDebugWrapper):
    """Django's query log (DEBUG, tests' query counts) takes each statement's SQL from psycopg,
    which keeps none for a prepared statement: log the SQL as written instead."""

    def execute(self, sql, params=None):
        with self.debug_sql(sql, params, use_last_executed_query=False):
            return CursorWrapper.execute(self, sql, params)


class Statement:
    """SQL text from `template`, its `{name}` fields the quoted tables of `tables`' models,
    `{no_time}` a NULL typed as a timestamp (PostgreSQL resolves a UNION's column types pair by
    pair, and NULLs alone would make text of a timestamp column), `{for_update}` a row lock
    where the database has one, `{id_list}(column)` the aggregate that gathers a column of ids
    into one value (`ids()` reads it) and `{no_ids}` a NULL of its type."""

    def __init__(self, template: str, **tables: type[Model]):
        self.template = template
        self.tables = tables
        self._sql: dict[str, str] = {}
        self._builders: dict[tuple, _InstanceBuilder] = {}

    def sql(self) -> str:
        vendor = connection.vendor
        if vendor not in self._sql:
            quote = connection.ops.quote_name
            postgresql = vendor == "postgresql"
            self._sql[vendor] = self.template.format(
                no_time="NULL::timestamptz" if postgresql else "NULL",
                id_list=id_list_aggregate(),
                no_ids="CAST(NULL AS BIGINT[])" if postgresql else "NULL",
                for_update=" FOR UPDATE" if connection.features.has_select_for_update else "",
                **{name: quote(model._meta.db_table) for name, model in self.tables.items()},
            ).strip()
        return self._sql[vendor]

    def rows(self, params: dict | list) -> list[tuple]:
        with statement_cursor() as cursor:
            cursor.execute(self.sql(), params)
            return cursor.fetchall()

    def instances(self, model: type[Model], params: dict | list) -> list[Model]:
        """The rows as `model` instances, as `Model.objects.raw` builds them: each column
        named after one of the model's fields sets that field (through the field's and the
        database's converters), any other becomes an attribute."""
        with statement_cursor() as cursor:
            cursor.execute(self.sql(), params)
            names = tuple(column[0] for column in cursor.description)
            rows = cursor.fetchall()
        key = (model, names, connection.vendor)
        if key not in self._builders:  # worked out once per process: it runs on every request
            self._builders[key] = _InstanceBuilder(model, names)
        return self._builders[key].build(rows)


class _InstanceBuilder:
    """How a statement's columns become `model` instances (`Statement.instances`)."""

    def __init__(self, model: type[Model], names: tuple[str, ...]):
        at = {name: i for i, name in enumerate(names)}
        fields = [f for f in model._meta.concrete_fields if f.column in at]
        field_columns = {f.column for f in fields}
        self.model = model
        self.attnames = [f.attname for f in fields]
        self.extras = [(name, i) for name, i in at.items() if name not in field_columns]
        self.columns = []  # (index, column expression, its converters)
        for field in fields:
            col = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            self.columns.append((at[field.column], col, found))

    def build(self, rows: list[tuple]) -> list[Model]:
        made = []
        for row in rows:
            values = []
            for i, col, found in self.columns:
                value = row[i]
                for convert in found:
                    value = convert(value, col, connection)
                values.append(value)
            instance = self.model.from_db(connection.alias, self.attnames, values)
            for name, i in self.extras:
                setattr(instance, name, row[i])
            made.append(instance)
        return made


def model_columns(model: type[Model], alias: str) -> str:
    """`alias.column, ...` for every column of `model`, for a Statement's SELECT list: named,
    so a migration that adds a column never changes what a prepared statement returns."""
    return ", ".join(f"{alias}.{field.column}" for field in model._meta.concrete_fields)


def id_list_aggregate() -> str:
    """The aggregate that gathers a column of ids into one value on this database
    (`Statement`'s `{id_list}`; `ids()` reads what it gathered)."""
    return "array_agg" if connection.vendor == "postgresql" else "group_concat"


def timestamp_plus(column: str, delta: timedelta) -> str:
    """SQL for a timestamp column moved on by `delta` (whole seconds) on this database."""
    seconds = int(delta.total_seconds())
    if connection.vendor == "postgresql":
        return f"({column} + interval '{seconds} seconds')"
    # SQLite keeps Django's timestamps as ISO text; datetime() answers in the same form.
    return f"datetime({column}, '+{seconds} seconds')"


def ids(value) -> list[int]:
    """The ids a `{id_list}` aggregate gathered: PostgreSQL's array, SQLite's comma-separated
    text, or NULL for none."""
    if value is None:
        return []
    if isinstance(value, str):
        return [int(part) for part in value.split(",")]
    return value


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
