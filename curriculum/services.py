"""The curriculum's derived fields, and a single item saved outside the loader.

Every edit people make goes through the loader (`load_curriculum`, uploads and the track
editor, `curriculum.curation`), whose bulk path (`curriculum.loader.apply`) fills the derived
fields here: `*_html` rendered from Markdown and a resource's effective `points`.
`curriculum_item_save` is for a one-off change from a shell or a test.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .markdown import render_markdown
from .models import Capstone, Module, Resource, Track, resource_points

_MARKDOWN_FIELDS = {
    Track: (("summary", "summary_html"), ("prerequisites", "prerequisites_html")),
    Module: (("summary", "summary_html"),),
    Resource: (("notes", "notes_html"),),
    Capstone: (("brief", "brief_html"),),
}
_CHANGE_MARKED_FIELDS = ("title", "url", "notes")


def curriculum_item_derive(*, item: Track | Module | Resource | Capstone) -> None:
    """Fill the derived fields of an unsaved or edited item in place."""
    for source, target in _MARKDOWN_FIELDS[type(item)]:
        setattr(item, target, render_markdown(getattr(item, source)))
    if isinstance(item, Resource):
        item.points = resource_points(
            kind=item.kind, minutes=item.minutes, points=item.points_override
        )


@transaction.atomic
def curriculum_item_save(*, item: Track | Module | Resource | Capstone) -> None:
    """Save an item edited outside the loader, keeping derived fields and change marks right."""
    if isinstance(item, Resource) and item.pk:
        before = Resource.objects.filter(pk=item.pk).values(*_CHANGE_MARKED_FIELDS).first()
        if before and any(before[f] != getattr(item, f) for f in _CHANGE_MARKED_FIELDS):
            item.content_changed_at = timezone.now()
    curriculum_item_derive(item=item)
    item.save()
