"""Compare what the files ask for with what the database holds, then write only the difference.

Identity is the slug path: a track by its slug, a module, resource or capstone by (track, slug).
Rows are never deleted: an item missing from its file is archived, one that comes back is
restored (same primary key, so progress and points that point at it survive), and a resource
that moves to another module of its track keeps its row. Writes are bulk: a reload that changes
nothing runs only the reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from ..models import Capstone, ChangeHow, Module, Resource, Track, resource_points
from ..services import curriculum_item_derive
from ..structure import structure_changed
from .crossref import TrackInDb
from .schema import CapstoneSpec, ResourceSpec, TrackSpec

# Fields compared on reload (and written when they differ), per model.
TRACK_FIELDS = ("title", "summary", "prerequisites", "level", "tags", "lead_emails", "source")
MODULE_FIELDS = ("title", "summary", "weeks", "days", "choices_required", "position")
RESOURCE_FIELDS = (
    "module_id",
    "title",
    "kind",
    "linked_track_id",
    "url",
    "minutes",
    "points_override",
    "points",
    "optional",
    "filled_in",
    "choice",
    "notes",
    "position",
)
CAPSTONE_FIELDS = (
    "module_id",
    "title",
    "brief",
    "constraints",
    "minutes",
    "points",
    "review",
    "optional",
    "team",
    "filled_in",
    "position",
)
# A learner who finished a resource is told when one of these changes afterwards.
CONTENT_MARKED = ("title", "url", "notes")
# How a changed field is named in --dry-run lines.
_SHOWN = {"module_id": "module", "linked_track_id": "track", "lead_emails": "leads"}
_BATCH = 500
_LOCK_KEY = 0x5761796D  # "Waym": one curriculum load at a time on PostgreSQL


@dataclass(frozen=True)
class _NewTrack:
    """A resource of kind track names a track this run creates: its id is known once written."""

    slug: str


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    archived: int = 0
    unchanged: int = 0
    files: int = 0
    tracks: int = 0
    plan: list[str] = field(default_factory=list)
    # A dry run's plan, for a preview that shows each change field by field.
    changes: Plan | None = field(default=None, repr=False, compare=False)

    def summary_line(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, archived {self.archived}, "
            f"unchanged {self.unchanged}"
        )


@dataclass
class _Change:
    """One item the plan touches: a new unsaved row, or an existing row and what differs."""

    row: Track | Module | Resource | Capstone
    label: str  # "resource fastai-part1/lesson-1-video"
    values: dict
    changed: list[str] = field(default_factory=list)
    restore: bool = False
    counted: bool = True  # False: only bookkeeping (source_path) differs
    module_key: tuple[str, str] | None = None  # (track slug, module slug) for resources/capstones


@dataclass
class Plan:
    report: LoadReport
    now: datetime
    creates: dict[type, list[_Change]] = field(default_factory=dict)
    updates: dict[type, list[_Change]] = field(default_factory=dict)
    archives: dict[type, list[int]] = field(default_factory=dict)
    track_requires: dict[str, list[str]] = field(default_factory=dict)
    module_requires: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    archived_in: set[int] = field(default_factory=set)  # ids of tracks something was archived in
    archived_rows: dict[type, list] = field(default_factory=dict)
    # The run's tracks as read before writing (slug → row; absent for tracks it creates).
    tracks: dict[str, Track] = field(default_factory=dict)
    # `requires` (slugs) of tracks and modules the run archives, for their history records.
    requires_before: dict[tuple[type, int], list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.creates or self.updates or self.archives)

    def create(self, model: type, change: _Change) -> None:
        self.creates.setdefault(model, []).append(change)
        self.report.created += 1
        self.report.plan.append(f"create {change.label}")

    def compare(self, model: type, change: _Change, *, requires_changed: bool = False) -> None:
        row = change.row
        change.changed = [
            name for name, value in change.values.items() if getattr(row, name) != value
        ]
        if requires_changed:
            change.changed.append("requires")
        change.restore = row.archived_at is not None
        if not change.changed and not change.restore:
            self.report.unchanged += 1
            if change.counted:  # nothing else differs; source_path may still need writing
                return
        else:
            self.report.updated += 1
            change.counted = True
            shown = ", ".join(_SHOWN.get(name, name) for name in change.changed)
            verb = "restore" if change.restore else "update"
            self.report.plan.append(f"{verb} {change.label}" + (f" ({shown})" if shown else ""))
        self.updates.setdefault(model, []).append(change)

    def archive(self, model: type, row, label: str) -> None:
        self.archives.setdefault(model, []).append(row.pk)
        self.archived_rows.setdefault(model, []).append(row)
        self.archived_in.add(row.pk if model is Track else row.track_id)
        self.report.archived += 1
        self.report.plan.append(f"archive {label}")


def build_plan(
    specs: list[TrackSpec], db: dict[str, TrackInDb], *, prune: bool, report: LoadReport
) -> Plan:
    plan = Plan(report=report, now=timezone.now())
    slugs = [spec.slug for spec in specs]
    tracks = {track.slug: track for track in Track.objects.filter(slug__in=slugs)}
    plan.tracks = tracks
    track_ids = [track.pk for track in tracks.values()]
    modules = _by_track(Module.objects.filter(track_id__in=track_ids))
    resources = _by_track(Resource.objects.filter(track_id__in=track_ids))
    capstones = _by_track(Capstone.objects.filter(track_id__in=track_ids))
    module_requires: dict[int, set[int]] = {}
    for from_id, to_id in Module.requires.through.objects.filter(
        from_module__track_id__in=track_ids
    ).values_list("from_module_id", "to_module_id"):
        module_requires.setdefault(from_id, set()).add(to_id)

    track_pks = {slug: track.pk for slug, track in db.items()}
    for spec in specs:
        track = tracks.get(spec.slug)
        values = {
            "title": spec.title,
            "summary": spec.summary,
            "prerequisites": spec.prerequisites,
            "level": spec.level,
            "tags": spec.tags,
            "lead_emails": spec.leads,
            "source": spec.source,
        }
        plan.track_requires[spec.slug] = [ref.slug for ref in spec.requires]
        if track is None:
            new = Track(slug=spec.slug, source_path=spec.source_path, **values)
            plan.create(Track, _Change(new, f"track {spec.slug}", values))
            existing_modules, existing_resources, existing_capstones = {}, {}, {}
        else:
            requires_changed = set(db[spec.slug].requires) != set(plan.track_requires[spec.slug])
            change = _Change(
                track, f"track {spec.slug}", values, counted=track.source_path == spec.source_path
            )
            plan.compare(Track, change, requires_changed=requires_changed)
            existing_modules = modules.get(track.pk, {})
            existing_resources = resources.get(track.pk, {})
            existing_capstones = capstones.get(track.pk, {})
        module_slug_by_pk = {module.pk: slug for slug, module in existing_modules.items()}
        for module in existing_modules.values():
            plan.requires_before[(Module, module.pk)] = sorted(
                module_slug_by_pk.get(pk, "") for pk in module_requires.get(module.pk, ())
            )
        _plan_modules(plan, spec, existing_modules, module_requires, module_slug_by_pk)
        _plan_items(plan, spec, existing_resources, module_slug_by_pk, Resource, track_pks)
        _plan_items(plan, spec, existing_capstones, module_slug_by_pk, Capstone, track_pks)

    if prune:
        loaded = set(slugs)
        for slug, track in sorted(db.items()):
            if slug not in loaded and not track.archived:
                plan.requires_before[(Track, track.pk)] = sorted(track.requires)
                plan.archive(Track, Track.objects.get(pk=track.pk), f"track {slug}")
    return plan


def _by_track(queryset) -> dict[int, dict[str, object]]:
    grouped: dict[int, dict[str, object]] = {}
    for row in queryset:
        grouped.setdefault(row.track_id, {})[row.slug] = row
    return grouped


def _plan_modules(
    plan: Plan, spec: TrackSpec, existing: dict, requires: dict, slug_by_pk: dict
) -> None:
    for position, module in enumerate(spec.modules):
        label = f"module {spec.slug}/{module.slug}"
        values = {
            "title": module.title,
            "summary": module.summary,
            "weeks": module.weeks,
            "days": module.days,
            "choices_required": module.choices_required,
            "position": position,
        }
        plan.module_requires[(spec.slug, module.slug)] = [ref.slug for ref in module.requires]
        row = existing.get(module.slug)
        if row is None:
            new = Module(slug=module.slug, **values)
            plan.create(Module, _Change(new, label, values, module_key=(spec.slug, module.slug)))
            continue
        before = {slug_by_pk.get(pk) for pk in requires.get(row.pk, ())}
        plan.compare(
            Module,
            _Change(row, label, values),
            requires_changed=before != {r.slug for r in module.requires},
        )
    wanted = {module.slug for module in spec.modules}
    for slug, row in existing.items():
        if slug not in wanted and row.archived_at is None:
            plan.archive(Module, row, f"module {spec.slug}/{slug}")


def _resource_values(resource: ResourceSpec, position: int, track_pks: dict[str, int]) -> dict:
    linked = None
    if resource.track_ref is not None:
        slug = resource.track_ref.slug
        linked = track_pks[slug] if slug in track_pks else _NewTrack(slug)
    return {
        "title": resource.title,
        "kind": resource.kind,
        "linked_track_id": linked,
        "url": resource.url,
        "minutes": resource.minutes,
        "points_override": resource.points_override,
        "points": resource_points(
            kind=resource.kind, minutes=resource.minutes, points=resource.points_override
        ),
        "optional": resource.optional,
        "filled_in": resource.filled_in,
        "choice": resource.choice,
        "notes": resource.notes,
        "position": position,
    }


def _capstone_values(capstone: CapstoneSpec, position: int, track_pks: dict[str, int]) -> dict:
    return {
        "title": capstone.title,
        "brief": capstone.brief,
        "constraints": capstone.constraints,
        "minutes": capstone.minutes,
        "points": capstone.points,
        "review": capstone.review,
        "optional": capstone.optional,
        "team": capstone.team,
        "filled_in": capstone.filled_in,
        "position": position,
    }


def _plan_items(
    plan: Plan,
    spec: TrackSpec,
    existing: dict,
    module_slug_by_pk: dict,
    model: type,
    track_pks: dict[str, int],
) -> None:
    noun = "resource" if model is Resource else "capstone"
    wanted: set[str] = set()
    for module in spec.modules:
        items: list[ResourceSpec] | list[CapstoneSpec] = (
            module.resources if model is Resource else module.capstones
        )
        for position, item in enumerate(items):
            wanted.add(item.slug)
            values_of = _resource_values if model is Resource else _capstone_values
            values = values_of(item, position, track_pks)
            change = _Change(
                None, f"{noun} {spec.slug}/{item.slug}", values, module_key=(spec.slug, module.slug)
            )
            row = existing.get(item.slug)
            if row is None:
                change.row = model(slug=item.slug, **values)
                plan.create(model, change)
                continue
            change.row = row
            # Same module (by slug) means unchanged; a new or different module is a move.
            same_module = module_slug_by_pk.get(row.module_id) == module.slug
            change.values = {"module_id": row.module_id if same_module else None, **values}
            plan.compare(model, change)
    for slug, row in existing.items():
        if slug not in wanted and row.archived_at is None:
            plan.archive(model, row, f"{noun} {spec.slug}/{slug}")


# --- writing ---------------------------------------------------------------------------------


def lock_for_writing() -> None:
    """Serialize concurrent loads before they read what they will compare against (PostgreSQL;
    SQLite's IMMEDIATE transactions already serialize writers)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def write_plan(
    plan: Plan,
    specs: list[TrackSpec],
    db: dict[str, TrackInDb],
    *,
    how: str = ChangeHow.LOAD,
    changed_by=None,
) -> None:
    history = _History(plan, how=how, user=changed_by)
    if plan.empty:  # a reload that changes nothing writes nothing (unless a file caught up)
        _stamp_tracks(plan, how, set())
        return
    now = plan.now
    source_by_slug = {spec.slug: spec.source_path for spec in specs}

    # Tracks.
    track_creates = [change.row for change in plan.creates.get(Track, [])]
    for track in track_creates:
        curriculum_item_derive(item=track)
    Track.objects.bulk_create(track_creates, batch_size=_BATCH)
    history.record(Track, track_creates, update=False)
    track_updates = plan.updates.get(Track, [])
    for change in track_updates:
        _apply_values(change)
        change.row.source_path = source_by_slug[change.row.slug]
        if change.counted:
            change.row.updated_at = now
    _bulk_update(
        Track,
        track_updates,
        (
            *TRACK_FIELDS,
            "summary_html",
            "prerequisites_html",
            "source_path",
            "archived_at",
            "updated_at",
        ),
    )
    # Only a file's path differing is bookkeeping, not a change anyone made: no history.
    history.record(Track, [change.row for change in track_updates if change.counted], update=True)
    track_ids = dict(Track.objects.filter(slug__in=list(source_by_slug)).values_list("slug", "pk"))

    # Modules.
    module_creates = plan.creates.get(Module, [])
    for change in module_creates:
        change.row.track_id = track_ids[change.module_key[0]]
        curriculum_item_derive(item=change.row)
    Module.objects.bulk_create([change.row for change in module_creates], batch_size=_BATCH)
    history.record(Module, [change.row for change in module_creates], update=False)
    module_updates = plan.updates.get(Module, [])
    for change in module_updates:
        _apply_values(change)
    _bulk_update(Module, module_updates, (*MODULE_FIELDS, "summary_html", "archived_at"))
    history.record(Module, [change.row for change in module_updates], update=True)
    track_slug_by_id = {pk: slug for slug, pk in track_ids.items()}
    module_ids = {
        (track_slug_by_id[track_id], module_slug): pk
        for track_id, module_slug, pk in Module.objects.filter(
            track_id__in=track_ids.values()
        ).values_list("track_id", "slug", "pk")
    }

    # Resources and capstones.
    for model, fields in ((Resource, RESOURCE_FIELDS), (Capstone, CAPSTONE_FIELDS)):
        creates = plan.creates.get(model, [])
        for change in creates:
            change.row.track_id = track_ids[change.module_key[0]]
            change.row.module_id = module_ids[change.module_key]
            if model is Resource:
                change.row.linked_track_id = _track_id(change.row.linked_track_id, track_ids)
            curriculum_item_derive(item=change.row)
        if creates:
            bulk_create_with_history(
                [change.row for change in creates], model, batch_size=_BATCH, **history.defaults
            )
        updates = plan.updates.get(model, [])
        extra = ("notes_html", "content_changed_at") if model is Resource else ("brief_html",)
        for change in updates:
            change.values["module_id"] = module_ids[change.module_key]
            if model is Resource:
                linked = change.values["linked_track_id"]
                change.values["linked_track_id"] = _track_id(linked, track_ids)
            if model is Resource and any(name in change.changed for name in CONTENT_MARKED):
                change.row.content_changed_at = now
            _apply_values(change)
        if updates:
            bulk_update_with_history(
                [change.row for change in updates],
                model,
                [*fields, *extra, "archived_at"],
                batch_size=_BATCH,
                **history.defaults,
            )

    # Archive what left its file (and, with --prune, tracks absent from the run).
    for model, pks in plan.archives.items():
        for start in range(0, len(pks), _BATCH):
            model.objects.filter(pk__in=pks[start : start + _BATCH]).update(archived_at=now)
        rows = plan.archived_rows[model]
        for row in rows:
            row.archived_at = now
        history.record(model, rows, update=True, archived=True)

    _sync_track_requires(plan, track_ids, db)
    _sync_module_requires(plan, track_ids, module_ids)
    # Bulk writes send no per-row signals: move the cached structures' versions on here.
    touched = _touched_track_ids(plan)
    structure_changed(touched)
    _stamp_tracks(plan, how, touched)


