"""A track's curriculum structure as one immutable value, cached per process.

`track_structure(track_id, version)` answers a `TrackStructure`: the track's active modules in
order, each with its active resources and capstones (ids, slugs, titles, kinds, points,
minutes, optional flags, choice groups and the number they ask for, prerequisites, kind:track
references) and the URLs the track page needs, built once per track instead of per row. It is
everything a page, the completion rule or a per-learner total needs to know about the track
that is the same for every learner.

Building one takes six queries (`build_structure`); the result is kept in this process keyed
by (track id, `Track.structure_version`). The version is an integer that every write changing
what a structure holds moves forward in the same transaction (`structure_changed`: the loader's
`write_plan` explicitly, every ORM save or delete of a track, module, resource or capstone and
every change of a `requires` through the signal handlers below). A request learns the version
from the track row it reads anyway (the track page's row, the mark-done's resource joined to
its track), so a cached structure costs no query and a change committed by any process is seen
by the next request of every other: it reads the new version and rebuilds.

Writes that bypass the ORM's per-row signals (`QuerySet.update`, `bulk_create`,
`bulk_update`, raw SQL) must call `structure_changed` themselves.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from types import MappingProxyType

from django.db.models import F, Q
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .models import (
    Capstone,
    Level,
    Module,
    Resource,
    ResourceKind,
    ReviewMode,
    Track,
    pacing_hint_label,
)
from .signals import structures_changed

__all__ = [
    "CapstoneNode",
    "ChoiceGroup",
    "ModuleNode",
    "ModuleRef",
    "ResourceNode",
    "TrackRef",
    "TrackStructure",
    "build_structure",
    "cached_structures",
    "forget_structures",
    "structure_changed",
    "structure_of",
    "track_structure",
    "track_structures",
]

# How many tracks' structures one process keeps (least recently used go first). A structure
# of 500 resources is about 1 MB; a curriculum of a few hundred tracks fits.
CACHE_SIZE = 256

_KIND_LABELS = dict(ResourceKind.choices)
_LEVEL_LABELS = dict(Level.choices)
_REVIEW_LABELS = dict(ReviewMode.choices)
_PLACEHOLDER = "--item--"


@dataclass(frozen=True, slots=True)
class TrackRef:
    """Another track as a page names it: a resource of kind track, a `requires` entry."""

    id: int
    slug: str
    title: str
    url: str

    def get_absolute_url(self) -> str:
        return self.url


@dataclass(frozen=True, slots=True)
class ModuleRef:
    id: int
    slug: str
    title: str


@dataclass(frozen=True, slots=True)
class ChoiceGroup:
    """A module's choice group: finish `required` of its `size` (non-optional) members."""

    name: str
    required: int
    size: int


@dataclass(frozen=True, slots=True)
class ResourceNode:
    id: int
    slug: str
    module_id: int
    title: str
    kind: str
    kind_label: str
    url: str
    minutes: int | None
    points: int
    optional: bool
    filled_in: bool
    choice: str
    notes_html: str
    content_changed_at: datetime | None
    linked_track_id: int | None
    linked_track: TrackRef | None
    group: ChoiceGroup | None
    # Built once per track from reversed prefixes, never per row.
    status_url: str
    note_url: str
    revisit_url: str
    # The row's learner-independent head (kind, title and link, minutes, points, group),
    # written once per structure: the track page prints it for every row of every learner.
    head_html: str

    @property
    def required(self) -> bool:
        """Counts towards completion on its own (not optional, not one of a choice group)."""
        return not self.optional and not self.choice

    @property
    def is_track(self) -> bool:
        return self.kind == ResourceKind.TRACK


