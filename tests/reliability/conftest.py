"""Fixtures for fault tests: private Redis instances (stopped, paused or hung on purpose) and
the app's cache pointed at them. The shared Redis on 6379 is never touched."""

from __future__ import annotations

import shutil

import pytest
from django.conf import settings as django_settings

from ops.cache import reset_circuits
from scripts.private_services import HungListener, PrivateRedis
from tests.conftest import missing_service

RETRY_AFTER = 1  # seconds the failover waits before trying Redis again (10 in production)


def failover_caches(redis_url: str) -> dict:
    """The production CACHES shape (config/settings.py), with Redis at `redis_url`."""
    caches = {alias: dict(conf) for alias, conf in django_settings.CACHES.items()}
    database = caches.get("database") or caches["default"]
    return {
        "default": {
            "BACKEND": "ops.cache.FailoverCache",
            "OPTIONS": {"PRIMARY": "redis", "FALLBACK": "database", "RETRY_AFTER": RETRY_AFTER},
        },
        "redis": {
            "BACKEND": "ops.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": database.get(
                "KEY_PREFIX", "waymark"
            ),  # this test run's (see tests/conftest.py)
            "OPTIONS": {"socket_timeout": 0.25, "socket_connect_timeout": 0.25},
        },
        "database": database,
    }


@pytest.fixture
def private_redis():
    if shutil.which("redis-server") is None:
        missing_service("redis-server is not installed")
    reset_circuits()
    with PrivateRedis() as redis:
        yield redis
    reset_circuits()


@pytest.fixture
def hung_redis():
    reset_circuits()
    with HungListener() as hung:
        yield hung
    reset_circuits()


@pytest.fixture
def cache_on(settings):
    """cache_on(url): the app's cache and sessions as in production, with Redis at `url`."""

    def point(redis_url: str) -> None:
        reset_circuits()
        settings.CACHES = failover_caches(redis_url)
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

    yield point
    reset_circuits()
