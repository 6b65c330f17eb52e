"""Request hardening that holds for every view, present and future."""

from __future__ import annotations

from django.contrib.auth import BACKEND_SESSION_KEY
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control

from .safety import CONTROL, UNSTORABLE


def refuse_unstorable_characters(get_response):
    """A path with a control character is not found (404); a query string holding a value no
    database could store is a bad request (400). Form bodies are left to the forms, which
    name the field (Django's fields refuse NUL with "Null characters are not allowed.")."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if CONTROL.search(request.path) or UNSTORABLE.search(request.path):
            return _refusal(request, 404, "Page not found", "There is no page at this address.")
        if any(
            UNSTORABLE.search(key) or any(UNSTORABLE.search(value) for value in values)
            for key, values in request.GET.lists()
        ):
            return _refusal(
                request,
                400,
                "Bad request",
                "This address holds characters that cannot be used here (such as a NUL byte). "
                "Check the link you followed.",
            )
        return get_response(request)

    return middleware


def _refusal(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    response = TemplateResponse(
        request, "ops/refused.html", {"title": title, "message": message}, status=status
    )
    return response.render()


def private_when_signed_in(get_response):
    """Whatever a signed-in person is shown may hold their private data (notes, progress,
    exports): no shared cache or browser history keeps it. Answers that chose their own
    caching (never_cache, or an explicit `public`) keep it."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and "public" not in response.get("Cache-Control", "")
        ):
            patch_cache_control(response, private=True, no_store=True)
        return response

    return middleware


def sessions_name_current_backends(get_response):
    """A session signed in before Waymark's own authentication backends names Django's or
    allauth's by dotted path, and Django would sign it out: rename it, once, before
    `AuthenticationMiddleware` reads it (`tracker.auth_backends`). Sessions last at most
    SESSION_COOKIE_AGE (two weeks), so this can go two weeks after every server has run it."""
    from tracker.auth_backends import RENAMED

    def middleware(request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.session_key is not None:
            renamed = RENAMED.get(session.get(BACKEND_SESSION_KEY))
            if renamed is not None:
                session[BACKEND_SESSION_KEY] = renamed
        return get_response(request)

    return middleware


def explain_method_not_allowed(get_response):
    """A visit to an address that only takes a form's submission (opened from the history or
    a bookmark) gets a page that says so, where Django answers 405 with an empty body."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if response.status_code != 405 or request.method not in ("GET", "HEAD"):
            return response
        if response.content:
            return response
        explained = _refusal(
            request,
            405,
            "Nothing to show here",
            "This address is where a button sends its change; it has no page of its own. Go "
            "back to the page with the button and use it there.",
        )
        explained["Allow"] = response.get("Allow", "")
        return explained

    return middleware
