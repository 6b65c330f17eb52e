"""`nudge_10k_s`, `nudge_duplicates` and `worker_rss_mb`: from the dispatcher's start until every
due learner's nudge reached an SMTP server on loopback (`bench.smtp_sink`), with one Celery
worker of 2 processes; then the worker processes' memory.

The learners are ready in every run: `dataset.nudge_ids` (10,000 at full scale) are due in the
hour starting at `dataset.nudge_due_at`, spread over eight time zones, each enrolled with some
progress. One warm-up delivery, then `scale.nudge_runs` timed ones, each from scratch (the
delivery rows and the dispatcher's mark removed, as if it were the next week): the dispatcher
runs here as beat's task would on the hour (`nudges.loadtest.dispatch_hour`), the worker
processes send. `nudge_10k_s` is the median.

The machine is shared and noisy, so each run also records the CPU time it cost, per message,
in every process that worked for it: the worker processes, the PostgreSQL backends of the
run's database, the dispatcher (this process's main thread) and the SMTP sink (its thread).
Their sum over the machine's cores is what the delivery would take on an idle machine if the
work spread perfectly (`nudge_cpu_bound_s`); the dispatcher's own time comes first, alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.apps import apps

from .http_load import ROOT, children, rss_mb
from .learners import Dataset
from .scales import Scale
from .smtp_sink import SmtpSink
from .timing import cpu_seconds, median, require


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


def database_backends(database: str) -> list[int]:
    """PostgreSQL's backend processes serving `database` (their titles name it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and f" {database} ".encode() in title:
                found.append(int(entry.name))
    return found


class CpuMeter:
    """CPU time spent meanwhile by a set of processes that may come and go (PostgreSQL opens a
    backend per new connection): polled, so a process that ends keeps what it was last seen
    using; one that starts counts from zero."""

    def __init__(self, processes):
        self.processes = processes  # () -> list of pids
        self.start: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="cpu-meter", daemon=True)

    def __enter__(self) -> CpuMeter:
        self.start = {pid: cpu_seconds(pid) for pid in self.processes()}
        self.last = dict(self.start)
        self._thread.start()
        return self

    def _sample(self) -> None:
        for pid in self.processes():
            used = cpu_seconds(pid)
            if used:
                self.last[pid] = max(used, self.last.get(pid, 0.0))

    def _poll(self) -> None:
        while not self._stop.wait(0.25):
            self._sample()

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def seconds(self) -> float:
        return sum(used - self.start.get(pid, 0.0) for pid, used in self.last.items())


@dataclass
class Delivery:
    seconds: float
    dispatch_seconds: float
    messages: int
    duplicates: int
    cpu: dict[str, float]  # CPU seconds per part


def deliver_once(dataset: Dataset, sink: SmtpSink, worker: CeleryWorker, database: str) -> Delivery:
    from nudges.loadtest import forget_deliveries

    expected = len(dataset.nudge_ids)
    forget_deliveries()
    sink.reset()
    workers = CpuMeter(lambda: [worker.process.pid, *children(worker.process.pid)])
    backends = CpuMeter(lambda: database_backends(database))
    sink_started = sink.cpu_seconds()
    with workers, backends:
        started, dispatch_cpu = time.monotonic(), time.thread_time()
        DISPATCH(dataset.nudge_due_at)
        dispatched, dispatch_cpu = time.monotonic(), time.thread_time() - dispatch_cpu
        arrived = sink.wait_for(expected, timeout=DELIVERY_TIMEOUT_S)
        require(arrived, f"nudges: {sink.messages} of {expected} arrived in {DELIVERY_TIMEOUT_S} s")
        elapsed = sink.arrival_of(expected) - started
        time.sleep(1)  # a late copy (a chunk sent twice) would arrive now
    require(
        sink.messages == expected and sink.duplicates == 0,
        f"nudges: {sink.messages} messages for {expected} learners, {sink.duplicates} duplicates",
    )
    return Delivery(
        seconds=elapsed,
        dispatch_seconds=dispatched - started,
        messages=sink.messages,
        duplicates=sink.duplicates,
        cpu={
            "worker": workers.seconds,
            "database": backends.seconds,
            "dispatcher": dispatch_cpu,
            "smtp_sink": sink.cpu_seconds() - sink_started,
        },
    )


def measure(dataset: Dataset, scale: Scale) -> dict[str, float]:
    from django.db import connection

    database = connection.settings_dict["NAME"]
    sink = SmtpSink().start()
    env = os.environ | {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "EMAIL_USE_TLS": "0",
    }
    worker = CeleryWorker(env)
    runs: list[Delivery] = []
    try:
        worker.wait_ready()
        deliver_once(dataset, sink, worker, database)  # warm-up: imports, connections, caches
        for _ in range(scale.nudge_runs):
            runs.append(deliver_once(dataset, sink, worker, database))
        rss = worker.rss_mb()
    finally:
        worker.stop()
        sink.stop()
    messages = len(dataset.nudge_ids)
    cores = os.cpu_count() or 1
    per_message = {
        part: median([run.cpu[part] for run in runs]) * 1000 / messages for part in runs[0].cpu
    }
    cpu_total = median([sum(run.cpu.values()) for run in runs])
    return {
        "nudge_10k_s": median([run.seconds for run in runs]),
        "nudge_duplicates": max(run.duplicates for run in runs),
        "worker_rss_mb": rss,
        "nudge_messages": messages,
        "nudge_runs_s": [round(run.seconds, 2) for run in runs],
        "nudge_dispatch_s": median([run.dispatch_seconds for run in runs]),
        **{f"nudge_{part}_cpu_ms_per_message": ms for part, ms in per_message.items()},
        "nudge_cpu_ms_per_message": sum(per_message.values()),
        "nudge_cpu_bound_s": cpu_total / cores,
    }