def resource_head_html(
    row: Mapping, label: str, group: ChoiceGroup | None, linked: TrackRef | None
) -> str:
    """A resource row's head as the track page shows it (`templates/curriculum/track_detail.html`
    prints it in its `resource-main` block): the kind, the title linked to the track it stands
    for or to its address, and "15 min · 10 pts · optional · pick one of 3 (group)". Every
    value escaped."""
    kind, title = row["kind"], escape(row["title"])
    if linked is not None:
        link = f'<a href="{escape(linked.url)}">{title}</a>'
    elif row["url"]:
        link = (  # it opens in a new tab, and says so (visibly too, for those who can see)
            f'<a href="{escape(row["url"])}" rel="noopener noreferrer" target="_blank">{title}'
            '<span class="new-tab" aria-hidden="true"> ↗</span>'
            '<span class="visually-hidden"> (opens in a new tab)</span></a>'
        )
    else:
        link = f'<span class="resource-title">{title}</span>'
    meta = f"{row['minutes']} min · " if row["minutes"] is not None else ""
    meta += f"{row['points']} pts"
    if row["optional"]:
        meta += " · optional"
    if group is not None:
        pick = "pick one" if group.required == 1 else f"pick {group.required}"
        # The group's name is a slug from the file ("deep-dive-route"): shown in words.
        meta += f" · {pick} of {group.size} ({escape(group.name.replace('-', ' '))})"
    return mark_safe(
        f'<span class="kind kind-{escape(kind)}">{escape(label)}</span>\n'
        f"          {link}\n"
        f'          <span class="meta">{meta}</span>{FILLED_IN_TAG if row["filled_in"] else ""}'
    )


# An item the track's source does not name (`filled_in`): the track page's header says what
# the source is and what the tag means.
FILLED_IN_TAG = (
    ' <span class="pill pill-filled-in" data-testid="filled-in">'
    '<span class="visually-hidden">(tagged: </span>not in the source'
    '<span class="visually-hidden">)</span></span>'
)


@dataclass(frozen=True, slots=True)
class CapstoneNode:
    id: int
    slug: str
    module_id: int
    title: str
    brief_html: str
    constraints: tuple[str, ...]
    minutes: int | None
    points: int
    review: str
    review_label: str
    optional: bool
    filled_in: bool
    submission_url: str


@dataclass(frozen=True, slots=True)
class ModuleNode:
    id: int
    slug: str
    title: str
    summary_html: str
    number: int  # 1-based, as the page numbers modules
    weeks: int
    days: int | None
    choices_required: Mapping[str, int]
    # Active modules of the same track that should be finished first (soft lock).
    requires: tuple[ModuleRef, ...]
    resources: tuple[ResourceNode, ...]
    capstones: tuple[CapstoneNode, ...]

    @property
    def hint_days(self) -> int:
        return self.days if self.days is not None else self.weeks * 7

    @property
    def hint_label(self) -> str:
        return pacing_hint_label(weeks=self.weeks, days=self.days)

    def required_in_group(self, choice: str) -> int:
        return self.choices_required.get(choice, 1)


@dataclass(frozen=True, slots=True)
class TrackUrls:
    page: str
    enrol: str
    leave: str
    pace_plan: str
    certificate_claim: str


@dataclass(frozen=True)
class TrackStructure:
    id: int
    slug: str
    version: int
    title: str
    summary_html: str
    prerequisites_html: str
    level: str
    level_label: str
    tags: tuple[str, ...]
    # The write-up the track follows ({"title", maybe "author", "published", "url"}) or {}.
    source: Mapping[str, str]
    has_filled_in: bool  # some active item is tagged as not in the source
    archived_at: datetime | None
    requires: tuple[TrackRef, ...]
    modules: tuple[ModuleNode, ...]
    urls: TrackUrls
    _resources: Mapping[int, ResourceNode] = field(repr=False)
    _by_slug: Mapping[str, ResourceNode] = field(repr=False)
    _modules: Mapping[int, ModuleNode] = field(repr=False)

    @property
    def pk(self) -> int:
        """As a Track's (the permission module and templates take either)."""
        return self.id

    def get_absolute_url(self) -> str:
        return self.urls.page

    def get_level_display(self) -> str:
        return self.level_label

    def resource(self, resource_id: int) -> ResourceNode | None:
        return self._resources.get(resource_id)

    def resource_by_slug(self, slug: str) -> ResourceNode | None:
        return self._by_slug.get(slug)

    def module(self, module_id: int) -> ModuleNode | None:
        return self._modules.get(module_id)

    def module_by_slug(self, slug: str) -> ModuleNode | None:
        return next((m for m in self.modules if m.slug == slug), None)

    def module_of_item(self, slug: str) -> ModuleNode | None:
        """The module holding the resource or capstone `slug` (None if no active one)."""
        resource = self._by_slug.get(slug)
        if resource is not None:
            return self._modules[resource.module_id]
        return next((m for m in self.modules if any(c.slug == slug for c in m.capstones)), None)

    @property
    def resource_count(self) -> int:
        return len(self._resources)

    @cached_property  # read per learner by the nudge's batches: worked out once per structure
    def linked_track_ids(self) -> frozenset[int]:
        return frozenset(
            r.linked_track_id for r in self._resources.values() if r.linked_track_id is not None
        )

    def dependent_modules(self, module_id: int) -> tuple[ModuleNode, ...]:
        """Modules that name `module_id` among their prerequisites (their soft lock follows it)."""
        return tuple(m for m in self.modules if any(r.id == module_id for r in m.requires))


