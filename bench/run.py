"""Benchmarks (not tests): `make bench`. Prints query counts and latencies for the pages and
actions that matter, against the database DATABASE_URL names (a scratch SQLite file by
default), next to the targets: the peer LMS's figures in shared/notes/measured.md, 3x better.

    make bench                       # SQLite scratch database
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/waymark_bench make bench
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = (
        f"sqlite:///{tempfile.mkdtemp(prefix='waymark-bench-')}/bench.sqlite3"
    )
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

import django  # noqa: E402

django.setup()


def ensure_database() -> None:
    """A PostgreSQL DATABASE_URL may name a database that does not exist yet: create it."""
    from django.db import connections
    from django.db.utils import OperationalError

    try:
        connections["default"].ensure_connection()
    except OperationalError:
        if connections["default"].vendor != "postgresql":
            raise
        name = connections["default"].settings_dict["NAME"]
        with connections["default"]._nodb_cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        print(f"created database {name}")


ensure_database()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.data import build_cohort, write_big_track  # noqa: E402

# (what, peer's queries, peer's p50 ms) from shared/notes/measured.md; targets are 3x better.
PEER = {
    "mark done (htmx POST)": (35, 54),
    "track page": (33, 70),
    "learner dashboard": (24, 47),
    "home (track list)": (17, 37),
}


def measure(label: str, request, repeat: int = 40) -> tuple[str, int, float, float]:
    request()  # warm up
    # DEBUG keeps a bounded log of queries: once building the cohort has filled it, its length
    # stops growing and a capture would count nothing. Start from an empty log.
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = request()
    if response is not None and response.status_code >= 400:
        raise SystemExit(f"{label}: HTTP {response.status_code}, nothing to measure")
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        request()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return label, len(queries), statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def main() -> None:
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} ({os.environ['DATABASE_URL'].split('@')[-1]})")

    big = write_big_track(
        Path(tempfile.mkdtemp()) / "big.yaml", modules=40, resources_per_module=50
    )
    from curriculum.loader import load_paths

    for attempt in ("first load", "reload (no change)"):
        started = time.perf_counter()
        report = load_paths([str(big)])
        print(
            f"load_curriculum 2,000 resources, {attempt}: {(time.perf_counter() - started):.2f} s  [{report.summary_line()}]"
        )
    load_paths([str(ROOT / "seeds")])

    learner, track, resources = build_cohort(learners=int(os.environ.get("BENCH_LEARNERS", "300")))
    client = Client()
    client.force_login(learner)
    cycle = iter(range(10**9))

    def mark_done():
        resource = resources[next(cycle) % len(resources)]
        status = "done" if next(cycle) % 2 else "in_progress"
        return client.post(
            f"/tracks/{track.slug}/items/{resource.slug}/status",
            {"status": status},
            HTTP_HX_REQUEST="true",
        )

    rows = [
        measure("home (track list)", lambda: client.get("/")),
        measure("track page", lambda: client.get(f"/tracks/{track.slug}/")),
        measure("mark done (htmx POST)", mark_done),
        measure("learner dashboard", lambda: client.get("/me/")),
    ]
    print()
    print(f"{'page or action':<26}{'queries':>8}{'p50 ms':>9}{'p95 ms':>9}   target (3x the peer)")
    for label, count, p50, p95 in rows:
        peer_q, peer_ms = PEER[label]
        ok = count <= peer_q / 3 and p50 <= peer_ms / 3
        print(
            f"{label:<26}{count:>8}{p50:>9.1f}{p95:>9.1f}   <= {peer_q / 3:.0f} queries, <= {peer_ms / 3:.0f} ms  {'ok' if ok else 'MISSED'}"
        )
    reset_queries()


if __name__ == "__main__":
    main()
