"""Load and fault runs against a private production-mode stack (see docs/reliability.md).

    .venv/bin/python scripts/reliability.py all              # every scenario (~6 minutes)
    .venv/bin/python scripts/reliability.py load --seconds 60 --learners 50
    .venv/bin/python scripts/reliability.py redis-faults | postgres-restart | concurrent-loads
                                            | sqlite-writers | two-instances | backup-restore

Each scenario starts its own PostgreSQL cluster (initdb, free port), Redis and gunicorn
processes, never the shared ones; prints what it measured; writes it to
var/reliability/<scenario>.json; and exits 1 when a promise is broken.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import backup  # noqa: E402
from scripts.learners import Browser, run_learners, summarize  # noqa: E402
from scripts.stack import PASSWORD, PYTHON, ROOT, Stack  # noqa: E402

RESULTS = ROOT / "var" / "reliability"


class Broken(Exception):
    """A promise did not hold."""


def promise(results: dict, name: str, held: bool, detail: object = "") -> None:
    results.setdefault("promises", {})[name] = {"held": bool(held), "detail": detail}
    mark = "ok  " if held else "FAIL"
    print(f"  [{mark}] {name}" + (f": {detail}" if detail not in ("", None) else ""), flush=True)


def show(title: str, summary: dict) -> None:
    keys = [
        "requests",
        "per_second",
        "marks",
        "marks_failed",
        "5xx",
        "500",
        "no_answer",
        "over_1s",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "max_ms",
    ]
    print(f"  {title}: " + ", ".join(f"{k} {summary[k]}" for k in keys), flush=True)
    if summary["errors"]:
        print(f"    errors: {summary['errors']}", flush=True)


# --- scenarios -----------------------------------------------------------------------------


def scenario_load(args) -> dict:
    """50 learners mark resources done and undone for 60 s on PostgreSQL + gunicorn."""
    results: dict = {}
    with Stack(database="postgres") as stack:
        accounts = stack.prepare(learners=args.learners)
        web = stack.gunicorn(workers=args.workers)
        run = run_learners([web.url], accounts, args.seconds)
        summary = summarize(run)
        show("load", summary)
        points = stack.check_points()
        totals = stack.check_totals()
        results.update(
            summary=summary,
            points=points,
            totals=totals,
            learners=args.learners,
            seconds=args.seconds,
            workers=args.workers,
        )
        promise(results, "zero 5xx", summary["5xx"] == 0, summary["5xx"])
        promise(results, "every request answered", summary["no_answer"] == 0, summary["no_answer"])
        promise(
            results,
            "zero failed progress writes",
            summary["marks_failed"] == 0,
            summary["marks_failed"],
        )
        promise(
            results,
            "points = ledger = recomputed from progress, for every learner",
            not points["drift"],
            f"{points['learners']} learners, {len(points['drift'])} drift",
        )
        promise(
            results,
            "repair_totals --check reports 0 drift",
            totals["drift"] == 0,
            f"{totals['enrolments']} enrolments, {totals['profiles']} profiles, "
            f"{totals['drift']} drift",
        )
    return results


def scenario_redis_faults(args) -> dict:
    """The same load while Redis is stopped, then back, then hung (SIGSTOP), then back."""
    results: dict = {}
    phases = [
        (0, "Redis up"),
        (12, "Redis stopped"),
        (27, "Redis back"),
        (37, "Redis hung"),
        (52, "Redis back again"),
    ]
    seconds = 60
    with Stack(database="postgres") as stack:
        accounts = stack.prepare(learners=args.learners)
        web = stack.gunicorn(workers=args.workers)
        redis = stack.redis_server
        port = redis.port

        def faults(run) -> None:
            def at(second: float) -> None:
                time.sleep(max(0.0, run.started + second - time.monotonic()))

            at(12)
            redis.stop()
            at(27)
            redis.port = port
            redis.start()
            at(37)
            redis.pause()
            at(52)
            redis.resume()

        run = run_learners([web.url], accounts, seconds, during=faults)
        summary = summarize(run)
        show("whole run", summary)
        windows = {}
        bounds = [start for start, _ in phases] + [seconds]
        for (start, name), end in zip(phases, bounds[1:], strict=True):
            windows[name] = summarize(run, (start, end))
            show(name, windows[name])
        points = stack.check_points()
        results.update(summary=summary, phases=windows, points=points)
        promise(
            results,
            "zero failed progress writes",
            summary["marks_failed"] == 0,
            summary["marks_failed"],
        )
        promise(results, "zero 5xx", summary["5xx"] == 0, summary["5xx"])
        promise(
            results,
            "every request answered within 1 s",
            summary["over_1s"] == 0,
            f"{summary['over_1s']} over, max {summary['max_ms']} ms "
            f"(log-ins p50 {summary['by_kind'].get('log in', {}).get('p50_ms', 0)} ms)",
        )
        logins = [h for h in run.hits if h.kind == "log in" and 12 <= h.at < 52]
        promise(
            results,
            "learners logged in while Redis was down or hung",
            logins and all(h.status == 302 for h in logins),
            f"{len(logins)} log-ins",
        )
        promise(
            results,
            "points = ledger = recomputed from progress",
            not points["drift"],
            f"{len(points['drift'])} drift",
        )
    return results


def scenario_postgres_restart(args) -> dict:
    """The load while PostgreSQL is stopped for 5 s and started again."""
    results: dict = {}
    seconds, down_at, down_for = 50, 15, 5
    with Stack(database="postgres") as stack:
        accounts = stack.prepare(learners=args.learners)
        web = stack.gunicorn(workers=args.workers)
        outage: dict[str, float] = {}

        def faults(run) -> None:
            time.sleep(max(0.0, run.started + down_at - time.monotonic()))
            outage["start"] = time.monotonic() - run.started
            stack.pg.stop("fast")
            time.sleep(down_for)
            stack.pg.start()
            outage["end"] = time.monotonic() - run.started

        run = run_learners([web.url], accounts, seconds, during=faults)
        summary = summarize(run)
        show("whole run", summary)
        during = summarize(run, (outage["start"], outage["end"]))
        after = summarize(run, (outage["end"] + 2, seconds))
        show("during the outage", during)
        show("2 s after, to the end", after)
        refused = [h for h in run.hits if h.status == 503]
        friendly = [h for h in refused if h.body_hint == "friendly 503"]
        points = stack.check_points()
        results.update(summary=summary, during=during, after=after, outage=outage, points=points)
        promise(
            results,
            "no 500 at any time (only the friendly 503)",
            summary["500"] == 0,
            summary["500"],
        )
        promise(
            results,
            "every 503 is the friendly page",
            len(friendly) == len(refused),
            f"{len(friendly)} of {len(refused)}",
        )
        promise(
            results,
            "503s answered within 1 s",
            all(h.seconds < 1.0 for h in refused),
            f"max {max((h.seconds for h in refused), default=0) * 1000:.0f} ms",
        )
        promise(
            results,
            "recovered by itself: no 5xx from 2 s after restart",
            after["5xx"] == 0,
            after["5xx"],
        )
        promise(
            results,
            "no half-written progress (points = ledger = recomputed)",
            not points["drift"],
            f"{len(points['drift'])} drift",
        )
    return results


def _load_counts(stack: Stack) -> dict:
    out = stack.python(
        "import json\nfrom curriculum.models import Track, Module, Resource, Capstone\n"
        "print(json.dumps({m.__name__: [m.objects.count(), "
        "m.objects.filter(archived_at__isnull=True).count()] "
        "for m in (Track, Module, Resource, Capstone)}))"
    )
    return json.loads(out.strip().splitlines()[-1])


def scenario_concurrent_loads(args) -> dict:
    """Two `load_curriculum seeds/` at once on the same database, PostgreSQL and SQLite."""
    results: dict = {}
    for database in ("postgres", "sqlite"):
        with Stack(database=database, redis=False) as stack:
            stack.manage("migrate", "--noinput")
            env = stack.env()
            started = time.monotonic()
            loads = [
                subprocess.Popen(
                    [PYTHON, "manage.py", "load_curriculum", "seeds/"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(2)
            ]
            outputs = [load.communicate(timeout=300) for load in loads]
            elapsed = time.monotonic() - started
            codes = [load.returncode for load in loads]
            counts = _load_counts(stack)
            again = stack.manage("load_curriculum", "seeds/").stdout.strip().splitlines()[-1]
            with Stack(database=database, redis=False) as reference:
                reference.manage("migrate", "--noinput")
                reference.manage("load_curriculum", "seeds/")
                expected = _load_counts(reference)
            last_lines = [
                out.strip().splitlines()[-1] if out.strip() else err.strip()[-200:]
                for out, err in outputs
            ]
            print(f"  {database}: exit codes {codes} in {elapsed:.1f} s: {last_lines}")
            print(f"  {database}: a third load says: {again}")
            results[database] = {
                "codes": codes,
                "outputs": last_lines,
                "counts": counts,
                "expected": expected,
                "reload": again,
                "seconds": round(elapsed, 1),
            }
            promise(results, f"{database}: both loads succeed", codes == [0, 0], codes)
            promise(results, f"{database}: the same rows as one load", counts == expected, counts)
            promise(
                results,
                f"{database}: a third load changes nothing",
                again.startswith("created 0, updated 0, archived 0"),
                again,
            )
    return results


def scenario_sqlite_writers(args) -> dict:
    """The zero-set-up default: SQLite, 8 learners writing without pause for 30 s."""
    results: dict = {}
    with Stack(database="sqlite", redis=False) as stack:
        accounts = stack.prepare(learners=8)
        web = stack.gunicorn(workers=4)
        run = run_learners([web.url], accounts, args.sqlite_seconds, think=(0.0, 0.0))
        summary = summarize(run)
        show("8 writers", summary)
        locked = web.log_text().count("database is locked")
        points = stack.check_points()
        results.update(summary=summary, locked=locked, points=points)
        promise(results, "0 'database is locked'", locked == 0, locked)
        promise(results, "zero 5xx", summary["5xx"] == 0, summary["5xx"])
        promise(
            results,
            "zero failed progress writes",
            summary["marks_failed"] == 0,
            summary["marks_failed"],
        )
        promise(
            results,
            "points = ledger = recomputed",
            not points["drift"],
            f"{len(points['drift'])} drift",
        )
    return results


def scenario_two_instances(args) -> dict:
    """Two gunicorn instances share one PostgreSQL and Redis; a round-robin client."""
    results: dict = {}
    with Stack(database="postgres") as stack:
        accounts = stack.prepare(learners=args.learners)
        a, b = stack.gunicorn(workers=2), stack.gunicorn(workers=2)
        account = accounts[0]
        slug, resource = account["track"], account["resources"][0]

        browser = Browser(a.url, "10.9.9.1")
        assert log_in_on(browser, a.url, account["email"])
        status_b, _, _ = browser.request("GET", "/me/", base_url=b.url)
        promise(results, "a session made on A is valid on B", status_b == 200, status_b)
        url = f"/tracks/{slug}/items/{resource}/status"
        marked, _, _ = browser.request("POST", url, {"status": "done"}, htmx=True, base_url=b.url)
        _, _, page_a = browser.request("GET", "/me/", base_url=a.url)
        points = re.search(r'data-testid="header-points">(\d+)<', page_a)
        promise(
            results,
            "progress marked on B shows on A (the points in A's header)",
            marked == 200 and points is not None and int(points.group(1)) > 0,
            points.group(1) if points else None,
        )
        browser.request("POST", "/accounts/logout/", base_url=a.url)
        after_logout, _, _ = browser.request("GET", "/me/", base_url=b.url)
        promise(results, "a log-out on A ends the session on B", after_logout == 302, after_logout)

        attacker = Browser(a.url, "10.9.9.2", urls=[a.url, b.url])
        victim = accounts[1]["email"]
        attacker.request("GET", "/accounts/login/", base_url=a.url)
        attacker.request("GET", "/accounts/login/", base_url=b.url)
        for _ in range(5):  # alternating A, B, A, B, A
            attacker.request("POST", "/accounts/login/", {"login": victim, "password": "guess"})
        refused = []
        for base in (a.url, b.url):
            _, _, text = attacker.request(
                "POST",
                "/accounts/login/",
                {"login": victim, "password": PASSWORD},
                base_url=base,
            )
            refused.append("Too many failed login attempts" in text)
        promise(
            results,
            "5 failed log-ins spread over A and B: the 6th refused on both",
            all(refused),
            refused,
        )

        run = run_learners([a.url, b.url], accounts[2:], args.seconds // 2)
        summary = summarize(run)
        show("round-robin load", summary)
        points = stack.check_points()
        results.update(summary=summary, points=points)
        promise(
            results,
            "round-robin load: zero 5xx, zero failed writes",
            summary["5xx"] == 0 and summary["marks_failed"] == 0,
            (summary["5xx"], summary["marks_failed"]),
        )
        promise(
            results,
            "points = ledger = recomputed",
            not points["drift"],
            f"{len(points['drift'])} drift",
        )
    return results


def log_in_on(browser: Browser, base_url: str, email: str) -> bool:
    browser.request("GET", "/accounts/login/", base_url=base_url)
    status, headers, _ = browser.request(
        "POST", "/accounts/login/", {"login": email, "password": PASSWORD}, base_url=base_url
    )
    return status == 302


def scenario_backup_restore(args) -> dict:
    """Back up, wipe, restore and compare: PostgreSQL (pg_dump/pg_restore) and SQLite."""
    results: dict = {}
    for database in ("postgres", "sqlite"):
        with Stack(database=database, redis=False) as stack:
            accounts = stack.prepare(learners=10)
            stack.python(
                "from django.contrib.auth import get_user_model\n"
                "from curriculum.models import Resource\nfrom tracker import services\n"
                "for user in get_user_model().objects.filter(username__startswith='load'):\n"
                "    for r in Resource.objects.filter(track__slug='fastai-part1')[:3]:\n"
                "        services.progress_set_status(learner=user, resource=r, status='done')\n"
                "        services.note_save(learner=user, resource=r, body='kept')\n"
            )
            del accounts
            dump = stack.dir / ("backup.dump" if database == "postgres" else "backup.sqlite3")
            before = backup.fingerprint(stack.database_url)
            started = time.monotonic()
            backup.back_up(stack.database_url, dump)
            backed_up = time.monotonic() - started
            backup.wipe(stack.database_url)
            wiped = backup.fingerprint(stack.database_url)
            started = time.monotonic()
            backup.restore(dump, stack.database_url)
            restored = time.monotonic() - started
            after = backup.fingerprint(stack.database_url)
            rows = sum(count for count, _ in before.values())
            print(
                f"  {database}: {len(before)} tables, {rows} rows; backup "
                f"{dump.stat().st_size / 1024:.0f} KB in {backed_up:.2f} s, restore "
                f"{restored:.2f} s"
            )
            results[database] = {
                "tables": len(before),
                "rows": rows,
                "backup_kb": round(dump.stat().st_size / 1024),
                "backup_s": round(backed_up, 2),
                "restore_s": round(restored, 2),
            }
            promise(results, f"{database}: the wipe emptied it", not wiped, len(wiped))
            promise(
                results,
                f"{database}: restored = backed up, table by table",
                after == before,
                sorted(k for k in before if before.get(k) != after.get(k))[:5],
            )
            points = stack.check_points()
            promise(results, f"{database}: points consistent after restore", not points["drift"])
    return results


SCENARIOS = {
    "load": scenario_load,
    "redis-faults": scenario_redis_faults,
    "postgres-restart": scenario_postgres_restart,
    "concurrent-loads": scenario_concurrent_loads,
    "sqlite-writers": scenario_sqlite_writers,
    "two-instances": scenario_two_instances,
    "backup-restore": scenario_backup_restore,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=[*SCENARIOS, "all"])
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--sqlite-seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    RESULTS.mkdir(parents=True, exist_ok=True)
    broken = []
    for name in names:
        print(f"== {name}: {SCENARIOS[name].__doc__.strip()}", flush=True)
        started = time.monotonic()
        results = SCENARIOS[name](args)
        results["elapsed_s"] = round(time.monotonic() - started, 1)
        results["when"] = time.strftime("%Y-%m-%d %H:%M:%S")
        (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2, default=str))
        broken += [f"{name}: {p}" for p, v in results.get("promises", {}).items() if not v["held"]]
    print("== " + ("every promise held" if not broken else f"BROKEN: {broken}"), flush=True)
    return 1 if broken else 0


if __name__ == "__main__":
    threading.excepthook = lambda hook: print(f"thread failed: {hook.exc_value!r}", flush=True)
    sys.exit(main())
