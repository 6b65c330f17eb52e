"""/healthz, and the admin's log-in replaced by the site's own (rate-limited) one."""

from __future__ import annotations

import hmac
import logging
import sys

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tracker.permissions import can_use_admin_site, can_view_health_details

from . import health
from .safety import same_site_path


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers (Waymark works without Redis), else 503."""
    report = health.check_all()
    status = 200 if report["database"]["ok"] else 503
    body = report if _may_see_details(request) else health.public_view(report)
    return JsonResponse(body, status=status)


def _may_see_details(request: HttpRequest) -> bool:
    if settings.HEALTHZ_DETAILS_PUBLIC:
        return True
    token = settings.HEALTHZ_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    return can_view_health_details(getattr(request, "user", None))


def admin_login(request: HttpRequest, extra_context=None) -> HttpResponse:
    """Stands in for `admin.site.login`, whose own form would try passwords without allauth's
    rate limits. It never reads a password: people log in through /accounts/login/ and come
    back; a signed-in account without staff access is told so."""
    next_url = same_site_path(request, request.GET.get("next", "")) or reverse("admin:index")
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(next_url)
    if can_use_admin_site(user):
        return HttpResponseRedirect(next_url)
    return render(request, "ops/admin_refused.html", status=403)


def admin_password_change(request: HttpRequest, extra_context=None) -> HttpResponse:
    """The admin's password form would check old passwords without a rate limit."""
    return redirect("account_change_password")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: nearly always a page left open while its session changed (a log-in
    or log-out in another tab, or a long wait). Nothing was changed; say how to go on."""
    context = {
        "title": "This page was out of date",
        "message": "Nothing was changed. The form you used was opened before you logged in or "
        "out (perhaps in another tab), or a long time ago. Go back, reload the page and try "
        "again.",
    }
    return render(request, "ops/refused.html", context, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500, rendered without the database (no context processors, no session).

    When the database cannot be reached (restarting, failing over) the answer is 503 with
    Retry-After and a page that says to try again: the request's transaction was rolled back,
    so nothing was half-written. Any other error is a plain 500 page."""
    exception = sys.exc_info()[1]
    if isinstance(exception, OperationalError | InterfaceError):
        logging.getLogger("waymark.database").warning(
            "database unavailable for %s %s: %s", request.method, request.path, exception
        )
        response = HttpResponse(render_to_string("ops/unavailable.html"), status=503)
        response["Retry-After"] = "5"
    else:
        response = HttpResponse(render_to_string("500.html"), status=500)
    patch_cache_control(response, no_store=True)
    return response
