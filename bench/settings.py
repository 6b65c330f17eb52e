"""Waymark's settings plus the bench-only URL conf (the floor view). Used by the in-process
measurements and by the gunicorn the HTTP load runs against."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
