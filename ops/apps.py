from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: the shared cache, request hardening middleware, /healthz, integrity checks."""

    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from . import checks  # noqa: F401  (registers the system checks)
        from .cache import create_cache_tables
        from .text import sqlite_unaccent

        # `migrate` creates the database cache's table, so there is no extra set-up step.
        post_migrate.connect(create_cache_tables, sender=self)
        # Searches fold accents in SQL on SQLite too (ops.text).
        connection_created.connect(sqlite_unaccent)
