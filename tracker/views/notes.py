"""A learner's private note on a resource, the "revisit later" flag, /me/revisit/, and every
note in one place: /me/notes/ and its Markdown download, /me/notes.md.

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
from django.utils import timezone
from django.views.decorators.cache import never_cache
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


@login_required
@require_GET
def all_notes(request: HttpRequest) -> HttpResponse:
    return render(
        request, "tracker/notes.html", {"groups": selectors.note_groups(learner=request.user)}
    )


@never_cache
@login_required
@require_GET
def notes_markdown_download(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    response = HttpResponse(
        notes_markdown(selectors.note_groups(learner=request.user), exported_on=today),
        content_type="text/markdown; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="waymark-notes-{today:%Y-%m-%d}.md"'
    return response


def notes_markdown(groups, *, exported_on) -> str:
    """Every note as one Markdown file: a heading per track, module and resource, each note's
    own text as written (it is Markdown already), in track order."""
    lines = ["# Your notes on Waymark", "", f"Exported on {exported_on:%-d %B %Y}.", ""]
    for group in groups:
        lines += [f"## {_heading(group.track.title)}", ""]
        module_id = None
        for note in group.notes:
            resource = note.resource
            if resource.module_id != module_id:
                module_id = resource.module_id
                lines += [f"### {_heading(resource.module.title)}", ""]
            lines += [f"#### {_heading(resource.title)}", ""]
            facts = [f"updated {timezone.localtime(note.updated_at):%-d %b %Y}"]
            if note.revisit:
                facts.append("on your revisit list")
            if resource.archived_at or group.track.archived_at:
                facts.append("no longer on the track page")
            elif resource.url:
                facts.append(f"<{resource.url}>")
            lines += [f"*{' · '.join(facts)}*", "", note.body.strip(), ""]
    if not groups:
        lines.append("You have written no notes yet.")
    return "\n".join(lines).rstrip() + "\n"


def _heading(text: str) -> str:
    return " ".join(text.split())  # one line, whatever the title holds
