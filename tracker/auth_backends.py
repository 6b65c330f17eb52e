"""Django's and allauth's authentication backends, loading the signed-in user with one prepared
statement (`tracker.sql`): every signed-in request loads its user, and the ORM compiled that
query every time (docs/performance.md). Logging in, passwords and permissions are theirs.

Sessions name the backend that logged them in by dotted path, and Django signs out a session
whose backend is not in AUTHENTICATION_BACKENDS; sessions from before these classes name
Django's and allauth's own, so `ops.middleware.sessions_name_current_backends` renames them."""

from __future__ import annotations

from functools import cache

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends as django_backends
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from .sql import Statement, model_columns


@cache
def _user_by_id() -> Statement:
    user = get_user_model()
    columns = model_columns(user, "account")
    return Statement(f"SELECT {columns} FROM {{user}} account WHERE account.id = %(id)s", user=user)


class _UserByStatement:
    def get_user(self, user_id):
        """As Django's: the user with this id, if they may sign in (active)."""
        model = get_user_model()
        try:
            user_id = model._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        found = _user_by_id().instances(model, {"id": user_id})
        user = found[0] if found else None
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_UserByStatement, django_backends.ModelBackend):
    """Django's username-and-password backend (the admin's log-in, `force_login`)."""


class AuthenticationBackend(_UserByStatement, allauth_backends.AuthenticationBackend):
    """allauth's: log-in by email (the site's log-in form)."""


# The dotted paths sessions stored before these classes, and what they are now.
RENAMED = {
    "django.contrib.auth.backends.ModelBackend": "tracker.auth_backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend": (
        "tracker.auth_backends.AuthenticationBackend"
    ),
}
