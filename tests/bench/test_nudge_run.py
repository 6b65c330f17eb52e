"""The nudge run's CPU accounting: the CPU time of processes read from /proc, PostgreSQL's
backends found by the database they serve, and a meter that keeps what a process used after
it is gone."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.db import connection

from bench.nudge_run import CpuMeter, database_backends
from bench.timing import cpu_seconds


def burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_cpu_seconds_counts_this_process_and_nothing_once_it_is_gone():
    before = cpu_seconds(os.getpid())
    burn(0.2)
    assert cpu_seconds(os.getpid()) - before >= 0.15
    assert cpu_seconds(2**22 + 1) == 0.0  # no such process


@pytest.mark.django_db
def test_the_backends_of_a_database_are_found_by_name():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's backends only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    assert pid in database_backends(connection.settings_dict["NAME"])
    assert pid not in database_backends("no_such_database")


def test_a_process_that_ends_keeps_what_it_used():
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nend = time.process_time() + 0.4\n"
            "while time.process_time() < end: pass\ntime.sleep(0.6)",
        ]
    )
    with CpuMeter(lambda: [child.pid] if child.poll() is None else []) as meter:
        child.wait(timeout=30)
        time.sleep(0.3)
    assert meter.seconds >= 0.3
