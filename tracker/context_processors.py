"""The learner's points and name in the page header: one indexed query, none when anonymous."""

from __future__ import annotations

from django.http import HttpRequest


def learner_header(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from .services import profile_get_or_create

    profile = profile_get_or_create(user=user)
    # The header is the learner's own: their email will do until they choose a name.
    return {
        "header_points": profile.points_total,
        "header_name": profile.display_name or user.get_full_name() or user.email,
    }
