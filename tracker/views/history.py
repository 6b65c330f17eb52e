"""History (/me/progress/): points per week as a server-drawn SVG chart and a table; and the
learner's own data as JSON and CSV downloads."""

from __future__ import annotations

import csv
import json

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .. import selectors, services, weeks

CSV_COLUMNS = [
    "kind",
    "track",
    "track_title",
    "module",
    "module_title",
    "resource",
    "resource_title",
    "status",
    "started_at",
    "completed_at",
    "updated_at",
    "points",
    "archived",
]


@login_required
@require_GET
def progress_history(request: HttpRequest) -> HttpResponse:
    profile = services.profile_get_or_create(user=request.user)
    series = selectors.points_by_week(learner=request.user, profile=profile)
    chart = weeks.bar_chart(series)
    return render(
        request,
        "tracker/progress_history.html",
        {
            "series": series,
            "chart": chart,
            "total": sum(w.points for w in series),
            "active_weeks": sum(1 for w in series if w.points),
            "profile": profile,
            "csv_columns": CSV_COLUMNS,
        },
    )


def _filename(extension: str) -> str:
    return f"waymark-{timezone.localdate():%Y-%m-%d}.{extension}"


@never_cache
@login_required
@require_GET
def export_json(request: HttpRequest) -> HttpResponse:
    profile = services.profile_get_or_create(user=request.user)
    data = selectors.export_data(learner=request.user, profile=profile)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("json")}"'
    return response


@never_cache
@login_required
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    rows = selectors.export_spreadsheet_rows(learner=request.user)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    writer = csv.DictWriter(response, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                key: _cell(value)
                for key, value in {**row, "archived": "yes" if row["archived"] else "no"}.items()
            }
        )
    return response


def _cell(value):
    """Titles come from curriculum files: keep a spreadsheet from reading one as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
