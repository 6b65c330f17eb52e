"""Reads of curation: the editing outline of a track, an upload's preview (what it would
create, update, archive and restore, field by field, with the learners and points each
archive touches) and the track's change history. Each runs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum

from tracker.models import (
    CapstoneSubmission,
    PointsEntry,
    Progress,
    ProgressStatus,
    SubmissionStatus,
)

from ..loader import CurriculumInvalid, load_specs, read_upload
from ..loader.apply import Plan
from ..models import Capstone, Module, Resource, Track, TrackUpload

# --- learners' work on capstones an archive would remove -------------------------------------


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


@dataclass(frozen=True)
class CapstoneWork:
    """Learners' work on a capstone (or a module's capstones) that archiving it leaves
    unfinished: submissions waiting for review, and work not submitted (drafts, and work sent
    back for changes). Passed work needs no word: it keeps its points either way."""

    waiting: int = 0
    unsubmitted: int = 0

    @property
    def key(self) -> str:
        """The counts as a confirmation form carries them (what the lead was told)."""
        return f"{self.waiting}-{self.unsubmitted}"

    def __bool__(self) -> bool:
        return bool(self.waiting or self.unsubmitted)

    def __add__(self, other: CapstoneWork) -> CapstoneWork:
        return CapstoneWork(self.waiting + other.waiting, self.unsubmitted + other.unsubmitted)

    @property
    def said(self) -> str:
        """What archiving does to that work, in the words of the archive confirmations (the
        editor's dialog, its page without JavaScript, an upload's preview)."""
        parts = []
        if self.waiting:
            n = self.waiting
            parts.append(
                f"{n} submission{_plural(n, ' is', 's are')} waiting for review: "
                f"{_plural(n, 'it stays', 'they stay')} in the review queue, marked as from a "
                "removed capstone, and can still be passed (not sent back for changes)."
            )
        if self.unsubmitted:
            n = self.unsubmitted
            parts.append(
                f"{n} draft{_plural(n, '', 's')} (not submitted yet, or sent back for changes): "
                f"{_plural(n, 'its learner', 'their learners')} can still read "
                f"{_plural(n, 'it', 'them')} but no longer edit or submit "
                f"{_plural(n, 'it', 'them')}."
            )
        return " ".join(parts)


_UNSUBMITTED = (SubmissionStatus.DRAFT, SubmissionStatus.CHANGES_REQUESTED)


def capstone_work(*, capstone_ids) -> dict[int, CapstoneWork]:
    """`CapstoneWork` per capstone id (absent: none): one grouped query."""
    capstone_ids = list(capstone_ids)
    if not capstone_ids:
        return {}
    counts: dict[int, CapstoneWork] = {}
    for capstone_id, status, n in (
        CapstoneSubmission.objects.filter(
            capstone_id__in=capstone_ids,
            status__in=[SubmissionStatus.SUBMITTED, *_UNSUBMITTED],
        )
        .values_list("capstone_id", "status")
        .annotate(n=Count("pk"))
    ):
        waiting = n if status == SubmissionStatus.SUBMITTED else 0
        counts[capstone_id] = counts.get(capstone_id, CapstoneWork()) + CapstoneWork(
            waiting, n - waiting
        )
    return counts


def item_capstone_work(*, track: Track, kind: str, slug: str) -> CapstoneWork:
    """The learners' unfinished work that archiving this active capstone, or this active
    module's capstones, would leave (nothing for a resource): two queries."""
    if kind == "capstones":
        capstones = Capstone.objects.active().filter(track=track, slug=slug)
    elif kind == "modules":
        capstones = Capstone.objects.active().filter(
            track=track, module__slug=slug, module__archived_at__isnull=True
        )
    else:
        return CapstoneWork()
    work = capstone_work(capstone_ids=capstones.values_list("pk", flat=True))
    return sum(work.values(), CapstoneWork())


# --- the outline -------------------------------------------------------------------------------


@dataclass
class OutlineModule:
    module: Module
    resources: list[Resource] = field(default_factory=list)
    capstones: list[Capstone] = field(default_factory=list)
    first: bool = False
    last: bool = False
    # Learners' unfinished work on its capstones (what archiving the module leaves unfinished).
    work: CapstoneWork = field(default_factory=CapstoneWork)


@dataclass
class ArchivedItem:
    kind: str  # "resources" or "capstones"
    noun: str
    row: Resource | Capstone


