"""The cohort dashboard (/cohorts/<slug>/), for its admins and staff: the member table (sort,
filter and pages over HTMX, the state in the URL), the module × member heat map of the page's
members, completions per week, the at-risk list and the points leaderboard."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from tracker import permissions
from tracker.weeks import bar_chart

from .. import selectors
from ..forms_dashboard import MemberFilterForm
from ..selectors import SORTS
from .access import cohort_for_viewer, in_viewer_time_zone, viewer_today
from .header import with_header

TABLE = "cohorts/dashboard.html#member-table"
FILTERS = "cohorts/dashboard.html#member-filters"


def _query(request: HttpRequest, **changes) -> str:
    """The current query string with `changes` (None drops a key; a new sort or filter goes
    back to page 1)."""
    query: QueryDict = request.GET.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value not in (None, ""):
            query[key] = str(value)
    return query.urlencode()


def _direction(descending: bool) -> str:
    return "descending" if descending else "ascending"


def _sort_links(request: HttpRequest, ctx, filters) -> dict[str, dict]:
    """Per sortable column: the link that sorts by it (ascending first, then flips), what it
    does in words (its accessible name says it), and for the sorted column its `aria-sort`
    (only that one carries it, so a screen reader names the order once)."""
    keys = list(SORTS) + [f"track-{t.id}" for t in ctx.tracks]
    links = {}
    for key in keys:
        current = filters.sort_key == key
        target = f"-{key}" if current and not filters.descending else key
        if not current and key in ("points", "activity"):
            target = f"-{key}"  # most points, most recent first
        links[key] = {
            "query": _query(request, sort=target, page=None),
            "current": current,
            "aria": _direction(filters.descending) if current else "",
            "action": f"sort {_direction(target.startswith('-'))}",
        }
    return links


def _sort_label(ctx, filters) -> str:
    """The table's order in words, for its caption: "Points, descending"."""
    titles = dict(SORTS) | {f"track-{t.id}": f"Progress in {t.title}" for t in ctx.tracks}
    title = titles.get(filters.sort_key, SORTS["name"])
    return f"{title}, {_direction(filters.descending)}"


def table_context(request: HttpRequest, ctx, now, fragment: bool) -> dict:
    form = MemberFilterForm(request.GET or None, tracks=ctx.tracks)
    if form.is_bound:
        form.is_valid()
    filters = form.member_filter()
    # The full page's at-risk list and leaderboard come from the table's own query.
    page, placed = selectors.member_page(
        ctx,
        filters=filters,
        now=now,
        at_risk_limit=0 if fragment else selectors.AT_RISK_SHOWN,
        leaderboard_size=0 if fragment else selectors.LEADERBOARD_SIZE,
    )
    links = _sort_links(request, ctx, filters)
    return {
        "form": form,
        "filters": filters,
        "page": page,
        "sort_links": links,
        "sort_label": _sort_label(ctx, filters),
        "track_columns": [
            {"title": f"Progress in {t.title}", **links[f"track-{t.id}"]} for t in ctx.tracks
        ],
        "heat": selectors.heat_map(ctx, rows=page.rows),
        "inactive_days": selectors.INACTIVE_DAYS,
        "previous_query": _query(request, page=page.number - 1) if page.has_previous else "",
        "next_query": _query(request, page=page.number + 1) if page.has_next else "",
        "filter_query": _query(request, page=None),
        "placed": placed,
    }


def _every(seconds: int) -> str:
    """ "5 minutes", "30 seconds"; empty when the chart is not kept at all."""
    if seconds <= 0:
        return ""
    amount, unit = (seconds // 60, "minute") if seconds % 60 == 0 else (seconds, "second")
    return f"{amount} {unit}{'s' if amount != 1 else ''}"


@login_required
@require_GET
@in_viewer_time_zone
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    cohort = cohort_for_viewer(request.user, slug)
    if not permissions.can_manage_cohort(request.user, cohort):
        return redirect("cohorts:home", slug=cohort.slug)
    now = timezone.now()
    ctx = selectors.cohort_context(slug=slug, cohort=cohort, today=viewer_today(request.user, now))
    fragment = bool(request.htmx and request.htmx.target == "member-table")
    context = {"ctx": ctx, "cohort": cohort, **table_context(request, ctx, now, fragment)}
    status = 400 if context["form"].errors else 200
    if request.htmx and context["form"].errors:
        # htmx swaps nothing on a 400: load the page itself, which shows the messages.
        response = HttpResponse(status=400)
        response["HX-Redirect"] = request.get_full_path()
        return response
    if fragment:
        response = render(request, TABLE, context, status=status)
        if request.htmx.trigger != "member-filters":
            # A column's sort or a page link changed the view: the filter form follows (out
            # of band), so its next change keeps the sort and the filters shown are the ones
            # applied. A change from the form itself leaves it alone (focus stays put).
            form = render_to_string(FILTERS, context | {"oob": True}, request=request)
            response.content += form.encode()
        return response
    series = selectors.weekly_completions(ctx)
    standouts = selectors.standouts(context["placed"])
    context.update(
        series=series,
        chart=bar_chart(series) if series else None,
        chart_total=sum(w.points for w in series),
        chart_refresh=_every(settings.COHORT_CHART_CACHE_SECONDS),
        at_risk=standouts.at_risk,
        leaderboard=standouts.leaderboard,
    )
    return render(request, "cohorts/dashboard.html", with_header(request, context), status=status)
