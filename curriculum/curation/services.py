"""Writes of curation: every edit, addition, archive, restore and reorder of a track's items in
the browser, and applying an uploaded YAML file. Keyword-only, atomic, and permission-checked
here (tracker.permissions.can_edit_track), so no caller can get around them.

Each change is made through the loader, as a file would make it: inside one transaction that
holds the loader's lock, the track is exported to its file's data, changed, validated by the
loader's schema and written by its plan (history records "browser edit" with the person,
structure versions move on, derived HTML and points are rendered as at load).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.text import normalize_newlines, slugify

from tracker import permissions
from tracker.services import NotAllowed, ServiceError

from ..exporter import capstone_data, module_data, resource_data, track_export_data
from ..loader import (
    CurriculumInvalid,
    LoadReport,
    load_specs,
    lock_for_writing,
    read_data,
    read_upload,
)
from ..loader.values import SLUG_MAX
from ..models import (
    Capstone,
    ChangeHow,
    Module,
    Resource,
    Track,
    TrackUpload,
    UploadStatus,
)
from .data import (
    EDITABLE,
    ITEM_LISTS,
    KINDS,
    EditInvalid,
    changed_since,
    choose_mapping,
    choose_text,
    drop_empty_lists,
    fingerprint,
    items_of,
    lines,
    locate,
    module_at,
    number,
    put,
    shown_fields,
    words,
)

__all__ = [
    "Added",
    "EditConflict",
    "EditInvalid",
    "TrackChanged",
    "UploadInvalid",
    "curation_item_add",
    "curation_item_archive",
    "curation_item_edit",
    "curation_item_move",
    "curation_item_restore",
    "curation_track_edit",
    "track_upload_apply",
    "track_upload_cancel",
    "track_upload_create",
    "track_set_archived",
]


class TrackChanged(ServiceError):
    """The track changed between a preview and its apply: nothing was written."""


class EditConflict(ServiceError):
    """Someone else saved the item after the form was opened, and saving would overwrite
    `fields` of theirs (the form's field name → what they saved, in a few words): nothing was
    written. `seen` is the saved version's fingerprint, for a form that saves again on
    purpose."""

    def __init__(self, message: str, *, fields: dict[str, str], seen: str):
        self.fields = fields
        self.seen = seen
        super().__init__(message)


class UploadInvalid(ServiceError):
    """An uploaded file was refused; `errors` are the loader's `LINE:COLUMN: message` lines."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass(frozen=True)
class Added:
    """What curation_item_add did: the message to show, and the new item's slug (made from
    its title when none was typed), so the page can open at it."""

    message: str
    slug: str


def _require_editor(user, track: Track) -> None:
    if not permissions.can_edit_track(user, track):
        raise NotAllowed(f"Only the leads of {track.title} and staff can change it.")


@dataclass
class _Edit:
    """What an edit did to the data: the YAML path of the item it is about (errors there go
    next to its form fields) and what to say when it worked."""

    target: str | None
    message: str


def _rewrite(*, user, track: Track, edit: Callable[[dict], _Edit]) -> tuple[LoadReport, str]:
    """Export, edit, validate and write the track in one transaction under the loader's lock,
    so two people editing at once each change the other's latest version."""
    _require_editor(user, track)
    with transaction.atomic():
        lock_for_writing()
        current = Track.objects.filter(pk=track.pk, archived_at__isnull=True).first()
        if current is None:
            raise ServiceError(f"{track.title} is archived; restore it before editing it.")
        data = track_export_data(track=current)
        done = edit(data)
        drop_empty_lists(data)
        try:
            spec = read_data(
                data,
                display="browser edit",
                source_path=current.source_path,
                expect_slug=current.slug,
            )
            report = load_specs([spec], how=ChangeHow.BROWSER, changed_by=user)
        except CurriculumInvalid as invalid:
            raise EditInvalid.from_loader(invalid, done.target) from None
    return report, done.message


# --- fields ---------------------------------------------------------------------------------


def _apply_fields(item: dict, kind: str, values: dict, *, adding: bool = False) -> None:
    """Form values (text as typed) onto an item's data, as its YAML would spell them."""
    if kind == "modules" and None not in (number(values.get("weeks")), number(values.get("days"))):
        message = "Give either weeks or days, not both: clear the one you don't want."
        raise EditInvalid({"weeks": [message], "days": [message]})
    for key in EDITABLE[kind]:
        if key not in values:
            continue
        value = values[key]
        if isinstance(value, str):
            # Browsers send a textarea's line breaks as CRLF; the file has LF. Unchanged text
            # must stay unchanged (else learners read "changed since you finished").
            value = normalize_newlines(value)
        if key in ("weeks", "days", "minutes", "points"):
            put(item, key, number(value))
        elif key in ("optional", "team", "filled_in"):
            put(item, key, bool(value), False)
        elif key == "source":
            put(item, key, {name: text for name, text in (value or {}).items() if text})
        elif key == "tags":
            put(item, key, words(value))
        elif key == "constraints":
            put(item, key, lines(value))
        elif key == "requires":
            put(item, key, sorted(value or []))
        elif key == "choose":
            put(item, key, choose_mapping(value))
        elif key == "level":
            put(item, key, value, "beginner")
        elif key == "review":
            put(item, key, value, "lead")
        elif key in ("title", "brief", "kind", "slug"):
            item[key] = value  # required: the loader says so when it is empty
        else:
            put(item, key, value)
    if kind == "modules" and item.get("days") is not None:
        item.pop("weeks", None)  # days are for modules shorter than a week
    if kind == "resources" and item.get("kind") != "track":
        item.pop("track", None)


# The loader refuses `filled_in` on a track without a `source` once per tagged item, in YAML's
# words; the editor says it once, in the form's, next to the field that decides it.
_NO_SOURCE_FOR_TAG = (
    "The track names no source yet: give it one in the track's details (the Source fields) "
    "before marking items as not in it."
)


def _tag_needs_a_source(data: dict, item: dict) -> None:
    if item.get("filled_in") and not data.get("source"):
        raise EditInvalid.about("filled_in", _NO_SOURCE_FOR_TAG)


def _tags_need_a_source(data: dict) -> None:
    if data.get("source"):
        return
    tagged = [
        item.get("title") or item.get("slug", "")
        for module in data.get("modules", [])
        for kind in ITEM_LISTS
        for item in module.get(kind, [])
        if item.get("filled_in")
    ]
    if tagged:
        named = ", ".join(f"“{title}”" for title in tagged[:5])
        more = f" and {len(tagged) - 5} more" if len(tagged) > 5 else ""
        raise EditInvalid.about(
            "source_title",
            f"{len(tagged)} item{'s are' if len(tagged) != 1 else ' is'} marked as not in the "
            f"source ({named}{more}): untick their “Not in the track's source” box first, or "
            "keep a source.",
        )


def _unchanged_since_seen(item: dict, kind: str, values: dict, seen: str, what: str) -> None:
    """Refuse (EditConflict) when someone else saved the item after its form was opened
    (`seen`, the fingerprint the form carried) and the form's values would put back some of
    the fields they changed. Only those are marked: the fields the person saving changed
    themselves are theirs to save."""
    now = fingerprint(item, kind)
    if not seen or seen == now:
        return
    theirs = changed_since(seen, item, kind)
    mine = {key: value for key, value in item.items() if key in EDITABLE[kind]}
    _apply_fields(mine, kind, values)
    saved, saving = shown_fields(item, kind), shown_fields(mine, kind)
    overwritten = [name for name in saving if name in theirs and saving[name] != saved[name]]
    if overwritten:
        raise EditConflict(
            f"Someone else saved changes to {what} after you opened this form, so nothing was "
            "saved. What you typed is kept below; the fields marked are the ones they changed, "
            "each with what they saved. Check them, then save again to put back what the form "
            "shows.",
            fields={name: _as_shown(saved[name]) for name in overwritten},
            seen=now,
        )


def _as_shown(value) -> str:
    """A saved value in a few words, for the field it is shown next to."""
    if value is None or value in ("", [], {}):
        return "empty"
    if isinstance(value, bool):
        return "ticked" if value else "not ticked"
    if isinstance(value, list):
        value = ", ".join(str(part) for part in value)
    elif isinstance(value, dict):
        value = choose_text(value)
    text = " ".join(str(value).split())
    return f"“{text if len(text) <= 80 else text[:79] + '…'}”"


def curation_track_edit(*, user, track: Track, values: dict, seen: str = "") -> str:
    """Change the track's own fields (title, summary, prerequisites, level, tags, requires).
    `seen` is the fingerprint the form was opened with: a save over someone else's newer
    change is refused (EditConflict)."""

    def edit(data: dict) -> _Edit:
        _unchanged_since_seen(data, "track", values, seen, "the track's details")
        _apply_fields(data, "track", values)
        _tags_need_a_source(data)
        return _Edit("track", f"Saved the track's details of {data['title']}.")

    return _rewrite(user=user, track=track, edit=edit)[1]


def curation_item_edit(
    *,
    user,
    track: Track,
    kind: str,
    slug: str,
    values: dict,
    module: str | None = None,
    seen: str = "",
) -> str:
    """Change a module's, resource's or capstone's fields; `module` moves a resource or
    capstone to the end of another module of the track. `seen` is the fingerprint the form
    was opened with: a save over someone else's newer change is refused (EditConflict)."""

    def edit(data: dict) -> _Edit:
        found = _found(data, kind, slug)
        what = f"{KINDS[kind]} “{found.item.get('title', slug)}”"
        _unchanged_since_seen(found.item, kind, values, seen, what)
        _apply_fields(found.item, kind, values)
        _tag_needs_a_source(data, found.item)
        if module and kind in ITEM_LISTS and module != found.module["slug"]:
            _move_to_module(data, kind, found, module)
            found = locate(data, kind, slug)
        return _Edit(found.path, f"Saved {KINDS[kind]} “{found.item.get('title', slug)}”.")

    return _rewrite(user=user, track=track, edit=edit)[1]


def _found(data: dict, kind: str, slug: str):
    found = locate(data, kind, slug)
    if found is None:
        raise ServiceError(f"There is no active {KINDS[kind]} '{slug}' in this track.")
    return found


def _move_to_module(data: dict, kind: str, found, module_slug: str) -> None:
    target = module_at(data, module_slug)
    if target is None:
        raise EditInvalid.about("module", f"There is no active module '{module_slug}'.")
    item = found.container.pop(found.index)
    items_of(target[1], kind).append(item)


def curation_item_add(
    *, user, track: Track, kind: str, values: dict, module: str | None = None
) -> Added:
    """Add a module (at the end of the track) or a resource or capstone (at the end of
    `module`). The slug is its identity from then on: progress and points hang on it."""
    made: dict[str, str] = {}  # the slug the edit settled on

    def edit(data: dict) -> _Edit:
        slug = (values.get("slug") or "").strip()
        item: dict = {"slug": slug or _slug_from_title(track, data, kind, values.get("title"))}
        made["slug"] = item["slug"]
        _apply_fields(item, kind, {**values, "slug": item["slug"]}, adding=True)
        _tag_needs_a_source(data, item)
        if kind == "modules":
            data["modules"].append(item)
            return _Edit(
                f"track.modules[{len(data['modules']) - 1}]",
                f"Added module “{item.get('title', '')}”.",
            )
        target = module_at(data, module or "")
        if target is None:
            raise EditInvalid.about("module", "Choose the module it belongs to.")
        module_index, module_dict = target
        items = items_of(module_dict, kind)
        items.append(item)
        path = f"track.modules[{module_index}].{kind}[{len(items) - 1}]"
        return _Edit(
            path, f"Added {KINDS[kind]} “{item.get('title', '')}” to {module_dict['title']}."
        )

    message = _rewrite(user=user, track=track, edit=edit)[1]
    return Added(message=message, slug=made["slug"])


def _slug_from_title(track: Track, data: dict, kind: str, title) -> str:
    """A slug for an item added with none: its title's, made unique in the track (archived
    items' slugs included: reusing one would bring that item back). Empty when the title has
    nothing a slug can hold; the loader then asks for one."""
    base = slugify(title or "")[: SLUG_MAX - 4].strip("-")
    if not base:
        return ""
    if kind == "modules":
        taken = set(Module.objects.filter(track=track).values_list("slug", flat=True))
        taken |= {module["slug"] for module in data.get("modules", [])}
    else:
        taken = set(Resource.objects.filter(track=track).values_list("slug", flat=True))
        taken |= set(Capstone.objects.filter(track=track).values_list("slug", flat=True))
        taken |= {
            item["slug"]
            for module in data.get("modules", [])
            for items in ITEM_LISTS
            for item in module.get(items, [])
        }
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def curation_item_archive(*, user, track: Track, kind: str, slug: str) -> str:
    """Archive an item: learners' progress, notes, submissions and points on it are kept, and
    restoring it brings it back with them. A module takes its resources and capstones along."""

    def edit(data: dict) -> _Edit:
        found = _found(data, kind, slug)
        item = found.container.pop(found.index)
        if kind == "modules":
            _drop_requires_of(data, slug)
        return _Edit(None, f"Archived {KINDS[kind]} “{item.get('title', slug)}”.")

    return _rewrite(user=user, track=track, edit=edit)[1]


def _drop_requires_of(data: dict, module_slug: str) -> None:
    """Modules that required an archived module no longer can."""
    for module in data["modules"]:
        if module_slug in module.get("requires", []):
            put(module, "requires", [slug for slug in module["requires"] if slug != module_slug])


def curation_item_restore(*, user, track: Track, kind: str, slug: str) -> str:
    """Bring an archived item back where it was (same row: its learners' progress returns
    with it). A module comes back with the resources and capstones archived along with it."""

    def edit(data: dict) -> _Edit:
        if locate(data, kind, slug) is not None:
            raise ServiceError(f"The {KINDS[kind]} '{slug}' is not archived.")
        row = _archived_row(track, kind, slug)
        if kind == "modules":
            active = {module["slug"] for module in data["modules"]}
            restored = _module_with_items(row, active)
            data["modules"].insert(min(row.position, len(data["modules"])), restored)
            return _Edit(None, f"Restored module “{row.title}”.")
        target = module_at(data, row.module.slug)
        if target is None:
            raise ServiceError(
                f"Its module “{row.module.title}” is archived: restore the module first."
            )
        items = items_of(target[1], kind)
        entry = resource_data(row) if kind == "resources" else capstone_data(row)
        items.insert(min(row.position, len(items)), entry)
        return _Edit(None, f"Restored {KINDS[kind]} “{row.title}”.")

    return _rewrite(user=user, track=track, edit=edit)[1]


def _archived_row(track: Track, kind: str, slug: str):
    model = {"modules": Module, "resources": Resource, "capstones": Capstone}[kind]
    queryset = model.objects.filter(track=track, slug=slug, archived_at__isnull=False)
    if model is Resource:
        queryset = queryset.select_related("module", "linked_track")
    elif model is Capstone:
        queryset = queryset.select_related("module")
    row = queryset.first()
    if row is None:
        raise ServiceError(f"There is no archived {KINDS[kind]} '{slug}' in this track.")
    return row


def _module_with_items(module: Module, active_modules: set[str]) -> dict:
    """An archived module's data with the items archived when it was (not ones archived
    earlier on their own), and only the `requires` that still name active modules."""
    resources = list(
        Resource.objects.filter(module=module, archived_at=module.archived_at)
        .select_related("linked_track")
        .order_by("position", "pk")
    )
    capstones = list(
        Capstone.objects.filter(module=module, archived_at=module.archived_at).order_by(
            "position", "pk"
        )
    )
    requires = sorted(
        slug for slug in module.requires.values_list("slug", flat=True) if slug in active_modules
    )
    return module_data(module, requires, resources, capstones)


def curation_item_move(
    *, user, track: Track, kind: str, slug: str, direction: str = "", place: int | None = None
) -> str:
    """Move a module, resource or capstone one place up or down, or (`place`, counted from 1,
    as a drag and drop asks) to that place: modules among the track's, resources and
    capstones within their module."""
    if place is None and direction not in ("up", "down"):
        raise ServiceError("Move up or down.")

    def edit(data: dict) -> _Edit:
        found = _found(data, kind, slug)
        items = found.container
        title = found.item.get("title", slug)
        if place is not None:
            if not 1 <= place <= len(items):
                raise ServiceError(
                    f"There is no place {place} for “{title}” (1 to {len(items)}); "
                    "nothing was moved."
                )
            if place - 1 == found.index:
                raise ServiceError(f"“{title}” is already in place {place}; nothing was moved.")
            items.insert(place - 1, items.pop(found.index))
            return _Edit(None, f"Moved “{title}” to place {place}.")
        step = -1 if direction == "up" else 1
        other = found.index + step
        if not 0 <= other < len(items):
            where = "first" if direction == "up" else "last"
            raise ServiceError(f"“{title}” is already {where}; nothing was moved.")
        items[found.index], items[other] = items[other], items[found.index]
        return _Edit(None, f"Moved “{title}” {direction}.")

    return _rewrite(user=user, track=track, edit=edit)[1]


def track_set_archived(*, user, track: Track, archived: bool) -> str:
    """Archive a whole track (hidden from learners, their progress and certificates kept) or
    restore it: staff only. A track that other active tracks require or stand for stays."""
    if not permissions.can_archive_track(user, track):
        raise NotAllowed("Only staff can archive or restore a track.")
    from ..structure import structure_changed

    with transaction.atomic():
        row = Track.objects.select_for_update().get(pk=track.pk)
        if (row.archived_at is not None) == archived:
            return f"{row.title} was already {'archived' if archived else 'active'}."
        if archived:
            naming = sorted(
                {
                    *Track.objects.active().filter(requires=row).values_list("slug", flat=True),
                    *Resource.objects.active()
                    .filter(linked_track=row, track__archived_at__isnull=True)
                    .values_list("track__slug", flat=True),
                }
            )
            if naming:
                raise ServiceError(
                    f"{row.title} is required by or part of {', '.join(naming)}: change those "
                    "first."
                )
        row.archived_at = timezone.now() if archived else None
        Track.objects.filter(pk=row.pk).update(archived_at=row.archived_at)
        Track.history.bulk_history_create(
            [row],
            update=True,
            default_user=user,
            default_change_reason=ChangeHow.ADMIN,
            custom_historical_attrs={
                "requires_slugs": sorted(row.requires.values_list("slug", flat=True))
            },
        )
        structure_changed([row.pk])
    return f"{'Archived' if archived else 'Restored'} {row.title}."


# --- uploads ---------------------------------------------------------------------------------


def _upload_spec(upload: TrackUpload, track: Track):
    return read_upload(
        upload.text.encode("utf-8"),
        display=upload.filename,
        source_path=track.source_path or upload.filename,
        expect_slug=track.slug,
    )


def _check_leads(user, track: Track, spec) -> None:
    """Who leads a track is staff's to decide: a lead's file may not change `leads:`."""
    if permissions.can_manage_leads(user, track):
        return
    if sorted(spec.leads) != sorted(track.lead_emails or []):
        at = spec.leads_at or spec.slug_at  # the list, or (none in the file) the track's slug
        raise UploadInvalid(
            [
                f"{at.line}:{at.column}: "
                + at.where.says(
                    "only staff can change who leads the track: keep the `leads:` list as it "
                    "is (download the track to see it)"
                )
            ]
        )


def _line_col(invalid: CurriculumInvalid) -> list[str]:
    return [f"{e.line}:{e.column}: {e.message}" for e in invalid.load_errors]


def track_upload_create(*, user, track: Track, filename: str, data: bytes) -> TrackUpload:
    """Check an uploaded file as the loader would load it (without writing anything to the
    track), and keep it for its preview. Raises UploadInvalid with the loader's messages."""
    _require_editor(user, track)
    display = (filename or "upload.yaml")[:255]
    try:
        text = read_upload_text(data, display=display)
        spec = read_upload(
            data,
            display=display,
            source_path=track.source_path or display,
            expect_slug=track.slug,
        )
        load_specs([spec], dry_run=True)  # the checks across tracks and the database
    except CurriculumInvalid as invalid:
        raise UploadInvalid(_line_col(invalid)) from None
    _check_leads(user, track, spec)
    return TrackUpload.objects.create(
        track=track,
        uploaded_by=user,
        filename=display,
        text=text,
        created_at=timezone.now(),
    )


def read_upload_text(data: bytes, *, display: str) -> str:
    from ..loader.parse import decode_bytes

    max_bytes = _max_bytes()
    text, error = decode_bytes(data, display=display, max_bytes=max_bytes, size=len(data))
    if error is not None:
        raise CurriculumInvalid([error])
    return text


def _max_bytes() -> int:
    from django.conf import settings

    return getattr(settings, "CURRICULUM_MAX_FILE_BYTES", 1_000_000)


def track_upload_apply(*, user, upload: TrackUpload, version: int) -> LoadReport:
    """Load a previewed upload: the loader's own path (`load_curriculum`'s), recorded as a
    YAML upload by `user`. Refuses with TrackChanged when the track's version is no longer
    the one the preview showed (an edit, another upload or a file load came in between)."""
    track = upload.track
    _require_editor(user, track)

    def unchanged_since_preview() -> None:
        current = (
            Track.objects.select_for_update()
            .filter(pk=track.pk)
            .values_list("structure_version", flat=True)
            .first()
        )
        if current != version:
            raise TrackChanged(
                f"{track.title} changed after this preview was made (an edit in the browser, "
                "another upload or a file load); nothing was written. Check the new preview "
                "below and apply again."
            )
        if not TrackUpload.objects.filter(pk=upload.pk, status=UploadStatus.PENDING).exists():
            raise ServiceError("This upload was already applied or cancelled.")

    try:
        spec = _upload_spec(upload, track)
        _check_leads(user, track, spec)
        with transaction.atomic():
            report = load_specs(
                [spec],
                how=ChangeHow.UPLOAD,
                changed_by=user,
                before_write=unchanged_since_preview,
            )
            TrackUpload.objects.filter(pk=upload.pk).update(
                status=UploadStatus.APPLIED, decided_at=timezone.now()
            )
    except CurriculumInvalid as invalid:
        raise UploadInvalid(_line_col(invalid)) from None
    upload.status = UploadStatus.APPLIED
    return report


def track_upload_cancel(*, user, upload: TrackUpload) -> None:
    """Drop an upload without writing anything to the track."""
    _require_editor(user, upload.track)
    if upload.status != UploadStatus.PENDING:
        raise ServiceError("This upload was already applied or cancelled.")
    TrackUpload.objects.filter(pk=upload.pk, status=UploadStatus.PENDING).update(
        status=UploadStatus.CANCELLED, decided_at=timezone.now()
    )
    upload.status = UploadStatus.CANCELLED
