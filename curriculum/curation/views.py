"""Curation pages, under /tracks/<slug>/edit/ (and the history at /tracks/<slug>/history/).

One function per page. Every control is a real form or link first: without JavaScript a save
posts and redirects back to the item on the outline; with htmx the item's row swaps in place
(its form, then the saved row). A signed-in person who may not edit a public track gets 403;
an archived track they may not see, 404. Writes are the services'; decisions the permission
module's."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from tracker import permissions
from tracker.services import NotAllowed, ServiceError
from tracker.views.track import learner_required

from ..exporter import track_export_data, track_yaml
from ..models import Capstone, Module, Resource, Track, TrackUpload, UploadStatus
from . import selectors, services
from .data import KINDS, EditInvalid, fingerprint, locate
from .forms import FORMS, TrackForm, UploadForm

OUTLINE = "curriculum/curation/outline.html"
ITEM = "curriculum/curation/item.html"


def _editable_track(request: HttpRequest, slug: str) -> Track:
    track = get_object_or_404(Track, slug=slug)
    if not permissions.can_view_track(request.user, track):
        raise Http404("No such track.")
    if not permissions.can_edit_track(request.user, track):
        raise PermissionDenied(f"Only the leads of {track.title} and staff can edit it.")
    return track


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise Http404("No such kind of item.")
    return kind


def _anchor(track: Track, kind: str = "", slug: str = "") -> str:
    url = reverse("curation:outline", kwargs={"slug": track.slug})
    return f"{url}#{KINDS[kind]}-{slug}" if kind else url


def _anchor_now(track: Track, kind: str, slug: str) -> str:
    """The outline at an item where it is now: its row, or its entry under Archived."""
    model = {"modules": Module, "resources": Resource, "capstones": Capstone}[kind]
    archived = (
        model.objects.filter(track=track, slug=slug).values_list("archived_at", flat=True).first()
    )
    if archived is None:
        return _anchor(track, kind, slug)
    return f"{_anchor(track)}#archived-{KINDS[kind]}-{slug}"


# A message about one item carries it (its noun and slug) in its extra tags: the outline shows
# it next to that item, where the lead is looking, rather than at the top of the page.
_ABOUT = "curation-about:"


def _say(request: HttpRequest, text: str, kind: str, slug: str, level=messages.SUCCESS) -> None:
    messages.add_message(request, level, text, extra_tags=f"{_ABOUT}{KINDS[kind]}:{slug}")


def _place_messages(request: HttpRequest, outline) -> list:
    """Hang each message about an item of the outline on that item (its `notices`, shown
    beside it: one [data-announce] each, so screen readers hear it once); the others, about
    nothing on the outline, are returned for the top of the page."""
    spots = outline.spots()
    rest = []
    for message in messages.get_messages(request):
        tags = message.extra_tags or ""
        noun, _, slug = tags.removeprefix(_ABOUT).partition(":")
        spot = spots.get((noun, slug)) if tags.startswith(_ABOUT) else None
        if spot is None:
            rest.append(message)
        else:
            spot.notices = [*getattr(spot, "notices", []), message]
    return rest


@never_cache
@learner_required
@require_GET
def outline(request: HttpRequest, slug: str) -> HttpResponse:
    track = _editable_track(request, slug)
    context = _outline_context(track)
    context["messages"] = _place_messages(request, context["outline"])  # base.html's: the rest
    return render(request, OUTLINE, context)


def _outline_context(track: Track) -> dict:
    outline = selectors.curation_outline(track=track)
    return {"track": track, "outline": outline, "kinds": KINDS}


# --- the track's own fields ---------------------------------------------------------------------


@never_cache
@learner_required
@require_http_methods(["GET", "POST"])
def edit_track(request: HttpRequest, slug: str) -> HttpResponse:
    track = _editable_track(request, slug)
    tracks = selectors.other_tracks(track=track)
    if request.method == "GET":
        data = track_export_data(track=track)
        form = TrackForm(initial=TrackForm.initial_from(data), tracks=tracks)
        return _track_form(request, track, form, seen=fingerprint(data, "track"))
    form = TrackForm(request.POST, tracks=tracks)
    seen = request.POST.get("seen", "")
    if form.is_valid():
        try:
            message = services.curation_track_edit(
                user=request.user, track=track, values=form.cleaned_data, seen=seen
            )
        except EditInvalid as invalid:
            _add_errors(form, invalid)
        except services.EditConflict as conflict:
            seen = _add_conflict(form, conflict)
        except NotAllowed as refusal:
            raise PermissionDenied(str(refusal)) from None
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, message)
            return redirect(_anchor(track))
    return _track_form(request, track, form, seen=seen, status=400)


def _track_form(request, track, form, *, seen: str, status=200) -> HttpResponse:
    return render(
        request,
        "curriculum/curation/track_form.html",
        {"track": track, "form": form, "seen": seen},
        status=status,
    )


def _add_conflict(form, conflict) -> str:
    """Mark the fields someone else changed since the form was opened that the save would
    put back, each with what they saved; the form then carries that version's fingerprint, so
    saving again replaces it on purpose. What was typed stays in the fields."""
    form.add_error(None, str(conflict))
    for name, saved in conflict.fields.items():
        if name in form.fields:
            form.add_error(
                name, f"Someone else changed this since you opened the form (saved now: {saved})."
            )
    return conflict.seen


def _add_errors(form, invalid: EditInvalid) -> None:
    aliases = getattr(form, "error_fields", {})  # the file's key → the form field showing it
    for name, problems in invalid.fields.items():
        name = aliases.get(name, name)
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)
    for problem in invalid.general:
        form.add_error(None, problem)


# --- modules, resources and capstones -------------------------------------------------------------


def _form_for(
    kind: str, track: Track, outline, data=None, initial=None, adding=False, slug: str = ""
):
    form_class = FORMS[kind]
    kwargs = {"adding": adding}
    if kind == "modules":
        kwargs["modules"] = [  # a module cannot require itself
            (row.module.slug, row.module.title)
            for row in outline.modules
            if row.module.slug != slug
        ]
    else:
        kwargs["modules"] = outline.module_choices
    if kind == "resources":
        kwargs["tracks"] = selectors.other_tracks(track=track)
    # Its own ids: an item's form opens inside the outline, beside other open ones.
    auto_id = "id_%s" if adding else f"id_{KINDS[kind]}-{slug}-%s"
    return form_class(data, initial=initial, auto_id=auto_id, **kwargs)


def _values(kind: str, form) -> tuple[dict, str | None]:
    values = {name: value for name, value in form.cleaned_data.items() if name != "module"}
    return values, form.cleaned_data.get("module") or None


@never_cache
@learner_required
@require_http_methods(["GET", "POST"])
def edit_item(request: HttpRequest, slug: str, kind: str, item: str) -> HttpResponse:
    track = _editable_track(request, slug)
    kind = _kind(kind)
    outline = selectors.curation_outline(track=track)
    row = _outline_row(outline, kind, item)
    if row is None:
        raise Http404("No such item in this track.")
    if request.method == "GET":
        if request.htmx and "show" in request.GET:  # "Cancel" in the inline editor
            return _render_row(request, track, outline, kind, item)
        initial, seen = _initial(track, kind, item)
        form = _form_for(kind, track, outline, initial=initial, slug=item)
        return _item_form(request, track, kind, row, form, seen=seen)
    form = _form_for(kind, track, outline, data=request.POST, slug=item)
    seen = request.POST.get("seen", "")
    if form.is_valid():
        values, module = _values(kind, form)
        try:
            message = services.curation_item_edit(
                user=request.user,
                track=track,
                kind=kind,
                slug=item,
                values=values,
                module=module,
                seen=seen,
            )
        except EditInvalid as invalid:
            _add_errors(form, invalid)
        except services.EditConflict as conflict:
            seen = _add_conflict(form, conflict)
        except NotAllowed as refusal:
            raise PermissionDenied(str(refusal)) from None
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            if request.htmx:
                track.refresh_from_db()
                if kind != "modules" and module and module != row.module.slug:
                    # Given another module in its form: its row leaves this list for that
                    # module's, so the whole outline is redrawn, as after a move.
                    _say(request, message, kind, item)
                    response = _htmx_outline(request, track, focus=f"edit-{kind}-{item}")
                    return retarget(reswap(response, "outerHTML"), "#outline-body")
                return _render_row(request, track, None, kind, item, message=message)
            _say(request, message, kind, item)
            return redirect(_anchor(track, kind, item))
    status = 200 if request.htmx else 400
    return _item_form(request, track, kind, row, form, seen=seen, status=status)


def _initial(track: Track, kind: str, item: str) -> tuple[dict, str]:
    """The item's form values, and the fingerprint of what the form shows."""
    data = track_export_data(track=track)
    found = locate(data, kind, item)
    form_class = FORMS[kind]
    seen = fingerprint(found.item, kind)
    if kind == "modules":
        return form_class.initial_from(found.item), seen
    return form_class.initial_from(found.item, found.module["slug"]), seen


