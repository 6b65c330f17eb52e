"""Every way to log in is rate-limited, the admin's included, and the counts are shared by
every process: two cache connections (threads) and two processes see the same attempts."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from ops.checks import shared_cache
from tests.factories import UserFactory

from .conftest import failover_caches

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
TOO_MANY = "Too many failed login attempts"


def fresh_client(n: int) -> Client:
    """A client from its own documentation address (RFC 5737), so per-IP counts of one test
    never reach another test that logs in from 127.0.0.1 through a shared Redis."""
    return Client(REMOTE_ADDR=f"192.0.2.{n}")


def fail_log_in(client: Client, email: str, times: int) -> None:
    for _ in range(times):
        response = client.post("/accounts/login/", {"login": email, "password": "wrong guess"})
        assert response.status_code in (200, 429)


@pytest.mark.django_db
def test_the_sixth_attempt_on_one_address_is_refused_even_with_the_right_password():
    client = fresh_client(1)
    user = UserFactory()
    fail_log_in(client, user.email, 5)
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert TOO_MANY in response.content.decode()
    assert client.get("/me/").status_code == 302


@pytest.mark.django_db
def test_log_in_attempts_per_address_are_limited_from_many_addresses(client):
    """The per-address count holds whatever IP the attempts come from."""
    user = UserFactory()
    for n in range(5):
        Client(REMOTE_ADDR=f"203.0.113.{n + 1}").post(
            "/accounts/login/", {"login": user.email, "password": "wrong guess"}
        )
    response = Client(REMOTE_ADDR="198.51.100.9").post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD}
    )
    assert TOO_MANY in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url, data",
    [
        ("/accounts/login/", {"login": "x@example.com", "password": "nope"}),
        ("/accounts/signup/", {"email": "not-an-email", "password1": "a", "password2": "b"}),
        ("/accounts/password/reset/", {"email": "x@example.com"}),
    ],
    ids=["log-in", "sign-up", "password-reset"],
)
def test_each_way_in_answers_429_past_its_per_ip_limit(url, data):
    client = fresh_client(10 + len(url))
    statuses = [client.post(url, data).status_code for _ in range(35)]
    assert 429 in statuses, statuses
    assert statuses.index(429) <= 30


@pytest.mark.django_db
def test_the_admin_never_takes_a_password_from_a_signed_in_learner(client):
    """A learner once could try staff passwords at /admin/login/ without any limit."""
    UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    learner = UserFactory()
    client.force_login(learner)
    for _ in range(3):
        response = client.post(
            "/admin/login/", {"username": "staff@example.com", "password": PASSWORD}
        )
        assert response.status_code == 403
        assert "not a staff account" in response.content.decode()
    assert client.get("/me/").wsgi_request.user == learner
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_the_admin_log_in_sends_everyone_else_to_the_rate_limited_form(client):
    UserFactory(email="staff@example.com", username="staff", is_staff=True, is_superuser=True)
    response = client.post(
        "/admin/login/?next=/admin/tracker/", {"username": "staff", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/tracker/"
    assert client.get("/admin/").status_code == 302  # the correct password logged nobody in


@pytest.mark.django_db
def test_the_admin_password_form_is_the_rate_limited_one(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.get("/admin/password_change/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/change/"


@pytest.mark.django_db
def test_staff_already_logged_in_go_straight_to_the_admin(client):
    client.force_login(UserFactory(is_staff=True))
    response = client.get("/admin/login/?next=/admin/tracker/")
    assert response.status_code == 302 and response["Location"] == "/admin/tracker/"
    off_site = client.get("/admin/login/?next=https://evil.example/")
    assert off_site["Location"] == "/admin/"


@pytest.mark.django_db(transaction=True)
def test_two_cache_connections_share_the_counts(settings):
    """Each thread gets its own cache object and database connection, as two gunicorn
    workers would: attempts counted through one are refused through the other."""
    user = UserFactory()

    worker = threading.Thread(target=fail_log_in, args=(fresh_client(3), user.email, 5))
    worker.start()
    worker.join()

    response = fresh_client(4).post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert TOO_MANY in response.content.decode()


CHILD = """
import django
django.setup()
from django.conf import settings
for conf in settings.CACHES.values():  # this test run's keys (see tests/conftest.py)
    if "KEY_PREFIX" in conf:
        conf["KEY_PREFIX"] = %r
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
for _ in range(5):
    Client(REMOTE_ADDR="192.0.2.5").post("/accounts/login/", {"login": %r, "password": "wrong guess"})
"""


@pytest.mark.services
@pytest.mark.parametrize("shared_cache_kind", ["database", "redis"])
def test_two_processes_share_the_counts(
    require_postgres, transactional_db, settings, shared_cache_kind, redis_client
):
    """Another process (a second gunicorn worker or machine) makes five failed attempts;
    this one then refuses the right password. With REDIS_URL unset the counts are in the
    database cache; with it, in Redis."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    db = connection.settings_dict
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    if shared_cache_kind == "database":
        env.pop("REDIS_URL", None)
        settings.CACHES = {"default": settings.CACHES.get("database", settings.CACHES["default"])}
    else:
        env["REDIS_URL"] = settings.CELERY_BROKER_URL
        settings.CACHES = failover_caches(settings.CELERY_BROKER_URL)
    assert "DatabaseCache" in settings.CACHES.get("database", settings.CACHES["default"])["BACKEND"]
    key_prefix = (
        settings.CACHES["default"].get("KEY_PREFIX") or settings.CACHES["database"]["KEY_PREFIX"]
    )
    user = UserFactory(email=f"two-processes-{shared_cache_kind}@example.com")
    child = subprocess.run(
        [sys.executable, "-c", CHILD % (key_prefix, user.email)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, child.stderr

    response = fresh_client(6).post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert TOO_MANY in response.content.decode()


def test_production_without_redis_uses_the_shared_database_cache():
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DEBUG"}}
    env.update(DEBUG="0", SECRET_KEY="x" * 60, SITE_URL="https://waymark.example")
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CACHES['default']['BACKEND'], s.SESSION_ENGINE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == [
        "django.core.cache.backends.db.DatabaseCache",
        "django.contrib.sessions.backends.db",
    ], result.stderr


def test_deploy_check_refuses_a_per_process_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [error.id for error in shared_cache(None)] == ["waymark.E001"]
    settings.CACHES = failover_caches("redis://127.0.0.1:1/0")
    assert shared_cache(None) == []
