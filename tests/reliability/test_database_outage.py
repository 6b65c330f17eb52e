"""The database unreachable: every page answers at once with a page that says so (503 and
Retry-After), rendered without the database, and nothing is half-written."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test import Client

from scripts.private_services import free_port
from tests.factories import ResourceFactory, UserFactory
from tracker.models import Progress


@pytest.fixture
def database_unreachable(require_postgres, transactional_db):
    """Point this process's connection at a closed port: the next query fails for real."""
    original = dict(connection.settings_dict)

    def cut() -> None:
        connection.close()
        connection.settings_dict["PORT"] = str(free_port())

    yield cut
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(original)


def test_pages_and_clicks_answer_a_fast_friendly_503(database_unreachable):
    learner = UserFactory()
    resource = ResourceFactory()
    client = Client(raise_request_exception=False)
    client.force_login(learner)
    client.post(f"/tracks/{resource.track.slug}/enrol")
    url = f"/tracks/{resource.track.slug}/items/{resource.slug}/status"

    database_unreachable()
    for method, path, data in [
        ("get", "/me/", None),
        ("get", resource.track.get_absolute_url(), None),
        ("post", url, {"status": "done"}),
    ]:
        started = time.perf_counter()
        response = getattr(client, method)(path, data)
        assert time.perf_counter() - started < 1.0
        assert response.status_code == 503, path
        assert response["Retry-After"] == "5"
        body = response.content.decode()
        assert "Back in a moment" in body and "nothing was changed" in body
        assert "Traceback" not in body and "psycopg" not in body


def test_after_the_outage_it_recovers_by_itself(database_unreachable):
    learner = UserFactory()
    resource = ResourceFactory()
    client = Client(raise_request_exception=False)
    client.force_login(learner)
    client.post(f"/tracks/{resource.track.slug}/enrol")
    original_port = connection.settings_dict["PORT"]

    database_unreachable()
    url = f"/tracks/{resource.track.slug}/items/{resource.slug}/status"
    assert client.post(url, {"status": "done"}).status_code == 503
    connection.close()
    connection.settings_dict["PORT"] = original_port

    assert not Progress.objects.filter(learner=learner).exists()  # nothing half-written
    assert client.post(url, {"status": "done"}).status_code == 302
    assert Progress.objects.get(learner=learner).status == "done"