def _outline_row(outline, kind: str, slug: str):
    for row in outline.modules:
        if kind == "modules" and row.module.slug == slug:
            return row.module
        for item in getattr(row, kind, []) if kind != "modules" else []:
            if item.slug == slug:
                return item
    return None


def _item_form(request, track, kind, row, form, *, seen: str, status=200) -> HttpResponse:
    # Focus opens on the first field, or the first one with an error.
    opening = "title" if "title" in form.fields else next(iter(form.fields))
    first = next((name for name in form.fields if name in form.errors), opening)
    form.fields[first].widget.attrs["data-autofocus"] = ""
    context = {
        "track": track,
        "kind": kind,
        "noun": KINDS[kind],
        "row": row,
        "form": form,
        "seen": seen,
    }
    if request.htmx:
        return render(request, f"{ITEM}#item-form", context, status=status)
    return render(request, ITEM, context, status=status)


def _render_row(request, track, outline, kind, slug, message: str = "") -> HttpResponse:
    outline = outline or selectors.curation_outline(track=track)
    # After a save or cancel, focus goes back to the row's Edit link (the form it was in is gone).
    focus = f"edit-{kind}-{slug}"
    context = _outline_context(track) | {"outline": outline, "message": message, "focus": focus}
    if kind == "modules":
        module_row = next(row for row in outline.modules if row.module.slug == slug)
        context["module_row"] = module_row
        return render(request, f"{OUTLINE}#module-head", context | {"oob_status": True})
    module_row = next(
        row for row in outline.modules if any(i.slug == slug for i in getattr(row, kind))
    )
    item = next(i for i in getattr(module_row, kind) if i.slug == slug)
    items = getattr(module_row, kind)
    context |= {
        "module_row": module_row,
        "item": item,
        "kind": kind,
        "noun": KINDS[kind],
        "first": items[0] is item,
        "last": items[-1] is item,
        "oob_status": True,
    }
    return render(request, f"{OUTLINE}#item-row", context)


