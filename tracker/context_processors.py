"""The learner's points and name in the page header: one indexed query, none when anonymous,
and none for a fragment that does not show the header (the values are read when used)."""

from __future__ import annotations

from functools import cache

from django.http import HttpRequest


def learner_header(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from .services import profile_get_or_create

    @cache
    def profile():
        return profile_get_or_create(user=user)

    # Templates call callables: the profile is read the first time either is shown.
    return {
        "header_points": lambda: profile().points_total,
        # The header is the learner's own: their email will do until they choose a name.
        "header_name": lambda: profile().display_name or user.get_full_name() or user.email,
    }
