"""`nudge_10k_s`, `nudge_duplicates` and `worker_rss_mb`: from the dispatcher's start until every
due learner's nudge reached an SMTP server on loopback (`bench.smtp_sink`), with one Celery
worker of 2 processes; then the worker processes' memory.

The learners are ready in every run: `dataset.nudge_ids` (10,000 at full scale) are due in the
hour starting at `dataset.nudge_due_at`, spread over eight time zones, each enrolled with some
progress. What is missing is the feature itself (issue 14, branch `nudges`). To plug it in:

    1. set DISPATCH to a function of the due hour that starts the dispatcher the way beat
       does, e.g. `lambda due_at: dispatch_nudges.delay(due_at.isoformat())`
       (a task enqueued from here runs on the workers started below);
    2. run `python -m bench --scale small`: `unavailable_reason()` is then None and the
       figures appear in the table and the JSON.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from django.apps import apps

from .http_load import ROOT, children, rss_mb
from .learners import Dataset
from .smtp_sink import SmtpSink
from .timing import require


def _dispatch(due_at: datetime) -> object:
    from nudges.loadtest import dispatch_hour

    return dispatch_hour(due_at)


# The dispatcher, called with the due hour (an aware UTC datetime).
DISPATCH: Callable[[datetime], object] | None = _dispatch
WORKER_PROCESSES = 2
DELIVERY_TIMEOUT_S = 300


def unavailable_reason() -> str | None:
    if not apps.is_installed("nudges"):
        return (
            "weekly nudges (issue 14, branch `nudges`) are not on main yet: "
            "there is no dispatcher to run and nothing sends email"
        )
    if DISPATCH is None:
        return "the nudges app is installed but bench/nudge_run.py has no DISPATCH yet"
    return None


class CeleryWorker:
    """`celery -A config worker` with 2 processes, on this run's database and SMTP sink."""

    def __init__(self, env: dict[str, str]):
        self.name = f"bench-{os.getpid()}@localhost"
        self.log = Path(tempfile.mkstemp(prefix="bench-celery-", suffix=".log")[1])
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            f"--concurrency={WORKER_PROCESSES}",
            "--pool=prefork",
            f"--hostname={self.name}",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ]
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def wait_ready(self) -> None:
        from config.celery import app

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            require(self.process.poll() is None, f"celery exited: {self.log.read_text()[-2000:]}")
            if app.control.ping(destination=[self.name], timeout=1):
                return
        raise SystemExit(
            f"the Celery worker did not answer in 60 s: {self.log.read_text()[-2000:]}"
        )

    def rss_mb(self) -> float:
        return max(rss_mb(pid) for pid in children(self.process.pid))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def measure(dataset: Dataset) -> dict[str, float]:
    expected = len(dataset.nudge_ids)
    sink = SmtpSink().start()
    env = os.environ | {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "EMAIL_USE_TLS": "0",
    }
    worker = CeleryWorker(env)
    try:
        worker.wait_ready()
        started = time.monotonic()
        DISPATCH(dataset.nudge_due_at)
        arrived = sink.wait_for(expected, timeout=DELIVERY_TIMEOUT_S)
        require(arrived, f"nudges: {sink.messages} of {expected} arrived in {DELIVERY_TIMEOUT_S} s")
        elapsed = sink.arrival_of(expected) - started
        time.sleep(3)  # late duplicates (a retried chunk) still count
        rss = worker.rss_mb()
    finally:
        worker.stop()
        sink.stop()
    return {
        "nudge_10k_s": elapsed,
        "nudge_duplicates": sink.duplicates,
        "nudge_messages": sink.messages,
        "worker_rss_mb": rss,
    }
