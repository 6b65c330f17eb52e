"""The run's own PostgreSQL database, and settings as in production (DEBUG off, behind a TLS
proxy), set up before Django starts and removed when the run ends."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
# The trivial view of bench/urls.py: the floor of what any page through the middleware costs.
FLOOR_PATH = "/bench/floor"


@dataclass
class BenchDatabase:
    server_url: str  # postgres://user@host:port (no database)
    name: str

    @property
    def url(self) -> str:
        return f"{self.server_url}/{self.name}"

    def _admin(self):
        return psycopg.connect(f"{self.server_url}/postgres", autocommit=True)

    def create(self) -> None:
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def server_of(database_url: str) -> str:
    """DATABASE_URL without its database: the bench only borrows the server."""
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SystemExit(
            f"The benchmark runs against PostgreSQL; DATABASE_URL is {parts.scheme or 'empty'}://"
            " (set DATABASE_URL=postgres://user@host:port, or leave it unset for "
            f"{DEFAULT_SERVER})."
        )
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def prepare() -> BenchDatabase:
    """Create the run's database and point Django's settings at it, production-style."""
    server = server_of(os.environ.get("DATABASE_URL", "").strip() or DEFAULT_SERVER)
    database = BenchDatabase(server_url=server, name=f"waymark_bench_{os.getpid()}")
    try:
        database.create()
    except psycopg.OperationalError as error:
        raise SystemExit(f"Cannot reach PostgreSQL at {server}: {error}") from error
    os.environ.update(
        {
            "DATABASE_URL": database.url,
            "REDIS_URL": os.environ.get("REDIS_URL", "").strip() or DEFAULT_REDIS,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            # Production settings: the figures are those of a deployment, not of runserver.
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SITE_URL": "https://bench.waymark.invalid",
            "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
            "BEHIND_TLS_PROXY": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    return database
