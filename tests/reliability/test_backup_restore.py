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
