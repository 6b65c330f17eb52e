"""Shared fixtures. Tests that need real services (Redis, PostgreSQL, a browser) skip locally
when those are missing, and fail under CI=true: CI must prove them, not skip them."""

from __future__ import annotations

import os
import uuid

import pytest
import redis as redis_lib
from django.conf import settings
from django.db import connection

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_configure(config):
    """Cache keys of this test run (rate-limit counts, cached sessions) are its own: a shared
    Redis would otherwise carry one run's failed log-ins into the next run's tests."""
    run = f"test-{uuid.uuid4().hex[:12]}"
    for conf in settings.CACHES.values():
        if "KEY_PREFIX" in conf:
            conf["KEY_PREFIX"] = run
    # Under `pytest -n` each process's Celery workers take tasks from its own queue: with one
    # shared queue, two worker tests running at once took each other's tasks. Celery reads its
    # settings on first use, after this; the workers started by tests inherit the environment.
    xdist_worker = os.environ.get("PYTEST_XDIST_WORKER")
    if xdist_worker and not settings.BROKER_KEY_PREFIX:
        prefix = f"{run}-{xdist_worker}:"
        os.environ["CELERY_KEY_PREFIX"] = settings.BROKER_KEY_PREFIX = prefix
        settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
            **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            "global_keyprefix": prefix,
        }


def missing_service(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing is deliberately slow; tests create many users and only need it correct."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def redis_client():
    client = redis_lib.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2
    )
    try:
        client.ping()
    except redis_lib.RedisError as exc:
        missing_service(f"Redis is not reachable at {settings.CELERY_BROKER_URL}: {exc}")
    yield client
    client.close()


@pytest.fixture
def require_postgres(db):
    if connection.vendor != "postgresql":
        missing_service("this test needs PostgreSQL (set DATABASE_URL=postgres://...)")


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture(autouse=True)
def fresh_structure_cache():
    """Each test starts with this process's cached curriculum structures (and the track page's
    rows rendered from them) forgotten: test databases roll back, so a track id and version can
    come back holding other rows."""
    from curriculum.structure import forget_structures
    from tracker.templatetags.track_page import kept_row

    forget_structures()
    kept_row.cache_clear()
    yield
    forget_structures()
    kept_row.cache_clear()
