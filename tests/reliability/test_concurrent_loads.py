"""Two `load_curriculum` runs at once on the same files and database leave it consistent:
both succeed (the loader takes a lock before writing), the rows are those of one load, and a
third load finds nothing to change. On PostgreSQL and on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from curriculum.loader import load_paths
from curriculum.models import Capstone, Module, Resource, Track

ROOT = Path(__file__).resolve().parents[2]
SEEDS = str(ROOT / "seeds")


def env_for(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}}
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings")
    return env


def two_loads_at_once(database_url: str) -> list[subprocess.CompletedProcess]:
    env = env_for(database_url)
    loads = [
        subprocess.Popen(
            [sys.executable, "manage.py", "load_curriculum", SEEDS],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    done = []
    for load in loads:
        out, err = load.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(load.args, load.returncode, out, err))
    return done


@pytest.mark.services
def test_on_postgresql(require_postgres, transactional_db):
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    results = two_loads_at_once(url)
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    assert load_paths([SEEDS]).summary_line().startswith("created 0, updated 0, archived 0")
    assert Track.objects.count() == len(list(Path(SEEDS).glob("*.yaml")))
    for model in (Module, Resource, Capstone):
        slugs = list(model.objects.values_list("track_id", "slug"))
        assert len(slugs) == len(set(slugs)), model


def test_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'waymark.sqlite3'}"
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env_for(url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    results = two_loads_at_once(url)
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    third = subprocess.run(
        [sys.executable, "manage.py", "load_curriculum", SEEDS],
        cwd=ROOT,
        env=env_for(url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert third.stdout.strip().splitlines()[-1].startswith("created 0, updated 0, archived 0")
    import sqlite3

    rows = (
        sqlite3.connect(tmp_path / "waymark.sqlite3")
        .execute("SELECT count(*), count(DISTINCT slug) FROM curriculum_track")
        .fetchone()
    )
    assert rows == (len(list(Path(SEEDS).glob("*.yaml"))),) * 2
