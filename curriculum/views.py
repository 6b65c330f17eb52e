from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from . import selectors

TRACK_TEMPLATE = "curriculum/track_detail.html"


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "curriculum/home.html", {"tracks": list(selectors.track_list())})


@require_GET
def track_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The curriculum for everyone; for a logged-in learner also their progress, notes and
    the controls to change them (see tracker.selectors.learner_track_page).

    `?module=<slug>` also shows that module's rows when the page would not by itself (a large
    track's later modules); asked by htmx, it answers that module's rows alone. `?item=<slug>`
    shows the module holding that resource or capstone (for links to one from elsewhere)."""
    from tracker.context_processors import header_figures
    from tracker.selectors import learner_track_page, track_page_context

    learner = request.user if request.user.is_authenticated else None
    open_module = request.GET.get("module") or None
    page = learner_track_page(
        learner=learner,
        slug=slug,
        open_module=open_module,
        open_item=request.GET.get("item") or None,
    )
    context = track_page_context(request, track=page.track, enrolled=page.enrolled, page=page)
    if page.header is not None:  # read with the track row: the header reads no profile
        context.update(
            header_figures(
                request.user,
                points_total=page.header.points_total,
                display_name=page.header.display_name,
            )
        )
    if open_module is not None and request.htmx:
        module_row = page.module_row(open_module)
        if module_row is None:
            raise Http404("No such module in this track.")
        response = render(
            request, f"{TRACK_TEMPLATE}#module-body", {**context, "module_row": module_row}
        )
    else:
        response = render(request, TRACK_TEMPLATE, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
