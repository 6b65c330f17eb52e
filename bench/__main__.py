"""`python -m bench [--scale small|full] [--out FILE] [--keep-db]`: see bench/__init__.py and
docs/performance.md. Runs against PostgreSQL (the server DATABASE_URL names, default
postgres://postgres@127.0.0.1:5432) and Redis (REDIS_URL), in a database of its own that it
creates and drops."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from .environment import prepare
from .scales import SCALES


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--out", type=Path, default=Path("bench-results.json"))
    parser.add_argument(
        "--keep-db",
        action="store_true",
        help="leave the generated database in place (for profiling); its name is printed",
    )
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated stages to leave out: loading, mark_done, track_page, "
        "dashboard, nudges, http (their figures are then null)",
    )
    return parser.parse_args(argv)


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def main(argv: list[str] | None = None) -> None:
    args = arguments(sys.argv[1:] if argv is None else argv)
    scale = SCALES[args.scale]
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    database = prepare()
    step(f"scale {scale.name}: database {database.name} on {database.server_url}")
    try:
        run(scale, skip, args.out)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep_db:
            print(f'kept database {database.name}: DROP DATABASE "{database.name}" when done')
        else:
            database.drop()


def run(scale, skip: set[str], out: Path) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from curriculum.loader import load_paths

    from . import cohort_dashboard, consistency, curriculum, inprocess, learners, nudge_run, report
    from .http_load import measure_http
    from .inprocess import logged_in_client, row_statuses, session_cookie
    from .timing import require

    if "http" not in skip:  # fail now, not after the stages before it
        from .http_load import require_wrk

        require_wrk()
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)  # DEBUG is off: hashed files
    results: dict = {}
    missing: dict[str, str] = {}
    meta = {"scale": scale.name, "started_at": datetime.now(UTC).isoformat()}

    meta["load_average"] = {}

    def stage_done(name: str, message: str) -> None:
        """The machine's load after each stage: how noisy its figures are."""
        meta["load_average"][name] = os.getloadavg()[0]
        step(f"{message} (load average {meta['load_average'][name]:.1f})")

    def skipped(stage: str, keys: list[str]) -> bool:
        if stage in skip:
            missing.update(dict.fromkeys(keys, f"skipped (--skip {stage})"))
        return stage in skip

    # The YAML files are needed only until they are loaded; a run left one folder behind each.
    with tempfile.TemporaryDirectory(prefix="waymark-bench-") as name:
        folder = Path(name)
        paths = curriculum.write_tracks(folder / "tracks", scale)
        step(f"{len(paths)} tracks of {scale.resources_per_track} resources written to {folder}")
        if not skipped("loading", ["yaml_parse_s", "import_cold_s", "import_noop_s"]):
            results |= inprocess.measure_loading(paths, scale)
            stage_done("loading", "YAML parse and imports measured")
        else:
            load_paths([str(p) for p in paths])
        load_paths([str(curriculum.write_http_track(folder / "http"))])

    dataset = learners.build(scale, now=datetime.now(UTC))
    step(f"learners written: {dataset.counts}")
    consistency.check(dataset, twins=scale.twin_learners)
    step("generated data checked against the services: consistent")
    meta["data"] = dataset.counts

    if not skipped(
        "mark_done",
        ["mark_done_ms_median", "mark_done_ms_p95", "mark_done_queries", "mark_done_bytes"],
    ):
        results |= inprocess.measure_request_floor(dataset, scale)
        results |= inprocess.measure_mark_done(dataset, scale)
        stage_done("mark_done", "mark done measured")
    if not skipped(
        "track_page", ["track_page_ms_median", "track_page_queries", "track_page_bytes"]
    ):
        results |= inprocess.measure_track_page(dataset, scale)
        stage_done("track_page", "track page measured")

    dashboard_keys = [
        "dashboard_ms_median",
        "dashboard_uncached_chart_ms_median",
        "dashboard_queries",
        "dashboard_sql_floor_ms",
    ]
    if not skipped("dashboard", dashboard_keys):
        reason = cohort_dashboard.unavailable_reason()
        figures = None if reason else cohort_dashboard.measure(dataset, scale)
        if figures is None:
            reason = reason or "bench/cohort_dashboard.py does not create the bench cohort yet"
            missing.update(dict.fromkeys(dashboard_keys, reason))
        else:
            results |= figures
            stage_done("dashboard", "cohort dashboard measured")

    nudge_keys = ["nudge_10k_s", "nudge_duplicates", "worker_rss_mb"]
    if not skipped("nudges", nudge_keys):
        reason = nudge_run.unavailable_reason()
        if reason:
            missing.update(dict.fromkeys(nudge_keys, reason))
        else:
            results |= nudge_run.measure(dataset, scale)
            stage_done("nudges", "nudges measured")

    http_keys = ["http_rps", "http_p99_ms", "http_errors", "http_floor_rps", "web_rss_mb"]
    if not skipped("http", http_keys):
        clients = [logged_in_client(user_id) for user_id in dataset.http_ids]
        track = dataset.http_track

        def check_page(status: int, html: str) -> None:
            require(status == 200, f"HTTP track page: {status} (not logged in?)")
            require("is-done" in html and row_statuses(html), "HTTP track page: no progress shown")

        results |= measure_http(
            page_path=f"/tracks/{track.slug}/",
            cookies=[session_cookie(c) for c in clients],
            check_page=check_page,
            seconds=scale.http_seconds,
            warmup=scale.http_warmup_seconds,
        )
        stage_done("http", "HTTP load measured")

    meta["machine"] = report.machine()
    meta["duration_s"] = round(time.monotonic() - started, 1)
    print()
    print(report.table(results, missing))
    if scale.name != "full":
        print(f"({scale.name} scale is a smoke check: the targets are those of --scale full)")
    report.write_json(out, results=results, missing=missing, meta=meta)
    step(f"results written to {out} ({meta['duration_s']} s)")


if __name__ == "__main__":
    main()
