"""The targets of issue 15, the printed table and the JSON file."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# (key, unit, how it is printed)
FIGURES = [
    ("yaml_parse_s", "s", "{:.3f}"),
    ("import_cold_s", "s", "{:.3f}"),
    ("import_noop_s", "s", "{:.3f}"),
    ("request_floor_ms_median", "ms", "{:.2f}"),
    ("mark_done_ms_median", "ms", "{:.1f}"),
    ("mark_done_ms_p95", "ms", "{:.1f}"),
    ("mark_done_queries", "", "{:.0f}"),
    ("mark_done_bytes", "B", "{:,.0f}"),
    ("track_page_ms_median", "ms", "{:.1f}"),
    ("track_page_queries", "", "{:.0f}"),
    ("track_page_bytes", "B", "{:,.0f}"),
    ("dashboard_ms_median", "ms", "{:.1f}"),
    ("dashboard_uncached_chart_ms_median", "ms", "{:.1f}"),
    ("dashboard_queries", "", "{:.0f}"),
    ("dashboard_sql_floor_ms", "ms", "{:.1f}"),
    ("nudge_10k_s", "s", "{:.2f}"),
    ("nudge_duplicates", "", "{:.0f}"),
    ("http_rps", "req/s", "{:,.0f}"),
    ("http_p99_ms", "ms", "{:.1f}"),
    ("http_errors", "", "{:.0f}"),
    ("http_floor_rps", "req/s", "{:,.0f}"),
    ("web_rss_mb", "MB", "{:.0f}"),
    ("worker_rss_mb", "MB", "{:.0f}"),
]
KEYS = [key for key, _, _ in FIGURES]


@dataclass(frozen=True)
class Target:
    text: str
    met: Callable[[dict], bool]
    needs: tuple[str, ...]  # the figures the verdict reads


def _t(text: str, needs: tuple[str, ...], met: Callable[[dict], bool]) -> Target:
    return Target(text, met, needs)


TARGETS: dict[str, Target] = {
    "import_cold_s": _t(
        "<= 10 x yaml_parse_s",
        ("import_cold_s", "yaml_parse_s"),
        lambda r: r["import_cold_s"] <= 10 * r["yaml_parse_s"],
    ),
    "import_noop_s": _t(
        "<= 3 x yaml_parse_s",
        ("import_noop_s", "yaml_parse_s"),
        lambda r: r["import_noop_s"] <= 3 * r["yaml_parse_s"],
    ),
    "mark_done_ms_median": _t(
        "<= 8", ("mark_done_ms_median",), lambda r: r["mark_done_ms_median"] <= 8
    ),
    "mark_done_ms_p95": _t("<= 20", ("mark_done_ms_p95",), lambda r: r["mark_done_ms_p95"] <= 20),
    "mark_done_queries": _t(
        "<= 8, same at 10 prior",
        ("mark_done_queries", "mark_done_queries_at_10"),
        lambda r: (
            r["mark_done_queries"] <= 8 and r["mark_done_queries"] == r["mark_done_queries_at_10"]
        ),
    ),
    "mark_done_bytes": _t("<= 8,000", ("mark_done_bytes",), lambda r: r["mark_done_bytes"] <= 8000),
    "track_page_ms_median": _t(
        "<= 60", ("track_page_ms_median",), lambda r: r["track_page_ms_median"] <= 60
    ),
    "track_page_queries": _t(
        "<= 10", ("track_page_queries",), lambda r: r["track_page_queries"] <= 10
    ),
    "dashboard_ms_median": _t(
        "<= 150 and <= 2 x floor",
        ("dashboard_ms_median", "dashboard_sql_floor_ms"),
        lambda r: (
            r["dashboard_ms_median"] <= 150
            and r["dashboard_ms_median"] <= 2 * r["dashboard_sql_floor_ms"]
        ),
    ),
    "dashboard_uncached_chart_ms_median": _t(
        "< 100 (issue 13)",
        ("dashboard_uncached_chart_ms_median",),
        lambda r: r["dashboard_uncached_chart_ms_median"] < 100,
    ),
    "dashboard_queries": _t(
        "<= 12", ("dashboard_queries",), lambda r: r["dashboard_queries"] <= 12
    ),
    "nudge_10k_s": _t("<= 20", ("nudge_10k_s",), lambda r: r["nudge_10k_s"] <= 20),
    "nudge_duplicates": _t("= 0", ("nudge_duplicates",), lambda r: r["nudge_duplicates"] == 0),
    "http_rps": _t(
        ">= 250 or >= 5% of floor",
        ("http_rps", "http_floor_rps"),
        lambda r: r["http_rps"] >= 250 or r["http_rps"] >= 0.05 * r["http_floor_rps"],
    ),
    "http_p99_ms": _t("<= 150", ("http_p99_ms",), lambda r: r["http_p99_ms"] <= 150),
    "http_errors": _t("= 0", ("http_errors",), lambda r: r["http_errors"] == 0),
    "web_rss_mb": _t("<= 120", ("web_rss_mb",), lambda r: r["web_rss_mb"] <= 120),
    "worker_rss_mb": _t("<= 150", ("worker_rss_mb",), lambda r: r["worker_rss_mb"] <= 150),
}


def verdict(key: str, results: dict) -> bool | None:
    """True/False against the target; None when there is no target or a figure is missing."""
    target = TARGETS.get(key)
    if target is None or any(results.get(k) is None for k in target.needs):
        return None
    return target.met(results)


def machine() -> dict:
    from django import get_version
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (pg,) = cursor.fetchone()
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    import redis
    from django.conf import settings

    try:
        redis_version = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).info()[
            "redis_version"
        ]
    except redis.RedisError as error:
        redis_version = f"unreachable: {error}"
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "django": get_version(),
        "postgresql": pg,
        "redis": redis_version,
        "load_average_at_end": os.getloadavg(),
    }


def table(results: dict, missing: dict[str, str]) -> str:
    lines = [f"{'figure':<24}{'value':>14}  {'unit':<6}{'target':<26}verdict"]
    for key, unit, fmt in FIGURES:
        value = results.get(key)
        shown = "n/a" if value is None else fmt.format(value)
        target = TARGETS.get(key)
        met = verdict(key, results)
        mark = "" if target is None else ("n/a" if met is None else "ok" if met else "MISSED")
        lines.append(f"{key:<24}{shown:>14}  {unit:<6}{target.text if target else '':<26}{mark}")
    if "mark_done_queries_at_10" in results:
        lines.append(
            f"(mark-done queries at {results.get('mark_done_prior_completions')} prior "
            f"completions: {results.get('mark_done_queries')}; at 10: "
            f"{results.get('mark_done_queries_at_10')})"
        )
    if "nudge_cpu_ms_per_message" in results:
        parts = ", ".join(
            f"{part} {results[f'nudge_{part}_cpu_ms_per_message']:.2f}"
            for part in ("worker", "database", "dispatcher", "smtp_sink")
        )
        lines.append(
            f"(nudges: runs {results['nudge_runs_s']} s, dispatcher {results['nudge_dispatch_s']:.2f}"
            f" s; CPU per message {results['nudge_cpu_ms_per_message']:.2f} ms ({parts}); "
            f"that CPU over {os.cpu_count()} cores: {results['nudge_cpu_bound_s']:.1f} s)"
        )
    for reason in dict.fromkeys(missing.values()):
        keys = ", ".join(k for k, r in missing.items() if r == reason)
        lines.append(f"not available: {keys}: {reason}")
    return "\n".join(lines)


def write_json(path: Path, *, results: dict, missing: dict[str, str], meta: dict) -> None:
    document = {key: results.get(key) for key in KEYS}
    document |= {k: v for k, v in results.items() if k not in document}
    document["not_available"] = missing
    document["targets"] = {
        key: {"target": target.text, "met": verdict(key, results)}
        for key, target in TARGETS.items()
    }
    document |= meta
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
