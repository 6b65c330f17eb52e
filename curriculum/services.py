"""Writes to the curriculum outside the YAML loader (the admin, later the lead's editor).

The loader has its own bulk path (`curriculum.loader.apply`); both keep the same derived
fields: `*_html` rendered from Markdown and a resource's effective `points`.
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


def curriculum_requires_record(*, item: Track | Module) -> None:
    """After an edit outside the loader saved `item`'s `requires` (the admin saves the relation
    after the row, and so after its history record): that record names them, sorted slugs,
    as the loader's and the browser editor's do, so the history shows the change."""
    record = item.history.order_by("-history_id").first()
    if record is not None:
        slugs = sorted(item.requires.values_list("slug", flat=True))
        type(record).objects.filter(pk=record.pk).update(requires_slugs=slugs)
