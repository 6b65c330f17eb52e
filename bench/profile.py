"""Where the time goes, on a database a run kept (`python -m bench --keep-db`):

    python -m bench.profile waymark_bench_12345 mark-done    # cProfile + the queries, grouped
    python -m bench.profile waymark_bench_12345 track-page
    python -m bench.profile waymark_bench_12345 http-page    # the 25-resource page of the load
    python -m bench.profile waymark_bench_12345 dashboard    # the 2,000-member cohort's page
    python -m bench.profile waymark_bench_12345 nudge-chunk  # one chunk of 500 weekly nudges
    python -m bench.profile waymark_bench_12345 http-page --median 300  # timed first, unprofiled

Each action runs a few times first (warm caches), then once under cProfile and once counting
queries. Mark-done posts change the kept database (they finish more resources).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import secrets
import statistics
import time
from collections import Counter

from .environment import DEFAULT_REDIS, DEFAULT_SERVER, server_of


def configure(database: str) -> None:
    server = server_of(os.environ.get("DATABASE_URL", "").strip() or DEFAULT_SERVER)
    os.environ.update(
        {
            "DATABASE_URL": f"{server}/{database}",
            "REDIS_URL": os.environ.get("REDIS_URL", "").strip() or DEFAULT_REDIS,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SITE_URL": "https://bench.waymark.invalid",
            "ALLOWED_HOSTS": "testserver",
            "BEHIND_TLS_PROXY": "1",
        }
    )
    import django

    django.setup()


def query_shapes(queries: list[dict]) -> list[tuple[int, float, str]]:
    """(count, total ms, SQL with literals blanked), slowest first."""

    def shape(sql: str) -> str:
        sql = re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", sql)
        return re.sub(r"\b\d+\b|'[^']*'", "?", sql)[:200]

    counts: Counter[str] = Counter()
    times: Counter[str] = Counter()
    for query in queries:
        counts[shape(query["sql"])] += 1
        times[shape(query["sql"])] += query["ms"]
    return [(counts[sql], ms, sql) for sql, ms in times.most_common()]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("database")
    parser.add_argument(
        "action", choices=["mark-done", "track-page", "http-page", "dashboard", "nudge-chunk"]
    )
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--runs", type=int, default=10, help="requests under the profiler")
    parser.add_argument(
        "--median",
        type=int,
        default=0,
        metavar="N",
        help="first time N requests without the profiler and print their median",
    )
    args = parser.parse_args()
    configure(args.database)
    if args.action == "nudge-chunk":
        from .nudge_profile import profile_chunk

        profile_chunk(top=args.top)
        return

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count, Q

    from curriculum.models import Resource

    from .curriculum import HTTP_TRACK, track_slug
    from .inprocess import logged_in_client, post_done

    User = get_user_model()
    big = track_slug(0)
    if args.action == "mark-done":
        learner = User.objects.get(username="bench-heavy")
        fresh = iter(
            Resource.objects.filter(track__slug=big)
            .exclude(progress__learner=learner)
            .order_by("module__position", "position")
            .values_list("slug", flat=True)
        )
        client = logged_in_client(learner.pk)

        def action():
            return post_done(client, f"/tracks/{big}/items/{next(fresh)}/status")
    elif args.action == "dashboard":
        learner = User.objects.get(username="bench-cohort-admin")
        client = logged_in_client(learner.pk)

        def action():
            return client.get("/cohorts/bench-cohort/")
    else:
        slug = big if args.action == "track-page" else HTTP_TRACK
        prefix = "bench-member-" if args.action == "track-page" else "bench-http-"
        learner = (
            User.objects.filter(username__startswith=prefix)
            .annotate(done=Count("progress", filter=Q(progress__status="done")))
            .order_by("-done")
            .first()
        )
        client = logged_in_client(learner.pk)

        def action():
            return client.get(f"/tracks/{slug}/")

    for _ in range(3):
        action()
    if args.median:
        runs = []
        for _ in range(args.median):
            started = time.perf_counter()
            action()
            runs.append(time.perf_counter() - started)
        print(
            f"{args.action}: median of {args.median} requests {statistics.median(runs) * 1000:.2f} ms"
        )
    started = time.perf_counter()
    response = action()
    print(
        f"{args.action}: HTTP {response.status_code}, {len(response.content):,} bytes, "
        f"{(time.perf_counter() - started) * 1000:.1f} ms (learner {learner.username})"
    )
    captured = []

    def timing(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            captured.append({"sql": sql, "ms": (time.perf_counter() - started) * 1000})

    with connection.execute_wrapper(timing):
        action()
    total = sum(q["ms"] for q in captured)
    print(f"\n{len(captured)} queries, {total:.1f} ms waiting on PostgreSQL, slowest first:")
    for count, ms, sql in query_shapes(captured):
        print(f"  {count:>2} x {ms:6.2f} ms  {sql}")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.runs):
        action()
    profiler.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(args.top)
        print(f"\n--- cProfile of {args.runs} requests, by {order} ---")
        print(out.getvalue().split("\n\n", 1)[-1])


if __name__ == "__main__":
    main()
