"""Liveness of what Waymark depends on, for /healthz. Each probe is bounded in time."""

from __future__ import annotations

import time

import redis
from django.conf import settings
from django.db import connection


def _timed(probe) -> dict:
    started = time.perf_counter()
    try:
        detail = probe()
    except Exception as exc:  # a health probe reports every failure, whatever its kind
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    result = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if detail:
        result.update(detail)
    return result


def check_database() -> dict:
    def probe():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"vendor": connection.vendor}

    return _timed(probe)


def check_broker() -> dict:
    def probe():
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1
        )
        try:
            client.ping()
        finally:
            client.close()
        return None

    return _timed(probe)


def check_all() -> dict:
    return {"database": check_database(), "broker": check_broker()}
