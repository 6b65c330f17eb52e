"""The member table as CSV (/cohorts/<slug>/members.csv), under the table's current filter and
sort: streamed row by row from a chunked read, so 2,000 members need no large buffer."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .. import selectors
from ..forms_dashboard import MemberFilterForm
from .access import cohort_for_manager, viewer_today

CHUNK = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> object:
    """Names are typed by members, track titles by leads: keep a spreadsheet from reading one
    as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_rows(ctx, rows) -> Iterator[list]:
    yield [
        "name",
        *(
            safe_cell(column)
            for t in ctx.tracks
            for column in (f"{t.title} done", f"{t.title} required", f"{t.title} percent")
        ),
        "points",
        "modules_done",
        "last_activity",
        "pace",
        "at_risk",
    ]
    for row in rows:
        yield [
            safe_cell(row.name),
            *(value for cell in row.tracks for value in (cell.done, cell.required, cell.percent)),
            row.points,
            row.modules_done,
            row.last_activity_at.isoformat() if row.last_activity_at else "",
            row.pace.label,
            "yes" if row.at_risk else "no",
        ]


@never_cache
@login_required
@require_GET
def export(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    cohort = cohort_for_manager(request.user, slug)
    now = timezone.now()
    ctx = selectors.cohort_context(slug=slug, cohort=cohort, today=viewer_today(request.user, now))
    form = MemberFilterForm(request.GET or None, tracks=ctx.tracks)
    if form.is_bound:
        form.is_valid()
    members = selectors.member_rows(ctx, filters=form.member_filter(), now=now, chunk=CHUNK)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(line) for line in csv_rows(ctx, members)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{cohort.slug}-members-{ctx.today:%Y-%m-%d}.csv"'
    )
    return response