@dataclass
class ArchivedModule:
    """An archived module, with what restoring it brings back (the items archived along with
    it) and what it does not (items archived on their own before it: restorable after it)."""

    module: Module
    with_it: list[ArchivedItem] = field(default_factory=list)
    before: list[ArchivedItem] = field(default_factory=list)


@dataclass
class Outline:
    track: Track
    modules: list[OutlineModule]
    archived_modules: list[ArchivedModule]
    # Archived items of active modules, each restorable on its own.
    archived_resources: list[Resource]
    archived_capstones: list[Capstone]

    @property
    def module_choices(self) -> list[tuple[str, str]]:
        return [(row.module.slug, row.module.title) for row in self.modules]

    @property
    def anything_archived(self) -> bool:
        return bool(self.archived_modules or self.archived_resources or self.archived_capstones)

    def spots(self) -> dict[tuple[str, str], Module | Resource | Capstone]:
        """Each item shown, active or archived, by (noun, slug): where a message about it
        goes."""
        found: dict[tuple[str, str], Module | Resource | Capstone] = {}
        for row in self.modules:
            found["module", row.module.slug] = row.module
            found.update({("resource", item.slug): item for item in row.resources})
            found.update({("capstone", item.slug): item for item in row.capstones})
        for entry in self.archived_modules:
            found["module", entry.module.slug] = entry.module
            found.update({(item.noun, item.row.slug): item.row for item in entry.with_it})
            found.update({(item.noun, item.row.slug): item.row for item in entry.before})
        found.update({("resource", item.slug): item for item in self.archived_resources})
        found.update({("capstone", item.slug): item for item in self.archived_capstones})
        return found


def curation_outline(*, track: Track) -> Outline:
    """The track's modules in order with their resources and capstones, and what is archived:
    the archived items of active modules, and each archived module with its own; each active
    capstone (and module) with the learners' unfinished work on it, which its archive
    confirmation states (four queries, whatever the track's size)."""
    modules = list(Module.objects.filter(track=track).order_by("position", "pk"))
    resources = list(
        Resource.objects.filter(track=track)
        .select_related("linked_track")
        .order_by("position", "pk")
    )
    capstones = list(Capstone.objects.filter(track=track).order_by("position", "pk"))
    by_id = {module.pk: module for module in modules}
    active = [OutlineModule(module) for module in modules if module.archived_at is None]
    rows = {row.module.pk: row for row in active}
    gone = {
        module.pk: ArchivedModule(module) for module in modules if module.archived_at is not None
    }
    archived: dict[str, list] = {"resources": [], "capstones": []}
    for kind, noun, items in (
        ("resources", "resource", resources),
        ("capstones", "capstone", capstones),
    ):
        for item in items:
            item.module = by_id[item.module_id]
            if item.module_id in gone and item.archived_at is not None:
                # Restoring the module brings back what was archived with it (the same
                # moment: curation_item_restore), not what was archived before on its own.
                entry = gone[item.module_id]
                together = item.archived_at == entry.module.archived_at
                (entry.with_it if together else entry.before).append(ArchivedItem(kind, noun, item))
            elif item.archived_at is None:
                if item.module_id in rows:
                    getattr(rows[item.module_id], kind).append(item)
            else:
                archived[kind].append(item)
    work = capstone_work(capstone_ids=[c.pk for row in active for c in row.capstones])
    for row in active:
        for capstone in row.capstones:
            capstone.work = work.get(capstone.pk, CapstoneWork())
            row.work += capstone.work
    if active:
        active[0].first = True
        active[-1].last = True
    return Outline(
        track=track,
        modules=active,
        archived_modules=list(gone.values()),
        archived_resources=archived["resources"],
        archived_capstones=archived["capstones"],
    )


def other_tracks(*, track: Track) -> list[tuple[str, str]]:
    """(slug, title) of the active tracks a track may require or stand for."""
    return list(
        Track.objects.active().exclude(pk=track.pk).order_by("title").values_list("slug", "title")
    )


# --- an upload's preview -------------------------------------------------------------------


@dataclass
class FieldChange:
    name: str
    before: str
    after: str


@dataclass
class PreviewItem:
    noun: str  # track, module, resource, capstone
    slug: str
    title: str
    changes: list[FieldChange] = field(default_factory=list)
    where: str = ""  # creates of resources and capstones: the module's title
    learners: int = 0  # archives: learners with progress or work on it
    points: int = 0  # archives: points those learners hold for it
    # archives of a capstone or module: learners' unfinished work on its capstones
    work: CapstoneWork = field(default_factory=CapstoneWork)


