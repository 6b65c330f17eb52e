"""Backups restore to exactly what was backed up: PostgreSQL with pg_dump/pg_restore into a
scratch database, and the SQLite default with SQLite's backup API (scripts/backup.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from scripts import backup
from tests.factories import ResourceFactory, UserFactory
from tracker import services

ROOT = Path(__file__).resolve().parents[2]


def some_learner_data() -> None:
    resource = ResourceFactory()
    for _ in range(3):
        learner = UserFactory()
        services.enrolment_join(learner=learner, track=resource.track)
        services.progress_set_status(learner=learner, resource=resource, status="done")
        services.note_save(learner=learner, resource=resource, body="Ünïcode, 'quotes', \\n")


@pytest.mark.services
def test_postgresql_backup_restores_into_a_scratch_database(require_postgres, transactional_db):
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is not installed")
    some_learner_data()
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    assert backup.check(url)


def test_sqlite_backup_wipe_restore(tmp_path):
    url = f"sqlite:///{tmp_path / 'waymark.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="config.settings")
    for command in (["migrate", "--noinput"], ["load_curriculum", str(ROOT / "seeds")]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    before = backup.fingerprint(url)
    assert before["curriculum_resource"][0] > 0

    dump = tmp_path / "backup.sqlite3"
    backup.back_up(url, dump)
    backup.wipe(url)
    assert backup.fingerprint(url) == {}
    backup.restore(dump, url)
    assert backup.fingerprint(url) == before
    assert backup.check(url)


def small_sqlite(path: Path) -> str:
    import sqlite3

    connection = sqlite3.connect(path)
    with connection:
        connection.execute("CREATE TABLE track (title TEXT)")
        connection.execute("INSERT INTO track VALUES ('Deep Learning')")
    connection.close()
    return f"sqlite:///{path}"


def test_refusals_are_one_line_and_change_nothing(tmp_path, capsys):
    """A restore wrote over a live database without a word; a backup of a mistyped path made
    an empty database there and reported success; a SQLite backup restored into PostgreSQL
    ended in a traceback."""
    url = small_sqlite(tmp_path / "live.sqlite3")
    dump = tmp_path / "backup.sqlite3"
    assert backup.main(["backup", url, str(dump)]) == 0
    assert dump.stat().st_mode & 0o077 == 0  # its owner's alone: it holds password hashes
    before = backup.fingerprint(url)

    assert backup.main(["restore", str(dump), url]) == 1
    assert "is not empty (1 tables): restore into a new database" in capsys.readouterr().err
    assert backup.fingerprint(url) == before

    typo = tmp_path / "typo.sqlite3"
    assert backup.main(["backup", f"sqlite:///{typo}", str(tmp_path / "out")]) == 1
    assert f"{typo}: no such database file" in capsys.readouterr().err
    assert not typo.exists() and not (tmp_path / "out").exists()
    assert backup.main(["check", f"sqlite:///{typo}"]) == 1
    assert not typo.exists()

    assert backup.main(["restore", str(dump), "postgres://postgres@127.0.0.1:1/none"]) == 1
    err = capsys.readouterr().err
    assert "is a SQLite backup; it cannot be restored into 127.0.0.1:1/none" in err
    assert backup.main(["restore", str(tmp_path / "missing"), url]) == 1
    assert "no such backup file" in capsys.readouterr().err

    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"  # a new database: restored, as before
    assert backup.main(["restore", str(dump), fresh]) == 0
    assert backup.fingerprint(fresh) == before
