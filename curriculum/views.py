from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "curriculum/home.html", {"tracks": list(selectors.track_list())})


@require_GET
def track_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The curriculum for everyone; for a logged-in learner also their progress, notes and
    the controls to change them (see tracker.selectors.learner_track_page)."""
    from tracker.selectors import learner_track_page

    learner = request.user if request.user.is_authenticated else None
    page = learner_track_page(learner=learner, slug=slug)
    context = {"page": page, "track": page.track, "enrolled": page.enrolled}
    return render(request, "curriculum/track_detail.html", context)
