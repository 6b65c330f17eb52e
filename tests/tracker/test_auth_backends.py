"""`tracker.auth_backends`: the signed-in user is loaded with one prepared statement, through
Django's and allauth's own rules; sessions from before these backends stay signed in."""

from __future__ import annotations

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from tracker.auth_backends import RENAMED

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def signed_in_as(client) -> str | None:
    """Who /me/ greets (None when it sends the visitor to the log-in form)."""
    response = client.get("/me/")
    if response.status_code == 302:
        return None
    assert response.status_code == 200
    return response.wsgi_request.user.email


def test_log_in_by_email_names_our_backend_and_loads_the_user(client):
    UserFactory(email="grace@example.com")
    response = client.post("/accounts/login/", {"login": "grace@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "tracker.auth_backends.AuthenticationBackend"
    with CaptureQueriesContext(connection) as captured:
        assert signed_in_as(client) == "grace@example.com"
    loads = [q["sql"] for q in captured.captured_queries if "auth_user" in q["sql"]]
    assert loads and loads[0].startswith("SELECT account.id,")


def test_a_wrong_password_is_refused(client):
    UserFactory(email="grace@example.com")
    response = client.post("/accounts/login/", {"login": "grace@example.com", "password": "no"})
    assert response.status_code == 200 and SESSION_KEY not in client.session
    assert signed_in_as(client) is None


@pytest.mark.parametrize("old_path", sorted(RENAMED))
def test_a_session_from_before_stays_signed_in_under_the_new_name(client, old_path):
    user = UserFactory(email="ada@example.com")
    client.force_login(user)
    session = client.session
    session[BACKEND_SESSION_KEY] = old_path
    session.save()

    assert signed_in_as(client) == "ada@example.com"
    assert client.session[BACKEND_SESSION_KEY] == RENAMED[old_path]
    assert signed_in_as(client) == "ada@example.com"


def test_a_session_naming_an_unknown_backend_is_still_signed_out(client):
    client.force_login(UserFactory())
    session = client.session
    session[BACKEND_SESSION_KEY] = "somewhere.else.Backend"
    session.save()
    assert signed_in_as(client) is None


def test_a_deactivated_or_deleted_user_is_signed_out(client):
    user = UserFactory()
    client.force_login(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert signed_in_as(client) is None

    other = UserFactory()
    client.force_login(other)
    other.delete()
    assert signed_in_as(client) is None


def test_a_changed_password_signs_other_sessions_out(client):
    user = UserFactory()
    client.force_login(user)
    user.set_password("another long passphrase")
    user.save()
    assert signed_in_as(client) is None


def test_the_user_is_loaded_prepared_on_postgresql(require_postgres, client):
    client.force_login(UserFactory(email="ada@example.com"))
    assert signed_in_as(client) == "ada@example.com"
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        texts = [row[0] for row in cursor.fetchall()]
    assert any('FROM "auth_user" account' in text for text in texts)


def test_an_id_that_is_not_a_number_finds_nobody(db):
    from tracker.auth_backends import ModelBackend

    user = UserFactory()
    assert ModelBackend().get_user(str(user.pk)) == user
    assert ModelBackend().get_user("not-a-number") is None
    assert ModelBackend().get_user(user.pk + 1000) is None
