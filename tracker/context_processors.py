"""The learner's points and name in the page header: one indexed query, none when anonymous,
and none for a fragment that does not show the header (the values are read when used). A view
that read the profile's figures with its own query passes `header_figures(...)` in its context
instead (the track page reads them with its track row), and then the profile is not read."""

from __future__ import annotations

from functools import cache

from django.http import HttpRequest


def header_name(user, display_name: str) -> str:
    """The header is the learner's own: their email will do until they choose a name."""
    return display_name or user.get_full_name() or user.email


def account_display(user) -> str:
    """ACCOUNT_USER_DISPLAY: how allauth's pages, messages and emails name an account ("Signed
    in as ..."): the name its owner chose, else their email; never the internal username."""
    from django.core.exceptions import ObjectDoesNotExist

    try:
        display_name = user.profile.display_name
    except ObjectDoesNotExist:  # not made yet: the email will do
        display_name = ""
    return header_name(user, display_name)


def header_figures(user, *, points_total: int, display_name: str) -> dict:
    """The header's context from figures a view already read (a view's context wins over this
    processor's)."""
    return {"header_points": points_total, "header_name": header_name(user, display_name)}


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
        "header_name": lambda: header_name(user, profile().display_name),
    }


def header_values(user, profile) -> dict:
    """The same values from a profile the view has read (pages whose templates run no query
    pass these in their context; the view's context wins over this processor's)."""
    return header_figures(
        user, points_total=profile.points_total, display_name=profile.display_name
    )
