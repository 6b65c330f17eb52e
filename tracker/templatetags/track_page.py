"""Tags of the track page (curriculum/track_detail.html).

`{% status_buttons row.status focus_status resource.title %}`: the four buttons of a row's
status control, each named for the resource too ("Done: Lecture one", the title visually
hidden), as its other controls are. Apart from the title they depend only on the row's status
and on whether the answer should focus the pressed one, so each of those eight variants is
rendered once per process from the template's `status-buttons` partial, with a placeholder
where the escaped title goes, and reused for every row (a 500-resource track would otherwise
render 2,000 buttons one variable at a time).

`{% resource_row row %}`: one resource row of the page (the `resource-row` partial). Most rows
are the same for every learner with the same status on the same resource: no note text, not
changed since they finished it, not a resource of kind track. Such a row is rendered once per
process for its (track, structure version, resource, status, revisit flag, enrolled) and kept
in a bounded cache; the version moves on with every change to the track's curriculum, so a
kept row is never stale. The CSRF field, the one per-response part, is put in as it is printed.
Other rows are rendered as they come. Rendering was most of the page's time (about 0.4 ms a
row); a kept row costs a dictionary look-up."""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import cache

from django import template
from django.template.loader import get_template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ..models import ProgressStatus
from ..selectors.track_page import NO_NOTE, REVISIT_ONLY, ResourceRow

register = template.Library()

TRACK_TEMPLATE = "curriculum/track_detail.html"
# Rows kept per process: about 3 KB each, so at most about 12 MB.
ROW_CACHE_SIZE = 4000
# Placeholders, put in as a row is printed: the response's CSRF field in a kept row, a row's
# title in its buttons. They are wrapped in NULs, which PostgreSQL text cannot hold.
_CSRF_SLOT = mark_safe("\x00csrf\x00")  # noqa: S308 (a constant)
_TITLE_SLOT = mark_safe("\x00title\x00")  # noqa: S308 (a constant)


@cache
def _rendered(status: str, focused: bool) -> str:
    buttons = [
        {"value": value, "label": label, "pressed": value == status}
        for value, label in ProgressStatus.choices
    ]
    return get_template(f"{TRACK_TEMPLATE}#status-buttons").render(
        {"buttons": buttons, "focused": focused, "title": _TITLE_SLOT}
    )


@register.simple_tag
def status_buttons(status: str, focus_status: str | None = None, title: str = "") -> SafeString:
    html = _rendered(status, focus_status == status).replace(_TITLE_SLOT, escape(title))
    return mark_safe(html)  # noqa: S308 (our template and constants, the title escaped)


class _RowCache:
    """A bounded, least-recently-used map of rendered rows, shared by the process's threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._rows: OrderedDict[tuple, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> str | None:
        with self._lock:
            html = self._rows.get(key)
            if html is not None:
                self._rows.move_to_end(key)
            return html

    def put(self, key: tuple, html: str) -> None:
        with self._lock:
            self._rows[key] = html
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()

    def __len__(self) -> int:
        return len(self._rows)


row_cache = _RowCache(ROW_CACHE_SIZE)


def _row_partial():
    return get_template(f"{TRACK_TEMPLATE}#resource-row")


def _shared(row: ResourceRow, context) -> bool:
    """Whether the row looks the same for every learner with its status and revisit flag."""
    return (
        not row.note.body
        and row.linked is None
        and not row.changed_since_done
        and context.get("focus_status") is None
        and not context.get("autofocus")
    )


@register.simple_tag(takes_context=True)
def resource_row(context, row: ResourceRow) -> SafeString:
    if not _shared(row, context):
        with context.push(row=row):
            return _row_partial().template.render(context)
    track = context["track"]
    enrolled = bool(context.get("enrolled"))
    revisit = bool(row.note.revisit)
    key = (track.id, track.version, row.resource.id, row.status, revisit, enrolled)
    html = row_cache.get(key)
    if html is None:
        # Rendered from the key's values alone, so the kept row is theirs and nobody else's.
        shared_row = ResourceRow(
            resource=row.resource, status=row.status, note=REVISIT_ONLY if revisit else NO_NOTE
        )
        html = _row_partial().render(
            {
                "row": shared_row,
                "enrolled": enrolled,
                "focus_status": None,
                "autofocus": False,
                "csrf_input": _CSRF_SLOT,
            }
        )
        row_cache.put(key, html)
    return mark_safe(html.replace(_CSRF_SLOT, str(context.get("csrf_input", ""))))  # noqa: S308
