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
process for its (resource node, status, revisit flag, enrolled, whether its pressed button takes
the focus, as in the answer to a status click) and kept in a bounded LRU; the node comes from
the track's structure, which every change to the curriculum rebuilds, so a kept row is never
stale. The CSRF field, the one per-response part, is put in as it is printed.
Other rows are rendered as they come. Rendering was most of the page's time (about 0.4 ms a
row); a kept row costs a dictionary look-up."""

from __future__ import annotations

from functools import cache, lru_cache

from django import template
from django.template.loader import get_template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from curriculum.structure import ResourceNode

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


def _row_partial():
    return get_template(f"{TRACK_TEMPLATE}#resource-row")


def _shared(row: ResourceRow, context) -> bool:
    """Whether the row looks the same for every learner with its status and revisit flag."""
    return (
        not row.note.body
        and row.linked is None
        and not row.changed_since_done
        and not context.get("autofocus")
    )


def _render_kept_row(
    resource: ResourceNode, status: str, revisit: bool, enrolled: bool, focused: bool
) -> str:
    """A shared row, rendered from its arguments alone (the CSRF field left as a placeholder),
    so a kept row is theirs and nobody else's. `focused`: its pressed status button takes the
    focus (the row answers a click on it)."""
    row = ResourceRow(resource=resource, status=status, note=REVISIT_ONLY if revisit else NO_NOTE)
    return _row_partial().render(
        {
            "row": row,
            "enrolled": enrolled,
            "focus_status": status if focused else None,
            "autofocus": False,
            "csrf_input": _CSRF_SLOT,
        }
    )


# Kept per process, least recently used first out. The resource node (frozen, from the track's
# structure) is part of the key, so an edit, which builds a new node, renders a new row.
kept_row = lru_cache(maxsize=ROW_CACHE_SIZE)(_render_kept_row)


@register.simple_tag(takes_context=True)
def resource_row(context, row: ResourceRow) -> SafeString:
    if not _shared(row, context):
        with context.push(row=row):
            return _row_partial().template.render(context)
    html = kept_row(
        row.resource,
        row.status,
        bool(row.note.revisit),
        bool(context.get("enrolled")),
        context.get("focus_status") == row.status,
    )
    return mark_safe(html.replace(_CSRF_SLOT, str(context.get("csrf_input", ""))))  # noqa: S308
