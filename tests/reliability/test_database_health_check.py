"""ops.postgresql: a persistent connection is checked as each request starts using it, by asking
its socket first. A connection the server closed is replaced before the request's first query;
a healthy one is used as it is, with no `SELECT 1` round trip first."""

from __future__ import annotations

import select
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import close_old_connections, connection, connections

pytestmark = pytest.mark.usefixtures("require_postgres", "transactional_db")


@pytest.fixture
def persistent_connection():
    """This process's connection kept across requests, as CONN_MAX_AGE keeps it in production
    (the test settings close it after each)."""
    connection.ensure_connection()
    connection.close_at = None
    assert connection.health_check_enabled
    yield connection.connection
    connection.close()


@pytest.fixture
def full_checks(monkeypatch):
    """Counts Django's own health check (`SELECT 1`) as it runs."""
    ran = []
    wrapper = type(connections["default"])
    check = wrapper.is_usable

    def counted(self):
        ran.append(True)
        return check(self)

    monkeypatch.setattr(wrapper, "is_usable", counted)
    return ran


def request_starts() -> None:
    close_old_connections()  # what Django runs on request_started


def test_a_healthy_connection_is_used_without_a_check_query(persistent_connection, full_checks):
    for _ in range(3):
        request_starts()
        assert get_user_model().objects.count() >= 0
    assert connection.connection is persistent_connection
    assert full_checks == []


def test_a_connection_the_server_closed_is_replaced_before_the_first_query(
    persistent_connection, full_checks
):
    pid = persistent_connection.info.backend_pid
    admin = connections.create_connection("default")  # a second connection, as configured
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        admin.close()
    deadline = time.monotonic() + 5
    while not select.select([persistent_connection.pgconn.socket], [], [], 0.05)[0]:
        assert time.monotonic() < deadline, "the server did not close the connection"

    request_starts()
    assert get_user_model().objects.count() >= 0  # no "terminating connection" error
    assert connection.connection is not persistent_connection
    assert full_checks == [True]