# --- building ----------------------------------------------------------------------------------


def _track_ref(track_id: int, slug: str, title: str) -> TrackRef:
    return TrackRef(track_id, slug, title, reverse("curriculum:track_detail", args=[slug]))


def _prefix(name: str, slug: str) -> tuple[str, str]:
    """A URL of `name` for this track split around its item slug: (before, after)."""
    url = reverse(name, kwargs={"slug": slug, "item": _PLACEHOLDER})
    before, _, after = url.partition(_PLACEHOLDER)
    return before, after


def _choice_groups(module: Module, resources: list[dict]) -> dict[str, ChoiceGroup]:
    sizes: dict[str, int] = {}
    for row in resources:
        if row["choice"] and not row["optional"]:
            sizes[row["choice"]] = sizes.get(row["choice"], 0) + 1
    asks = module.choices_required or {}
    return {
        name: ChoiceGroup(name, min(asks.get(name, 1), size), size) for name, size in sizes.items()
    }


def _source(stored: dict | None) -> dict:
    """The track's source as the page shows it: its `published` day as a date."""
    source = dict(stored or {})
    if source.get("published"):
        source["published"] = date.fromisoformat(source["published"])
    return source


def build_structure(track_id: int) -> TrackStructure | None:
    """Read the structure of the track from the database (six queries); None if it is gone.
    Archived tracks have one too (their pages are for staff and leads; learners get 404)."""
    track = (
        Track.objects.filter(pk=track_id)
        .only(
            "id",
            "slug",
            "title",
            "summary_html",
            "prerequisites_html",
            "level",
            "tags",
            "source",
            "archived_at",
            "structure_version",
        )
        .first()
    )
    if track is None:
        return None
    modules = list(
        Module.objects.active()
        .filter(track_id=track_id)
        .order_by("position", "pk")
        .only("id", "slug", "title", "summary_html", "weeks", "days", "choices_required")
    )
    module_ids = {m.pk for m in modules}
    resource_rows: dict[int, list[dict]] = {pk: [] for pk in module_ids}
    for row in (
        Resource.objects.active()
        .filter(track_id=track_id)
        .order_by("position", "pk")
        .values(
            "id",
            "slug",
            "module_id",
            "title",
            "kind",
            "url",
            "minutes",
            "points",
            "optional",
            "filled_in",
            "choice",
            "notes_html",
            "content_changed_at",
            "linked_track_id",
            linked_slug=F("linked_track__slug"),
            linked_title=F("linked_track__title"),
        )
    ):
        if row["module_id"] in resource_rows:  # resources of archived modules are not shown
            resource_rows[row["module_id"]].append(row)
    capstone_rows: dict[int, list[Capstone]] = {pk: [] for pk in module_ids}
    for capstone in (
        Capstone.objects.active()
        .filter(track_id=track_id)
        .order_by("position", "pk")
        .only(
            "id",
            "slug",
            "module_id",
            "title",
            "brief_html",
            "constraints",
            "minutes",
            "points",
            "review",
            "optional",
            "filled_in",
        )
    ):
        if capstone.module_id in capstone_rows:
            capstone_rows[capstone.module_id].append(capstone)
    module_requires: dict[int, list[ModuleRef]] = {pk: [] for pk in module_ids}
    for from_id, to_id, slug, title in (
        Module.requires.through.objects.filter(
            from_module__track_id=track_id,
            from_module__archived_at__isnull=True,
            to_module__archived_at__isnull=True,
        )
        .order_by("to_module__position", "to_module_id")
        .values_list("from_module_id", "to_module_id", "to_module__slug", "to_module__title")
    ):
        module_requires[from_id].append(ModuleRef(to_id, slug, title))
    track_requires = tuple(
        _track_ref(pk, slug, title)
        for pk, slug, title in Track.objects.active()
        .filter(required_by=track_id)
        .order_by("title", "pk")
        .values_list("pk", "slug", "title")
    )

    slug = track.slug
    status = _prefix("track:set_status", slug)
    note = _prefix("track:note", slug)
    revisit = _prefix("track:toggle_revisit", slug)
    submission = _prefix("track:capstone_submission", slug)
    linked_refs: dict[int, TrackRef] = {}
    nodes = []
    for number, module in enumerate(modules, start=1):
        rows = resource_rows[module.pk]
        groups = _choice_groups(module, rows)
        resources = []
        for row in rows:
            linked = None
            if row["linked_track_id"] is not None:
                linked = linked_refs.get(row["linked_track_id"])
                if linked is None:
                    linked = linked_refs[row["linked_track_id"]] = _track_ref(
                        row["linked_track_id"], row["linked_slug"], row["linked_title"]
                    )
            item = row["slug"]
            label = _KIND_LABELS.get(row["kind"], row["kind"])
            resources.append(
                ResourceNode(
                    id=row["id"],
                    slug=item,
                    module_id=module.pk,
                    title=row["title"],
                    kind=row["kind"],
                    kind_label=label,
                    url=row["url"],
                    minutes=row["minutes"],
                    points=row["points"],
                    optional=row["optional"],
                    filled_in=row["filled_in"],
                    choice=row["choice"],
                    notes_html=row["notes_html"],
                    content_changed_at=row["content_changed_at"],
                    linked_track_id=row["linked_track_id"],
                    linked_track=linked,
                    group=groups.get(row["choice"]),
                    status_url=f"{status[0]}{item}{status[1]}",
                    note_url=f"{note[0]}{item}{note[1]}",
                    revisit_url=f"{revisit[0]}{item}{revisit[1]}",
                    head_html=resource_head_html(row, label, groups.get(row["choice"]), linked),
                )
            )
        capstones = tuple(
            CapstoneNode(
                id=c.pk,
                slug=c.slug,
                module_id=module.pk,
                title=c.title,
                brief_html=c.brief_html,
                constraints=tuple(c.constraints or ()),
                minutes=c.minutes,
                points=c.points,
                review=c.review,
                review_label=_REVIEW_LABELS.get(c.review, c.review),
                optional=c.optional,
                filled_in=c.filled_in,
                submission_url=f"{submission[0]}{c.slug}{submission[1]}",
            )
            for c in capstone_rows[module.pk]
        )
        nodes.append(
            ModuleNode(
                id=module.pk,
                slug=module.slug,
                title=module.title,
                summary_html=module.summary_html,
                number=number,
                weeks=module.weeks,
                days=module.days,
                choices_required=MappingProxyType(dict(module.choices_required or {})),
                requires=tuple(module_requires[module.pk]),
                resources=tuple(resources),
                capstones=capstones,
            )
        )
    resources_by_id = {r.id: r for m in nodes for r in m.resources}
    return TrackStructure(
        id=track.pk,
        slug=slug,
        version=track.structure_version,
        title=track.title,
        summary_html=track.summary_html,
        prerequisites_html=track.prerequisites_html,
        level=track.level,
        level_label=_LEVEL_LABELS.get(track.level, track.level),
        tags=tuple(track.tags or ()),
        source=MappingProxyType(_source(track.source)),
        has_filled_in=any(
            item.filled_in for module in nodes for item in (*module.resources, *module.capstones)
        ),
        archived_at=track.archived_at,
        requires=track_requires,
        modules=tuple(nodes),
        urls=TrackUrls(
            page=reverse("curriculum:track_detail", args=[slug]),
            enrol=reverse("track:enrol", args=[slug]),
            leave=reverse("track:leave", args=[slug]),
            pace_plan=reverse("track:pace_plan", args=[slug]),
            certificate_claim=reverse("track:certificate_claim", args=[slug]),
        ),
        _resources=MappingProxyType(resources_by_id),
        _by_slug=MappingProxyType({r.slug: r for r in resources_by_id.values()}),
        _modules=MappingProxyType({m.id: m for m in nodes}),
    )