@dataclass
class Preview:
    upload: TrackUpload
    version: int
    created: list[PreviewItem] = field(default_factory=list)
    updated: list[PreviewItem] = field(default_factory=list)
    archived: list[PreviewItem] = field(default_factory=list)
    restored: list[PreviewItem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.created or self.updated or self.archived or self.restored)

    @property
    def learners_at_stake(self) -> int:
        return sum(item.learners for item in self.archived)

    @property
    def points_at_stake(self) -> int:
        return sum(item.points for item in self.archived)

    @property
    def work_at_stake(self) -> CapstoneWork:
        """Unfinished work on the capstones it archives (a module's capstones are archived,
        and listed, with it: each counted once)."""
        return sum((item.work for item in self.archived if item.noun == "capstone"), CapstoneWork())


_NOUNS = {Track: "track", Module: "module", Resource: "resource", Capstone: "capstone"}
_SHOWN = {
    "module_id": "module",
    "linked_track_id": "track",
    "lead_emails": "leads",
    "points_override": "points",
    "points": "points earned",
    "choices_required": "choose",
    "position": "place in its list",
}
LONG = 400


def _show(value) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    text = str(value)
    return text if len(text) <= LONG else text[: LONG - 1] + "…"


def upload_preview(*, upload: TrackUpload) -> Preview:
    """What applying `upload` would do to its track now, from the loader's own dry run."""
    track = Track.objects.get(pk=upload.track_id)
    preview = Preview(upload=upload, version=track.structure_version)
    try:
        spec = read_upload(
            upload.text.encode("utf-8"),
            display=upload.filename,
            source_path=track.source_path or upload.filename,
            expect_slug=track.slug,
        )
        plan = load_specs([spec], dry_run=True).changes
    except CurriculumInvalid as invalid:
        preview.errors = [f"{e.line}:{e.column}: {e.message}" for e in invalid.load_errors]
        return preview
    _fill(preview, plan, track)
    return preview


def _fill(preview: Preview, plan: Plan, track: Track) -> None:
    modules = list(Module.objects.filter(track=track).values_list("pk", "slug", "title"))
    module_slugs = {pk: slug for pk, slug, _ in modules}
    track_slugs = dict(Track.objects.values_list("pk", "slug"))
    # The modules' titles as the file has them (new ones too), for "in <module>".
    module_titles = {slug: title for _, slug, title in modules}
    for change in [*plan.creates.get(Module, []), *plan.updates.get(Module, [])]:
        module_titles[change.row.slug] = change.values.get("title", change.row.title)
    for model, changes in plan.creates.items():
        for change in changes:
            item = PreviewItem(_NOUNS[model], change.row.slug, change.values.get("title", ""))
            if model is not Module and change.module_key:
                item.where = module_titles.get(change.module_key[1], change.module_key[1])
            preview.created.append(item)
    for model, changes in plan.updates.items():
        for change in changes:
            if not change.counted:
                continue
            row = change.row
            item = PreviewItem(_NOUNS[model], row.slug, change.values.get("title", row.title))
            for name in change.changed:
                item.changes.append(
                    _field_change(model, name, change, plan, track, module_slugs, track_slugs)
                )
            (preview.restored if change.restore else preview.updated).append(item)
    for model, rows in plan.archived_rows.items():
        for row in rows:
            preview.archived.append(PreviewItem(_NOUNS[model], row.slug, row.title))
    _count_at_stake(preview, plan)


def _field_change(model, name, change, plan, track, module_slugs, track_slugs) -> FieldChange:
    row = change.row
    if name == "requires":
        if model is Track:
            before = sorted(Track.objects.get(pk=row.pk).requires.values_list("slug", flat=True))
            after = plan.track_requires.get(row.slug, [])
        else:
            before = plan.requires_before.get((Module, row.pk), [])
            after = plan.module_requires.get((track.slug, row.slug), [])
        return FieldChange("requires", _show(sorted(before)), _show(sorted(after)))
    if name == "module_id":
        return FieldChange("module", module_slugs.get(row.module_id, "?"), change.module_key[1])
    after = change.values[name]
    if name == "linked_track_id":
        before = track_slugs.get(row.linked_track_id)
        after = getattr(after, "slug", None) or track_slugs.get(after)
        return FieldChange("track", _show(before), _show(after))
    before = getattr(row, name)
    if name == "position":
        before, after = before + 1, after + 1
    return FieldChange(_SHOWN.get(name, name), _show(before), _show(after))


