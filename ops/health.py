"""Liveness of what Waymark depends on, for /healthz. Each probe is bounded in time.

The public sees `ok` per component and nothing else; staff (or a monitor that sends the
HEALTHZ_TOKEN) also see the error text, the vendor and the timings."""

from __future__ import annotations

import time

import redis
from django.conf import settings
from django.db import connection

PROBE_TIMEOUT_SECONDS = 0.5


def _timed(probe) -> dict:
    started = time.perf_counter()
    try:
        detail = probe()
    except Exception as exc:  # a health probe reports every failure, whatever its kind
        return {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}"[:300],
            "ms": _ms(started),
        }
    return {"ok": True, "ms": _ms(started), **(detail or {})}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def check_database() -> dict:
    def probe():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"vendor": connection.vendor}

    return _timed(probe)


def _ping_redis(url: str) -> None:
    client = redis.Redis.from_url(
        url, socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


def check_broker() -> dict:
    return _timed(lambda: _ping_redis(settings.CELERY_BROKER_URL))


def check_cache() -> dict:
    """The shared cache: Redis when configured (with the failover state of this process),
    else the database cache."""
    from django.core.cache import caches

    if "redis" not in settings.CACHES:

        def probe():
            caches["default"].get("healthz-probe")
            return {"backend": "database"}

        return _timed(probe)

    def probe():
        _ping_redis(settings.REDIS_URL)
        return {"backend": "redis", "failover_open": _failover_open()}

    result = _timed(probe)
    if not result["ok"]:
        # Requests keep working on the database cache: say so rather than only "down".
        result["fallback"] = "database"
    return result


def _failover_open() -> bool:
    from .cache import circuit_for

    return circuit_for("redis").is_open


def check_all() -> dict:
    return {"database": check_database(), "cache": check_cache(), "broker": check_broker()}


def public_view(report: dict) -> dict:
    """Only whether each component works: no hosts, error text or timings."""
    return {name: {"ok": part["ok"]} for name, part in report.items()}