# --- the per-process cache -----------------------------------------------------------------------

_cache: OrderedDict[int, TrackStructure] = OrderedDict()
_lock = threading.Lock()


def track_structure(track_id: int, version: int | None = None) -> TrackStructure | None:
    """The structure of the track at `version` (the `structure_version` of a track row the
    caller read): from this process's cache when it holds that version, else built and kept.
    Without a version, one query reads it. None when the track does not exist."""
    if version is None:
        version = (
            Track.objects.filter(pk=track_id).values_list("structure_version", flat=True).first()
        )
        if version is None:
            return None
    with _lock:
        cached = _cache.get(track_id)
        if cached is not None and cached.version == version:
            _cache.move_to_end(track_id)
            return cached
    built = build_structure(track_id)
    if built is None:
        return None
    with _lock:
        # Keep the newest version seen: a request still holding an older version number (its
        # row was read before a change committed) never evicts what later requests need.
        current = _cache.get(track_id)
        if current is None or current.version <= built.version:
            _cache[track_id] = built
            _cache.move_to_end(track_id)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return built


def track_structures(track_ids: Iterable[int]) -> dict[int, TrackStructure]:
    """{track id: structure} of these tracks (absent ones left out): one query for their
    versions, then the cache."""
    versions = Track.objects.filter(pk__in=set(track_ids)).values_list("pk", "structure_version")
    found = {pk: track_structure(pk, version) for pk, version in versions}
    return {pk: structure for pk, structure in found.items() if structure is not None}


