"""A learner's private notes on resources and their "revisit later" flag.

The Markdown is rendered and sanitized on save (`body_html`); only `body_html` is ever
marked safe in templates.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from curriculum.markdown import render_markdown
from curriculum.models import Resource

from .. import permissions
from ..models import ResourceNote
from .progress import NotEnrolled, ServiceError

__all__ = ["NOTE_MAX_LENGTH", "note_save", "note_set_revisit"]

NOTE_MAX_LENGTH = ResourceNote._meta.get_field("body").max_length


def _note_locked(*, learner, resource: Resource, now: datetime) -> ResourceNote:
    if resource.archived_at is not None:
        raise ServiceError(
            f"'{resource.title}' was removed from its track; its note can no longer change."
        )
    note, _ = ResourceNote.objects.select_for_update().get_or_create(
        learner=learner, resource=resource, defaults={"updated_at": now}
    )
    return note


@transaction.atomic
def note_save(
    *, learner, resource: Resource, body: str, now: datetime | None = None
) -> ResourceNote:
    """Store the learner's note (an empty body clears it; the revisit flag is kept)."""
    body = (body or "").replace("\r\n", "\n").strip()
    if len(body) > NOTE_MAX_LENGTH:
        raise ServiceError(
            f"A note can be at most {NOTE_MAX_LENGTH:,} characters (this one has {len(body):,})."
        )
    if resource.archived_at is None and not permissions.can_keep_notes(learner, resource):
        raise NotEnrolled(resource.track, "keep notes on it")
    now = now or timezone.now()
    note = _note_locked(learner=learner, resource=resource, now=now)
    note.body = body
    note.body_html = render_markdown(body, top_heading=3)
    note.updated_at = now
    note.save(update_fields=["body", "body_html", "updated_at"])
    return note


@transaction.atomic
def note_set_revisit(
    *, learner, resource: Resource, revisit: bool, now: datetime | None = None
) -> ResourceNote:
    """Flag (or unflag) a resource to revisit later. Setting the current value changes nothing.
    Flagging needs an enrolment; taking a flag off works after leaving (/me/revisit/)."""
    if not permissions.can_flag_revisit(learner, resource, revisit):
        raise NotEnrolled(resource.track, "flag its resources")
    now = now or timezone.now()
    note = _note_locked(learner=learner, resource=resource, now=now)
    if note.revisit != revisit:
        note.revisit = revisit
        note.updated_at = now
        note.save(update_fields=["revisit", "updated_at"])
    return note
