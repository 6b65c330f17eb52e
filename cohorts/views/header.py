"""The page header's learner figures, read by the view so the template runs no query."""

from __future__ import annotations

from tracker.context_processors import header_values
from tracker.services import profile_get_or_create


def with_header(request, context: dict) -> dict:
    profile = profile_get_or_create(user=request.user)
    return {**header_values(request.user, profile), **context}
