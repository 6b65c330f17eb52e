"""A learner's private note on a resource, the "revisit later" flag, and /me/revisit/.

The note is edited inline with HTMX (GET swaps in the form, POST swaps back the rendered
note); without JavaScript "Edit note" opens a page with the same form, whose POST redirects
back to the resource on the track page.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from curriculum.models import Resource
from curriculum.structure import structure_of
from ops.forms import StrictInputForm

from .. import permissions, selectors, services
from .track import (
    TRACK_TEMPLATE,
    learner_required,
    not_enrolled_answer,
    resource_anchor,
    safe_next,
)


class NoteForm(StrictInputForm, forms.Form):
    body = forms.CharField(
        label="Your note (Markdown, only you can see it)",
        required=False,
        max_length=services.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


def _active_resource(slug: str, item: str) -> Resource:
    return get_object_or_404(
        Resource.objects.select_related("track"),
        track__slug=slug,
        track__archived_at__isnull=True,
        slug=item,
        archived_at__isnull=True,
    )


def _note_context(request, resource: Resource, note, **extra) -> dict:
    """The track page's partials read the resource as its cached structure has it (URLs
    built once per track); `back_url` is where its row is shown."""
    structure = structure_of(resource.track)
    node = structure.resource(resource.pk)
    return selectors.track_page_context(
        request,
        track=structure,
        enrolled=True,
        resource=node,
        note=note or selectors.NO_NOTE,
        back_url=selectors.resource_page_url(structure, node),
        **extra,
    )


@learner_required
@require_http_methods(["GET", "POST"])
def note(request: HttpRequest, slug: str, item: str) -> HttpResponse:
    resource = _active_resource(slug, item)
    if request.method == "GET" and not permissions.can_keep_notes(request.user, resource):
        return not_enrolled_answer(
            request, services.NotEnrolled(resource.track, "keep notes on it")
        )
    existing = selectors.note_for(learner=request.user, resource=resource)

    if request.method == "GET":
        if request.htmx and "show" in request.GET:  # "Cancel" in the inline editor
            return render(
                request,
                f"{TRACK_TEMPLATE}#note-view",
                _note_context(request, resource, existing, autofocus=True),
            )
        form = NoteForm(initial={"body": existing.body if existing else ""})
        return _render_form(request, resource, existing, form)

    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            saved = services.note_save(
                learner=request.user, resource=resource, body=form.cleaned_data["body"]
            )
        except services.NotEnrolled as refusal:
            return not_enrolled_answer(request, refusal)
        except services.ServiceError as error:
            form.add_error("body", str(error))
        else:
            if request.htmx:
                return render(
                    request,
                    f"{TRACK_TEMPLATE}#note-view",
                    _note_context(request, resource, saved, autofocus=True),
                )
            messages.success(request, f"Your note on “{resource.title}” is saved.")
            return redirect(resource_anchor(resource))
    return _render_form(request, resource, existing, form)


def _render_form(request, resource, existing, form) -> HttpResponse:
    context = _note_context(request, resource, existing, form=form, autofocus=True)
    if request.htmx:
        return render(request, f"{TRACK_TEMPLATE}#note-form", context)
    return render(request, "tracker/track_note.html", context)


@learner_required
@require_POST
def toggle_revisit(request: HttpRequest, slug: str, item: str) -> HttpResponse:
    resource = _active_resource(slug, item)
    revisit = request.POST.get("revisit") == "1"
    try:  # taking a flag off stays possible after leaving the track (/me/revisit/)
        note = services.note_set_revisit(learner=request.user, resource=resource, revisit=revisit)
    except services.NotEnrolled as refusal:
        return not_enrolled_answer(request, refusal)
    if request.htmx:
        return render(
            request,
            f"{TRACK_TEMPLATE}#revisit-toggle",
            _note_context(request, resource, note, autofocus=True),
        )
    if revisit:
        messages.success(request, f"“{resource.title}” is on your revisit list.")
    else:
        messages.success(request, f"“{resource.title}” is off your revisit list.")
    return redirect(safe_next(request) or resource_anchor(resource))


@login_required
@require_GET
def revisit(request: HttpRequest) -> HttpResponse:
    return render(
        request, "tracker/revisit.html", {"groups": selectors.revisit_groups(learner=request.user)}
    )