class _History:
    """History records for one run's rows (django-simple-history's bulk helpers): one date,
    person and reason for the whole run; tracks and modules also keep their `requires`."""

    def __init__(self, plan: Plan, *, how: str, user):
        self.plan = plan
        self.defaults = {
            "default_user": user,
            "default_change_reason": how,
            "default_date": plan.now,
        }

    def record(self, model: type, rows: list, *, update: bool, archived: bool = False) -> None:
        if not rows:
            return
        if model not in (Track, Module):
            model.history.bulk_history_create(
                rows, update=update, batch_size=_BATCH, **self.defaults
            )
            return
        # One insert for all, then one update for the rows that require something.
        records = model.history.bulk_history_create(
            rows,
            update=update,
            batch_size=_BATCH,
            custom_historical_attrs={"requires_slugs": []},
            **self.defaults,
        )
        requiring = []
        for row, record in zip(rows, records, strict=True):
            requires = self._requires(model, row, archived)
            if requires:
                record.requires_slugs = requires
                requiring.append(record)
        if requiring:
            model.history.model.objects.bulk_update(
                requiring, ["requires_slugs"], batch_size=_BATCH
            )

    def _requires(self, model: type, row, archived: bool) -> list[str]:
        if archived:
            return self.plan.requires_before.get((model, row.pk), [])
        if model is Track:
            return sorted(self.plan.track_requires.get(row.slug, []))
        track_slug = next(
            (slug for slug, pk in self._track_ids().items() if pk == row.track_id), None
        )
        return sorted(self.plan.module_requires.get((track_slug, row.slug), []))

    def _track_ids(self) -> dict[str, int]:
        if not hasattr(self, "_ids"):
            self._ids = {slug: track.pk for slug, track in self.plan.tracks.items() if track.pk} | {
                change.row.slug: change.row.pk for change in self.plan.creates.get(Track, [])
            }
        return self._ids


