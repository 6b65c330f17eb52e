"""Addresses every page prints the same, worked out once per process instead of once per link
per page (about 40 µs each here, and the header and head of every page have sixteen):

- `{% site_url 'name' %}`: a page that takes no arguments (the header's and footer's links);
- `{% static_url 'css/waymark.css' %}`: a static file, as `{% static %}` names it (its hashed
  name in production)."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse

register = template.Library()


@lru_cache(maxsize=128)
def _reversed(prefix: str, name: str) -> str:
    # The prefix is part of the key: a site served under a path reverses to that path.
    return reverse(name)


@lru_cache(maxsize=128)
def _static(prefix: str, path: str) -> str:
    return static(path)


@register.simple_tag
def site_url(name: str) -> str:
    return _reversed(get_script_prefix(), name)


@register.simple_tag
def static_url(path: str) -> str:
    return _static(get_script_prefix(), path)


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs) -> None:
    if setting in {"STATIC_URL", "STORAGES", "ROOT_URLCONF", "FORCE_SCRIPT_NAME"}:
        _reversed.cache_clear()
        _static.cache_clear()
