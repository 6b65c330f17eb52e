"""Small helpers: timing, percentiles, counting queries."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext


class BenchFailure(SystemExit):
    """A measured action did not do what it should: there is no figure to report."""


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    rank = max(1, -(-95 * len(ordered) // 100))  # ceil(0.95 n)
    return ordered[rank - 1]


def timed(action: Callable[[], object]) -> tuple[float, object]:
    """(seconds, result)."""
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def repeat_timed(action: Callable[[], object], *, warmup: int, runs: int) -> list[float]:
    """Seconds of each of `runs` calls after `warmup` untimed ones."""
    return repeat_timed_cpu(action, warmup=warmup, runs=runs)[0]


def repeat_timed_cpu(
    action: Callable[[], object], *, warmup: int, runs: int
) -> tuple[list[float], list[float]]:
    """(wall seconds, this process's CPU seconds) of each of `runs` calls after `warmup`.
    On a shared machine the CPU time moves less than the wall time: it leaves out waiting for
    the CPU (and for PostgreSQL)."""
    for _ in range(warmup):
        action()
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    return wall, cpu


@contextmanager
def counting_queries():
    """Yields the list of queries run inside the block (the log starts empty)."""
    with CaptureQueriesContext(connection) as captured:
        yield captured


def require(condition: bool, message: str) -> None:
    if not condition:
        raise BenchFailure(f"bench: {message}")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, task: int | None = None) -> float:
    """User + system CPU time of a process (or one of its threads) so far; 0 once it is gone."""
    path = f"/proc/{pid}/task/{task}/stat" if task else f"/proc/{pid}/stat"
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
