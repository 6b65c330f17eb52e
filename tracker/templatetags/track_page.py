"""Tags of the track page (curriculum/track_detail.html).

`{% status_buttons row.status focus_status %}`: the four buttons of a row's status control.
They depend only on the row's status and on whether the answer should focus the pressed one,
so each of those eight variants is rendered once per process from the template's
`status-buttons` partial and reused for every row (a 500-resource track would otherwise render
2,000 buttons one variable at a time)."""

from __future__ import annotations

from functools import cache

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe

from ..models import ProgressStatus

register = template.Library()

TRACK_TEMPLATE = "curriculum/track_detail.html"


@cache
def _rendered(status: str, focused: bool) -> SafeString:
    buttons = [
        {"value": value, "label": label, "pressed": value == status}
        for value, label in ProgressStatus.choices
    ]
    html = get_template(f"{TRACK_TEMPLATE}#status-buttons").render(
        {"buttons": buttons, "focused": focused}
    )
    return mark_safe(html)  # noqa: S308 (our own template, rendered with our constants)


@register.simple_tag
def status_buttons(status: str, focus_status: str | None = None) -> SafeString:
    return _rendered(status, focus_status == status)