def _count_at_stake(preview: Preview, plan: Plan) -> None:
    """For each item the upload would archive: how many learners have progress (or work, for
    a capstone) on it and the net points they hold for it; two queries per kind. A module
    counts what its resources and capstones hold."""
    resources = [row.pk for row in plan.archived_rows.get(Resource, [])]
    capstones = [row.pk for row in plan.archived_rows.get(Capstone, [])]
    learners: dict[tuple[str, int], int] = {}
    points: dict[tuple[str, int], int] = {}
    if resources:
        for pk, n in (
            Progress.objects.filter(resource_id__in=resources)
            .exclude(status=ProgressStatus.NOT_STARTED)
            .values_list("resource_id")
            .annotate(n=Count("learner_id", distinct=True))
        ):
            learners[("resource", pk)] = n
        for pk, total in (
            PointsEntry.objects.filter(resource_id__in=resources)
            .values_list("resource_id")
            .annotate(total=Sum("amount"))
        ):
            points[("resource", pk)] = total or 0
    work: dict[int, CapstoneWork] = {}
    if capstones:
        for pk, n, waiting, unsubmitted in (
            CapstoneSubmission.objects.filter(capstone_id__in=capstones)
            .values_list("capstone_id")
            .annotate(
                n=Count("learner_id", distinct=True),
                waiting=Count("pk", filter=Q(status=SubmissionStatus.SUBMITTED)),
                unsubmitted=Count("pk", filter=Q(status__in=_UNSUBMITTED)),
            )
        ):
            learners[("capstone", pk)] = n
            work[pk] = CapstoneWork(waiting, unsubmitted)
        for pk, total in (
            PointsEntry.objects.filter(capstone_id__in=capstones)
            .values_list("capstone_id")
            .annotate(total=Sum("amount"))
        ):
            points[("capstone", pk)] = total or 0
    by_slug = {}
    for model, rows in plan.archived_rows.items():
        for row in rows:
            by_slug[(_NOUNS[model], row.slug)] = (row, model)
    for item in preview.archived:
        row, model = by_slug[(item.noun, item.slug)]
        if model in (Resource, Capstone):
            key = (item.noun, row.pk)
            item.learners, item.points = learners.get(key, 0), points.get(key, 0)
        if model is Capstone:
            item.work = work.get(row.pk, CapstoneWork())
    # A module: the learners with progress on any of its archived resources, and the points
    # its archived resources and capstones hold.
    modules = [row.pk for row in plan.archived_rows.get(Module, [])]
    if not modules:
        return
    module_learners = dict(
        Progress.objects.filter(resource__module_id__in=modules, resource_id__in=resources)
        .exclude(status=ProgressStatus.NOT_STARTED)
        .values_list("resource__module_id")
        .annotate(n=Count("learner_id", distinct=True))
    )
    module_points: dict[int, int] = {}
    for model in (Resource, Capstone):
        for row in plan.archived_rows.get(model, []):
            module_points[row.module_id] = module_points.get(row.module_id, 0) + points.get(
                (_NOUNS[model], row.pk), 0
            )
    module_work: dict[int, CapstoneWork] = {}
    for row in plan.archived_rows.get(Capstone, []):
        module_work[row.module_id] = module_work.get(row.module_id, CapstoneWork()) + work.get(
            row.pk, CapstoneWork()
        )
    for item in preview.archived:
        row, model = by_slug[(item.noun, item.slug)]
        if model is Module:
            item.learners = module_learners.get(row.pk, 0)
            item.points = module_points.get(row.pk, 0)
            item.work = module_work.get(row.pk, CapstoneWork())


# --- a track's history -------------------------------------------------------------------------


@dataclass
class HistoryEntry:
    noun: str
    slug: str
    title: str
    date: object
    how: str
    who: str
    kind: str  # "created", "changed", "archived", "restored", "deleted"
    changes: list[FieldChange] = field(default_factory=list)


@dataclass
class HistoryPage:
    track: Track
    page: object  # a Paginator page of the union rows
    entries: list[HistoryEntry]


