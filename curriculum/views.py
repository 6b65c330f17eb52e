from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health, selectors


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "curriculum/home.html", {"tracks": list(selectors.track_list())})


@require_GET
def track_detail(request: HttpRequest, slug: str) -> HttpResponse:
    track = selectors.track_with_contents(slug=slug)
    return render(request, "curriculum/track_detail.html", {"track": track})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health.check_all()
    return JsonResponse(report, status=200 if report["database"]["ok"] else 503)