@never_cache
@learner_required
@require_http_methods(["GET", "POST"])
def add_item(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    track = _editable_track(request, slug)
    kind = _kind(kind)
    outline = selectors.curation_outline(track=track)
    if request.method == "GET":
        initial = {"module": request.GET.get("module", "")}
        if kind == "resources":
            initial["kind"] = "video"
        form = _form_for(kind, track, outline, initial=initial, adding=True)
        return _add_form(request, track, kind, form)
    form = _form_for(kind, track, outline, data=request.POST, adding=True)
    if form.is_valid():
        values, module = _values(kind, form)
        try:
            added = services.curation_item_add(
                user=request.user, track=track, kind=kind, values=values, module=module
            )
        except EditInvalid as invalid:
            _add_errors(form, invalid)
        except NotAllowed as refusal:
            raise PermissionDenied(str(refusal)) from None
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            _say(request, added.message, kind, added.slug)
            return redirect(_anchor(track, kind, added.slug))
    return _add_form(request, track, kind, form, status=400)


def _add_form(request, track, kind, form, status=200) -> HttpResponse:
    context = {"track": track, "kind": kind, "noun": KINDS[kind], "form": form, "adding": True}
    return render(request, ITEM, context, status=status)


def _item_action(request: HttpRequest, slug: str, kind: str, item: str, act) -> HttpResponse:
    track = _editable_track(request, slug)
    kind = _kind(kind)
    try:
        message = act(track, kind)
    except NotAllowed as refusal:
        raise PermissionDenied(str(refusal)) from None
    except EditInvalid as invalid:
        _say(request, f"Nothing was changed: {invalid}", kind, item, messages.ERROR)
    except ServiceError as error:
        _say(request, str(error), kind, item, messages.ERROR)
    else:
        _say(request, message, kind, item)
    if request.htmx:
        return _htmx_outline(request, track)
    return redirect(_anchor_now(track, kind, item))


def _htmx_outline(request: HttpRequest, track: Track, focus: str = "") -> HttpResponse:
    """The outline's body after a change that moves things around (reorder, archive,
    restore, a resource or capstone given another module): one swap, with each message next to
    the item it is about, and focus kept on the control pressed (or on `focus`)."""
    track.refresh_from_db()
    context = _outline_context(track) | {
        "focus": focus or request.POST.get("focus", ""),
        "htmx_messages": True,
        "oob_status": True,
    }
    context["messages"] = _place_messages(request, context["outline"])
    return render(request, f"{OUTLINE}#outline-body", context)


@never_cache
@learner_required
@require_POST
def archive_item(request: HttpRequest, slug: str, kind: str, item: str) -> HttpResponse:
    """Archive an item. A capstone, or a module with capstones, that learners have unfinished
    work on (waiting for review, drafts) is archived only once the lead was told about that
    work: with JavaScript the editor's dialog says it (its form carries the counts it showed,
    `shown`); without, this answers with a confirmation page first (`confirmed`). Counts that
    changed since are told again."""
    track = _editable_track(request, slug)
    kind = _kind(kind)
    work = selectors.item_capstone_work(track=track, kind=kind, slug=item)
    told = request.POST.get("confirmed")
    if told is None and request.htmx:
        told = request.POST.get("shown")
    if work and told != work.key:
        answer = _archive_confirmation(request, track, kind, item, work, stale=told is not None)
        if answer is not None:
            return answer
    return _item_action(
        request,
        slug,
        kind,
        item,
        lambda track, kind: services.curation_item_archive(
            user=request.user, track=track, kind=kind, slug=item
        ),
    )


def _archive_confirmation(request, track, kind, item, work, *, stale: bool):
    """Ask before archiving what learners have unfinished work on; None when the item is gone
    (the service then says so)."""
    model = Module if kind == "modules" else Capstone
    row = model.objects.active().filter(track=track, slug=item).first()
    if row is None:
        return None
    noun = KINDS[kind]
    if request.htmx:  # the dialog told other counts: the outline comes back with today's
        _say(
            request,
            f"Nothing was archived: learners' work on the {noun} “{row.title}” changed since "
            f"this page was loaded. {work.said} Press Archive again to archive it.",
            kind,
            item,
            messages.WARNING,
        )
        return _htmx_outline(request, track, focus=f"archive-{kind}-{item}")
    context = {"track": track, "kind": kind, "noun": noun, "row": row, "work": work}
    return render(request, "curriculum/curation/archive_confirm.html", context | {"stale": stale})


@never_cache
@learner_required
@require_POST
def restore_item(request: HttpRequest, slug: str, kind: str, item: str) -> HttpResponse:
    return _item_action(
        request,
        slug,
        kind,
        item,
        lambda track, kind: services.curation_item_restore(
            user=request.user, track=track, kind=kind, slug=item
        ),
    )


@never_cache
@learner_required
@require_POST
def move_item(request: HttpRequest, slug: str, kind: str, item: str) -> HttpResponse:
    return _item_action(
        request,
        slug,
        kind,
        item,
        lambda track, kind: services.curation_item_move(
            user=request.user,
            track=track,
            kind=kind,
            slug=item,
            direction=request.POST.get("direction", ""),
            place=_place(request.POST.get("place", "")),
        ),
    )


def _place(value: str) -> int | None:
    """A drag and drop's target place (1, 2, ...); None when absent or not a small number
    (the service then asks for up or down)."""
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 4 else None


# --- YAML: download, upload, preview, apply -----------------------------------------------------


@never_cache
@learner_required
@require_GET
def download(request: HttpRequest, slug: str) -> HttpResponse:
    track = _editable_track(request, slug)
    if track.archived_at is not None:
        raise Http404("Archived tracks are not exported.")
    response = HttpResponse(
        track_yaml(track_export_data(track=track)), content_type="application/yaml; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{track.slug}.yaml"'
    return response


@never_cache
@learner_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, slug: str) -> HttpResponse:
    track = _editable_track(request, slug)
    limit = services._max_bytes()
    form = UploadForm()
    errors: list[str] = []
    filename = ""  # of a refused file: the browser empties the field, the page names it
    if request.method == "POST":
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > limit + 64 * 1024:  # refuse before reading a huge body at all
            form = UploadForm()
            form.errors["file"] = form.error_class(
                [f"The file is too large: the limit is {limit:,} bytes (about 1 MB)."]
            )
            return _upload_page(request, track, form, errors, status=400)
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            handle = form.cleaned_data["file"]
            if handle.size > limit:
                form.add_error(
                    "file", f"The file is {handle.size:,} bytes; the limit is {limit:,}."
                )
            else:
                try:
                    saved = services.track_upload_create(
                        user=request.user, track=track, filename=handle.name, data=handle.read()
                    )
                except services.UploadInvalid as invalid:
                    errors, filename = invalid.errors, handle.name
                    form.add_error(
                        "file", f"{filename} was not accepted; nothing was changed. See below."
                    )
                except NotAllowed as refusal:
                    raise PermissionDenied(str(refusal)) from None
                else:
                    return redirect("curation:upload_preview", slug=track.slug, pk=saved.pk)
    status = 400 if form.errors else 200
    return _upload_page(request, track, form, errors, status=status, filename=filename)


def _upload_page(request, track, form, errors, status=200, filename="") -> HttpResponse:
    return render(
        request,
        "curriculum/curation/upload.html",
        {"track": track, "form": form, "errors": errors, "filename": filename},
        status=status,
    )


@never_cache
@learner_required
@require_http_methods(["GET", "POST"])
def upload_preview(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    track = _editable_track(request, slug)
    upload_row = TrackUpload.objects.filter(pk=pk, track=track).first()
    if upload_row is None:
        raise Http404("No such upload.")
    notice = ""
    status = 200
    if request.method == "POST":
        if upload_row.status != UploadStatus.PENDING:
            messages.error(request, "This upload was already applied or cancelled.")
            return redirect(request.path)
        try:
            if request.POST.get("action") == "cancel":
                services.track_upload_cancel(user=request.user, upload=upload_row)
                messages.success(request, f"Cancelled {upload_row.filename}: nothing was changed.")
                return redirect(_anchor(track))
            written = request.POST.get("version", "")
            # The preview's hidden field: anything else is a page not made by this site.
            version = int(written) if written.isascii() and written.isdigit() else -1
            report = services.track_upload_apply(
                user=request.user, upload=upload_row, version=version
            )
        except NotAllowed as refusal:
            raise PermissionDenied(str(refusal)) from None
        except services.TrackChanged as changed:
            notice, status = str(changed), 409
        except services.UploadInvalid as invalid:
            notice, status = "Nothing was changed: " + "; ".join(invalid.errors), 400
        except (ServiceError, ValueError) as error:
            notice, status = f"Nothing was changed: {error}", 400
        else:
            messages.success(request, f"Applied {upload_row.filename}: {report.summary_line()}.")
            return redirect(_anchor(track))
    preview = selectors.upload_preview(upload=upload_row)
    return render(
        request,
        "curriculum/curation/preview.html",
        {"track": track, "preview": preview, "notice": notice, "Status": UploadStatus},
        status=status,
    )


# --- history ---------------------------------------------------------------------------------


@never_cache
@learner_required
@require_GET
def history(request: HttpRequest, slug: str) -> HttpResponse:
    track = get_object_or_404(Track, slug=slug)
    if not permissions.can_view_track(request.user, track):
        raise Http404("No such track.")
    if not permissions.can_view_track_history(request.user, track):
        raise PermissionDenied(f"Only the leads of {track.title} and staff can read its history.")
    page = selectors.track_history(track=track, page=request.GET.get("page"))
    return render(request, "curriculum/curation/history.html", {"track": track, "history": page})
