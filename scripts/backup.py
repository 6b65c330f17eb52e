"""Back up and restore Waymark's database: PostgreSQL with pg_dump/pg_restore, the SQLite
default with SQLite's online backup API (safe while the app runs, WAL included).

    .venv/bin/python scripts/backup.py backup  [DATABASE_URL] FILE
    .venv/bin/python scripts/backup.py restore FILE [DATABASE_URL]   # into an empty database
    .venv/bin/python scripts/backup.py check   [DATABASE_URL]        # back up, restore into a
                                                                     # scratch copy, compare

DATABASE_URL defaults to the environment's, else the SQLite default (var/waymark.sqlite3).
See docs/operations.md, "Backups". Every refusal is a one-line message and exit status 1: a
database that does not exist is not backed up (as an empty one), and a restore never writes
over a database that holds tables.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = f"sqlite:///{ROOT / 'var' / 'waymark.sqlite3'}"


class BackupError(Exception):
    """Something a person can act on; nothing was written."""


SQLITE_HEADER = b"SQLite format 3\x00"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite:")


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///").removeprefix("sqlite://"))


def libpq(url: str) -> str:
    """A URL libpq understands (dj-database-url also accepts postgres:// and pgsql://)."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


def _existing_sqlite(path: Path) -> sqlite3.Connection:
    """Open a SQLite database that must already exist (connect() would create an empty one)."""
    if not path.is_file():
        raise BackupError(f"{path}: no such database file")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def back_up(url: str, file: Path) -> None:
    """Readable by its owner only: a backup holds password hashes and live session keys."""
    previous = os.umask(0o077)
    try:
        _back_up(url, file)
    finally:
        os.umask(previous)


def _back_up(url: str, file: Path) -> None:
    if is_sqlite(url):
        source = _existing_sqlite(sqlite_path(url))
        target = sqlite3.connect(file)
        with target:
            source.backup(target)
        source.close()
        target.close()
        return
    _run(
        [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--file",
            str(file),
            libpq(url),
        ],
        f"pg_dump could not back up {_shown(url)}",
    )


def _run(command: list[str], failure: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [""])[-1]
        raise BackupError(f"{failure}: {detail}" if detail else failure)


def _shown(url: str) -> str:
    return url.split("@")[-1]


def _tables(url: str) -> int:
    """How many tables the database holds (0 for a SQLite file that does not exist yet)."""
    if is_sqlite(url):
        path = sqlite_path(url)
        if not path.exists():
            return 0
        connection = _existing_sqlite(path)
        try:
            return connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path}: not a SQLite database ({error})") from None
        finally:
            connection.close()
    import psycopg

    with psycopg.connect(libpq(url)) as connection:
        return connection.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()[0]


def restore(file: Path, url: str) -> None:
    """Restore into an empty database (a new one, or one emptied by `wipe`); refuses one that
    holds tables, and a backup of the other kind of database."""
    if not file.is_file():
        raise BackupError(f"{file}: no such backup file")
    is_sqlite_backup = file.read_bytes()[: len(SQLITE_HEADER)] == SQLITE_HEADER
    if is_sqlite(url) != is_sqlite_backup:
        kind = "SQLite" if is_sqlite_backup else "PostgreSQL (pg_dump)"
        raise BackupError(f"{file} is a {kind} backup; it cannot be restored into {_shown(url)}")
    if tables := _tables(url):
        raise BackupError(
            f"{_shown(url)} is not empty ({tables} tables): restore into a new database, "
            "or empty this one first"
        )
    if is_sqlite(url):
        source = _existing_sqlite(file)
        target = sqlite3.connect(sqlite_path(url))
        with target:
            source.backup(target)
        source.close()
        target.close()
        return
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            libpq(url),
            str(file),
        ],
        f"pg_restore could not restore {file} into {_shown(url)}",
    )


def wipe(url: str) -> None:
    """Empty the database completely (what a lost disk or a bad migration would leave)."""
    if is_sqlite(url):
        path = sqlite_path(url)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(libpq(url), autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of its rows, in an order that does not depend on
    how the rows were written."""
    found: dict[str, tuple[int, str]] = {}
    if is_sqlite(url):
        path = sqlite_path(url)
        if not path.exists():
            return found
        connection = sqlite3.connect(path)
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            rows = sorted(repr(row) for row in connection.execute(f'SELECT * FROM "{table}"'))
            found[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        connection.close()
        return found
    import psycopg

    with psycopg.connect(libpq(url)) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        ]
        for table in tables:
            count, digest = connection.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) "
                f'FROM "{table}" t'
            ).fetchone()
            found[table] = (count, digest)
    return found


def check(url: str) -> bool:
    """Back up `url`, restore into a scratch copy, and compare table by table. The original is
    only read. Returns whether they are the same."""
    with tempfile.TemporaryDirectory(prefix="waymark-backup-") as tmp:
        dump = Path(tmp) / "backup"
        back_up(url, dump)
        if is_sqlite(url):
            scratch = f"sqlite:///{Path(tmp) / 'scratch.sqlite3'}"
            restore(dump, scratch)
            same = fingerprint(scratch) == fingerprint(url)
        else:
            import psycopg

            parts = urlsplit(libpq(url))
            name = f"{parts.path.lstrip('/')}_restore_check_{uuid.uuid4().hex[:8]}"
            admin = urlunsplit(parts._replace(path="/postgres"))
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{name}"')
            scratch = urlunsplit(parts._replace(path=f"/{name}"))
            try:
                restore(dump, scratch)
                same = fingerprint(scratch) == fingerprint(url)
            finally:
                with psycopg.connect(admin, autocommit=True) as connection:
                    connection.execute(f'DROP DATABASE "{name}"')
    return same


def main(argv: list[str]) -> int:
    if len(argv) < 1 or argv[0] not in {"backup", "restore", "check"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    try:
        return _command(command, rest)
    except BackupError as refused:
        print(f"backup.py {command}: {refused}", file=sys.stderr)
        return 1


def _command(command: str, rest: list[str]) -> int:
    env_url = os.environ.get("DATABASE_URL", "").strip() or DEFAULT_URL
    if not rest and command != "check":
        print(__doc__)
        return 2
    if command == "backup":
        url, file = (rest[0], rest[1]) if len(rest) == 2 else (env_url, rest[0])
        back_up(url, Path(file))
        print(f"backed up {url.split('@')[-1]} to {file}")
    elif command == "restore":
        file, url = (rest[0], rest[1]) if len(rest) == 2 else (rest[0], env_url)
        restore(Path(file), url)
        print(f"restored {file} into {url.split('@')[-1]}")
    else:
        url = rest[0] if rest else env_url
        same = check(url)
        print("ok: the backup restores to the same rows" if same else "DIFFERENT after restore")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