def _stamp_tracks(plan: Plan, how: str, touched: set[int]) -> None:
    """Remember how the run's tracks last changed: edited in the browser, or written (or found
    equal to) a file. A file that matches a track edited in the browser has caught up with it."""
    if how == ChangeHow.BROWSER:
        if touched:
            Track.objects.filter(pk__in=touched).update(browser_edited_at=plan.now)
        return
    stamped = set(touched) | {
        track.pk for track in plan.tracks.values() if track.browser_ahead_of_file
    }
    if stamped:
        Track.objects.filter(pk__in=stamped).update(file_loaded_at=plan.now)


def _touched_track_ids(plan: Plan) -> set[int]:
    touched = set(plan.archived_in)
    for changes in (*plan.creates.values(), *plan.updates.values()):
        for change in changes:
            row = change.row
            touched.add(row.pk if isinstance(row, Track) else row.track_id)
    return touched


def _track_id(linked, track_ids: dict[str, int]) -> int | None:
    return track_ids[linked.slug] if isinstance(linked, _NewTrack) else linked


def _apply_values(change: _Change) -> None:
    row = change.row
    for name, value in change.values.items():
        setattr(row, name, value)
    row.archived_at = None
    if change.counted:
        curriculum_item_derive(item=row)


def _bulk_update(model: type, changes: list[_Change], fields: tuple[str, ...]) -> None:
    """The rows' own update; their history is recorded by the caller."""
    if changes:
        model.objects.bulk_update(
            [change.row for change in changes], list(fields), batch_size=_BATCH
        )