HISTORY_PAGE_SIZE = 25
_MODELS = {"track": Track, "module": Module, "resource": Resource, "capstone": Capstone}
# Fields a record shows, in the order people read them (attnames; others are bookkeeping).
_HIDDEN = {"id", "track_id", "slug", "archived_at", "content_changed_at"}


def _historical(model):
    return model.history.model


def track_history(*, track: Track, page: str | int | None) -> HistoryPage:
    """Every recorded change to the track and its modules, resources and capstones, newest
    first, 25 a page, each with what changed from what to what. A fixed number of queries:
    one count and one page over the four history tables, then per table the page's records
    and the records before them, and the slugs the records name."""
    from django.core.paginator import Paginator
    from django.db.models import CharField, Value

    parts = []
    for noun, model in _MODELS.items():
        scope = {"id": track.pk} if model is Track else {"track_id": track.pk}
        parts.append(
            _historical(model)
            .objects.filter(**scope)
            .order_by()
            .values_list(Value(noun, output_field=CharField()), "history_id", "history_date")
        )
    union = parts[0].union(*parts[1:], all=True).order_by("-history_date", "-history_id")
    paginator = Paginator(union, HISTORY_PAGE_SIZE)
    current = paginator.get_page(page)
    rows = list(current.object_list)
    wanted: dict[str, list[int]] = {}
    for noun, history_id, _date in rows:
        wanted.setdefault(noun, []).append(history_id)
    records, previous = {}, {}
    for noun in _MODELS if rows else ():  # every table, so the count never depends on the mix
        found, before = _records_with_previous(_MODELS[noun], wanted.get(noun, []))
        records.update({(noun, r.history_id): r for r in found})
        previous.update({(noun, r.history_id): r for r in before})
    names = _names(track) if rows else ({}, {})
    entries = []
    for noun, history_id, _date in rows:
        record = records[(noun, history_id)]
        prev = previous.get((noun, getattr(record, "prev_history_id", None)))
        entries.append(_entry(noun, record, prev, names))
    return HistoryPage(track=track, page=current, entries=entries)


def _records_with_previous(model, ids: list[int]):
    from django.db.models import OuterRef, Subquery

    historical = _historical(model)
    earlier = (
        historical.objects.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
        .order_by("-history_id")
        .values("history_id")[:1]
    )
    found = list(
        historical.objects.filter(history_id__in=ids or [0])
        .annotate(prev_history_id=Subquery(earlier))
        .select_related("history_user__profile")
    )
    prev_ids = [r.prev_history_id for r in found if r.prev_history_id] or [0]
    before = list(historical.objects.filter(history_id__in=prev_ids))
    return found, before


def _names(track: Track) -> tuple[dict[int, str], dict[int, str]]:
    modules = dict(Module.objects.filter(track=track).values_list("pk", "slug"))
    tracks = dict(Track.objects.values_list("pk", "slug"))
    return modules, tracks


def _who(record) -> str:
    from tracker.models import public_name

    user = record.history_user
    if user is None:
        return "a command" if record.history_change_reason == "load_curriculum" else "—"
    return public_name(user)


def _entry(noun: str, record, prev, names) -> HistoryEntry:
    entry = HistoryEntry(
        noun=noun,
        slug=record.slug,
        title=record.title,
        date=record.history_date,
        how=record.history_change_reason or "saved outside the editor",
        who=_who(record),
        kind="changed",
    )
    if record.history_type == "+":
        entry.kind = "created"
        return entry
    if record.history_type == "-":
        entry.kind = "deleted"
        return entry
    if prev is None:
        return entry
    if prev.archived_at is None and record.archived_at is not None:
        entry.kind = "archived"
    elif prev.archived_at is not None and record.archived_at is None:
        entry.kind = "restored"
    modules, tracks = names
    for tracked in record.tracked_fields:
        name = tracked.attname
        if name in _HIDDEN:
            continue
        before, after = getattr(prev, name), getattr(record, name)
        if before == after:
            continue
        if name == "module_id":
            before, after = modules.get(before, before), modules.get(after, after)
        elif name == "linked_track_id":
            before, after = tracks.get(before, before), tracks.get(after, after)
        elif name == "position":
            before, after = before + 1, after + 1
        entry.changes.append(FieldChange(_SHOWN.get(name, name), _show(before), _show(after)))
    before = getattr(prev, "requires_slugs", None)
    after = getattr(record, "requires_slugs", None)
    if before is not None and after is not None and before != after:
        entry.changes.append(FieldChange("requires", _show(before), _show(after)))
    return entry
