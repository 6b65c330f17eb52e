"""System checks for what `manage.py check --deploy` must catch before production."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
}


@checks.register(checks.Tags.security, deploy=True)
def shared_cache(app_configs, **kwargs):
    """Rate limits and cached sessions need one cache for every process and machine."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in PER_PROCESS_CACHES:
        return [
            checks.Error(
                f"The default cache ({backend}) is not shared between processes: each gunicorn "
                "worker would count log-in attempts separately, multiplying the rate limits.",
                hint="Leave CACHES as config/settings.py sets it (the database cache, or Redis "
                "in front of it when REDIS_URL is set).",
                id="waymark.E001",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def enumeration_safe_signup(app_configs, **kwargs):
    if getattr(settings, "ACCOUNT_EMAIL_VERIFICATION", "") != "mandatory":
        return [
            checks.Warning(
                "ACCOUNT_EMAIL_VERIFICATION is not 'mandatory': sign-up tells whether an "
                "address already has an account.",
                hint="Unset ACCOUNT_EMAIL_VERIFICATION (the default is mandatory).",
                id="waymark.W001",
            )
        ]
    return []