def _sync_track_requires(plan: Plan, track_ids: dict[str, int], db: dict[str, TrackInDb]) -> None:
    pk_by_slug = {slug: track.pk for slug, track in db.items()} | track_ids
    through = Track.requires.through
    from_ids = [track_ids[slug] for slug in plan.track_requires]
    wanted = {
        (track_ids[slug], pk_by_slug[required])
        for slug, requires in plan.track_requires.items()
        for required in requires
    }
    _sync_through(through, "from_track_id", "to_track_id", from_ids, wanted)


def _sync_module_requires(plan: Plan, track_ids: dict[str, int], module_ids: dict) -> None:
    through = Module.requires.through
    from_ids = [module_ids[key] for key in plan.module_requires]
    wanted = {
        (module_ids[key], module_ids[(key[0], required)])
        for key, requires in plan.module_requires.items()
        for required in requires
    }
    _sync_through(through, "from_module_id", "to_module_id", from_ids, wanted)


def _sync_through(
    through, from_field: str, to_field: str, from_ids: list[int], wanted: set[tuple[int, int]]
) -> None:
    existing: dict[tuple[int, int], int] = {}
    for start in range(0, len(from_ids), _BATCH):
        rows = through.objects.filter(**{f"{from_field}__in": from_ids[start : start + _BATCH]})
        for pk, source, target in rows.values_list("pk", from_field, to_field):
            existing[(source, target)] = pk
    stale = [pk for pair, pk in existing.items() if pair not in wanted]
    for start in range(0, len(stale), _BATCH):
        through.objects.filter(pk__in=stale[start : start + _BATCH]).delete()
    missing = [
        through(**{from_field: source, to_field: target})
        for source, target in wanted - existing.keys()
    ]
    through.objects.bulk_create(missing, batch_size=_BATCH)
