"""The learner's dashboard (/me/): tracks, points, streak, what to do next, recent activity,
certificates and the planning overview."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .. import selectors, services
from ..completion import DEFAULT_MINUTES_ESTIMATE


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    profile = services.profile_get_or_create(user=request.user)
    data = selectors.dashboard_for(learner=request.user, profile=profile)
    return render(
        request,
        "tracker/dashboard.html",
        {"dashboard": data, "default_minutes": DEFAULT_MINUTES_ESTIMATE},
    )
