"""Signing a user in for a browser page without typing a password: Django's test client logs
in and the browser gets its session cookie (the log-in form has its own tests)."""

from __future__ import annotations

from django.conf import settings
from django.test import Client


def log_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