def structure_of(track: Track) -> TrackStructure:
    """The structure of a track row the caller read (its `structure_version` included)."""
    structure = track_structure(track.pk, track.structure_version)
    if structure is None:  # deleted while this request ran
        raise Track.DoesNotExist(track.pk)
    return structure


def cached_structures() -> dict[int, int]:
    """{track id: version} of what this process holds (for tests and diagnostics)."""
    with _lock:
        return {track_id: s.version for track_id, s in _cache.items()}


def forget_structures(track_ids: Iterable[int] | None = None) -> None:
    """Drop this process's cached structures (all of them, or these tracks')."""
    with _lock:
        if track_ids is None:
            _cache.clear()
        else:
            for track_id in track_ids:
                _cache.pop(track_id, None)


def structure_changed(track_ids: Iterable[int], *, dependents: bool = True) -> None:
    """Move the structure version of these tracks forward (call it inside the transaction that
    changes them). With `dependents`, also of the tracks whose structure names them: tracks
    that require them and tracks with a resource of kind track standing for them (they show
    its title, and stop listing an archived one)."""
    ids = sorted({int(pk) for pk in track_ids if pk is not None})
    if not ids:
        return
    condition = Q(pk__in=ids)
    if dependents:
        condition |= Q(
            pk__in=Track.requires.through.objects.filter(to_track_id__in=ids).values(
                "from_track_id"
            )
        )
        condition |= Q(pk__in=Resource.objects.filter(linked_track_id__in=ids).values("track_id"))
    Track.objects.filter(condition).update(structure_version=F("structure_version") + 1)
    forget_structures(ids)
    structures_changed.send(sender=Track, track_ids=ids)


# --- ORM writes move the version on by themselves ----------------------------------------------


def _item_saved_or_deleted(sender, instance, **kwargs) -> None:
    structure_changed([instance.track_id], dependents=False)


def _track_saved(sender, instance, created, **kwargs) -> None:
    if not created:  # a new track has nothing cached and nothing naming it yet
        structure_changed([instance.pk])


def _track_deleted(sender, instance, **kwargs) -> None:
    forget_structures([instance.pk])
    structure_changed([instance.pk])


def _track_requires_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action.startswith("post_"):
        structure_changed([instance.pk, *(pk_set or ())] if reverse else [instance.pk])


def _module_requires_changed(sender, instance, action, **kwargs) -> None:
    if action.startswith("post_"):
        structure_changed([instance.track_id], dependents=False)


def connect_signals() -> None:
    """Called by CurriculumConfig.ready(): every ORM save or delete of a curriculum row (the
    admin, the curriculum services, tests' factories) moves its track's version on."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    for model in (Module, Resource, Capstone):
        post_save.connect(_item_saved_or_deleted, sender=model, dispatch_uid=f"structure-{model}")
        post_delete.connect(
            _item_saved_or_deleted, sender=model, dispatch_uid=f"structure-del-{model}"
        )
    post_save.connect(_track_saved, sender=Track, dispatch_uid="structure-track")
    post_delete.connect(_track_deleted, sender=Track, dispatch_uid="structure-del-track")
    m2m_changed.connect(
        _track_requires_changed,
        sender=Track.requires.through,
        dispatch_uid="structure-track-requires",
    )
    m2m_changed.connect(
        _module_requires_changed,
        sender=Module.requires.through,
        dispatch_uid="structure-module-requires",
    )
