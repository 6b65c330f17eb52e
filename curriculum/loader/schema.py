"""Validate one file's nodes against the curriculum format (docs/curriculum-format.md).

Produces plain specs (what the file asks for) and errors `PATH:LINE:COLUMN: message`, each
naming its item by place and slug ("module 2 (`intro`), resource 3 (`video`): ...").
Every error in a file is reported, not just the first. Checks that need more than one file or
the database (track slugs, track `requires`) live in `crossref.py`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ..models import (
    DEFAULT_CAPSTONE_POINTS,
    MAX_DAYS,
    MAX_MINUTES,
    MAX_POINTS,
    MAX_WEEKS,
    Level,
    ResourceKind,
    ReviewMode,
)
from .errors import LoadError, Where
from .parse import Map, Node, Scalar, Seq, describe, shorten
from .values import (
    SLUG_CHARS,
    SLUG_MAX,
    Checker,
    Invalid,
    boolean,
    email,
    enum,
    form_prompt,
    iso_date,
    slug,
    text,
    url,
    whole_number,
)

# Markdown fields (summaries, prerequisites, notes, briefs): long enough for any real text,
# short enough that a pasted megabyte is refused with a message, not stored.
MARKDOWN_MAX = 20_000
MAX_TAG_LENGTH = 50
MAX_CHOOSE = 100


@dataclass
class Ref:
    """A slug named in `requires` (or a resource's `track`), with where it was written."""

    slug: str
    where: Where
    line: int
    column: int


@dataclass
class ResourceSpec:
    slug: str
    title: str
    kind: str
    url: str = ""
    minutes: int | None = None
    points_override: int | None = None
    optional: bool = False
    filled_in: bool = False
    choice: str = ""
    notes: str = ""
    # kind "track": the track whose completion makes this resource done.
    track_ref: Ref | None = None


@dataclass
class CapstoneSpec:
    slug: str
    title: str
    brief: str
    constraints: list[str] = field(default_factory=list)
    minutes: int | None = None
    points: int = DEFAULT_CAPSTONE_POINTS
    review: str = ReviewMode.LEAD
    optional: bool = False
    team: bool = False
    filled_in: bool = False


@dataclass
class ModuleSpec:
    slug: str
    title: str
    summary: str = ""
    weeks: int = 1
    days: int | None = None
    # Choice groups needing more than one member done (groups needing one are left out).
    choices_required: dict[str, int] = field(default_factory=dict)
    requires: list[Ref] = field(default_factory=list)
    resources: list[ResourceSpec] = field(default_factory=list)
    capstones: list[CapstoneSpec] = field(default_factory=list)


@dataclass
class TrackSpec:
    slug: str
    title: str
    source_path: str
    slug_at: Ref
    summary: str = ""
    prerequisites: str = ""
    level: str = Level.BEGINNER
    tags: list[str] = field(default_factory=list)
    leads: list[str] = field(default_factory=list)
    # The write-up the track follows: {"title", and "author", "published", "url" if given}.
    source: dict[str, str] = field(default_factory=dict)
    requires: list[Ref] = field(default_factory=list)
    modules: list[ModuleSpec] = field(default_factory=list)
    # Where the file lists its leads (None when it lists none): what a refused change points at.
    leads_at: Ref | None = None

    @property
    def track_refs(self) -> list[Ref]:
        """The tracks named by its resources of kind track, where they are named."""
        return [
            resource.track_ref
            for module in self.modules
            for resource in module.resources
            if resource.track_ref is not None
        ]


# --- mappings and lists ----------------------------------------------------------------------

TOP = Where()


class FileChecker:
    """Collects errors for one file."""

    def __init__(self, display: str):
        self.display = display
        self.errors: list[LoadError] = []
        # Where items are marked `filled_in: true`: only a track with a `source` may have them.
        self.filled_in_at: list[tuple[Node, Where]] = []

    def error(
        self, node: Node | Ref, where: Where, sentence: str, form: str = "", code: str = ""
    ) -> None:
        """`sentence` (about `where`, already naming its value) at `node`'s line and column;
        `form` is the problem in a form's words."""
        self.errors.append(
            LoadError(
                self.display,
                node.line,
                node.column,
                where.says(sentence),
                field=where.path,
                form=form,
                item=where.item,
                code=code,
            )
        )

    def invalid(self, node: Node, where: Where, exc: Invalid, name: str = "") -> None:
        self.error(node, where, where.about(exc.rest), exc.form or form_prompt(name))

    def mapping(
        self,
        node: Node,
        where: Where,
        fields: dict[str, tuple[bool, Checker | None]],
        noun: str,
    ) -> dict | None:
        """Check a mapping's keys; return {key: node} of known keys, or None if not a mapping.
        `fields` maps key → (required, checker); a None checker means the caller handles it.
        `noun` names what the mapping is ("module"; "" for the file itself)."""
        keys = ", ".join(fields)
        if not isinstance(node, Map):
            if where is TOP:
                sentence = (
                    f"the file must start with `track:` and hold the track's keys under it, "
                    f"not {describe(node)}"
                )
            elif where.subject:
                sentence = where.about(
                    f"must be key: value lines ({keys}), each on its own line under it, "
                    f"not {describe(node)}"
                )
            else:
                sentence = (
                    f"write the {noun} as key: value lines (`slug: ...`, `title: ...` and so "
                    f"on), not {describe(node)}"
                )
            self.error(node, where, sentence)
            return None
        found: dict[str, Node] = {}
        for key, value in node.entries:
            name = key.value if isinstance(key.value, str) else key.text
            if name not in fields:
                self.error(key, where.key(str(name)), _unknown_key(str(name), fields, noun))
                continue
            found[name] = value
        for name, (required, _check) in fields.items():
            if required and (name not in found or _is_null(found[name])):
                self.error(
                    node, where.key(name), _missing_key(name, where, noun), form_prompt(name)
                )
        return found

    def value(self, found: dict, name: str, where: Where, check: Checker, default=None):
        node = found.get(name)
        if node is None or _is_null(node):
            return default
        try:
            return check(node)
        except Invalid as exc:
            self.invalid(node, where.key(name), exc, name)
            return default

    def items(self, found: dict, name: str, where: Where) -> list[tuple[int, Node]]:
        """The (index, node) of each entry of an optional list."""
        node = found.get(name)
        if node is None or _is_null(node):
            return []
        if not isinstance(node, Seq):
            at = where.key(name)
            self.error(
                node,
                at,
                at.about(
                    f"must be a list (one `- ` line per entry, or [a, b]), not {describe(node)}"
                ),
            )
            return []
        return list(enumerate(node.items))

    def list_of(self, found: dict, name: str, where: Where, check: Checker) -> list:
        values = []
        for index, item in self.items(found, name, where):
            try:
                values.append(check(item))
            except Invalid as exc:
                self.invalid(item, where.key(name).entry(index), exc)
        return values

    def refs(self, found: dict, name: str, where: Where) -> list[Ref]:
        refs: list[Ref] = []
        seen: set[str] = set()
        for index, item in self.items(found, name, where):
            at = where.key(name).entry(index)
            try:
                value = slug(item)
            except Invalid as exc:
                self.invalid(item, at, exc)
                continue
            if value in seen:
                self.error(
                    item,
                    at,
                    f"`{name}` lists `{value}` twice: remove one of them",
                    f"“{value}” is chosen twice: choose it once.",
                )
                continue
            seen.add(value)
            refs.append(Ref(value, at, item.line, item.column))
        return refs


def _unknown_key(name: str, fields: dict, noun: str) -> str:
    shown = shorten(name)
    if not noun:
        return (
            f"`{shown}` cannot be at the top of the file, which holds only `track:`: indent it "
            "if it belongs to the track, or remove it"
        )
    keys = ", ".join(fields)
    hint = difflib.get_close_matches(name, list(fields), n=1, cutoff=0.7)
    if hint:
        return f"`{shown}` is not a key of a {noun}: did you mean `{hint[0]}`? (its keys: {keys})"
    return f"`{shown}` is not a key of a {noun}: remove it, or use one of its keys ({keys})"


def _missing_key(name: str, where: Where, noun: str) -> str:
    if not noun:
        return "the file has no `track:`: start it with `track:` and put the track's keys under it"
    if where.subject:
        return f"{where.subject} needs `{name}`: add a `{name}:` line under it"
    return f"`{name}` is missing: add a `{name}:` line (every {noun} needs one)"


def _is_null(node: Node) -> bool:
    return isinstance(node, Scalar) and node.value is None


def _peek_slug(node: Node) -> str:
    """The slug an item's mapping gives, when it is a valid one (to name the item by)."""
    if isinstance(node, Map):
        for key, value in node.entries:
            if key.value == "slug" and isinstance(value, Scalar):
                written = value.value
                if (
                    isinstance(written, str)
                    and written
                    and set(written) <= SLUG_CHARS
                    and len(written) <= SLUG_MAX
                ):
                    return written
    return ""


# --- the format ------------------------------------------------------------------------------

KINDS = list(ResourceKind.values)
TRACK_FIELDS = {
    "slug": (True, slug),
    "title": (True, text(200)),
    "summary": (False, text(MARKDOWN_MAX, blank=True)),
    "prerequisites": (False, text(MARKDOWN_MAX, blank=True)),
    "level": (False, enum(list(Level.values), "level")),
    "requires": (False, None),
    "tags": (False, None),
    "leads": (False, None),
    "source": (False, None),
    "modules": (True, None),
}
SOURCE_FIELDS = {
    "title": (True, text(300)),
    "author": (False, text(200)),
    "published": (False, iso_date),
    "url": (False, url),
}
MODULE_FIELDS = {
    "slug": (True, slug),
    "title": (True, text(200)),
    "summary": (False, text(MARKDOWN_MAX, blank=True)),
    "requires": (False, None),
    "weeks": (False, whole_number(0, MAX_WEEKS)),
    "days": (False, whole_number(0, MAX_DAYS)),
    "choose": (False, None),
    "resources": (False, None),
    "capstones": (False, None),
}
RESOURCE_FIELDS = {
    "slug": (True, slug),
    "title": (True, text(300)),
    "kind": (True, enum(KINDS, "kind")),
    "track": (False, slug),
    "url": (False, url),
    "minutes": (False, whole_number(0, MAX_MINUTES)),
    "points": (False, whole_number(0, MAX_POINTS)),
    "optional": (False, boolean),
    "filled_in": (False, boolean),
    "choice": (False, slug),
    "notes": (False, text(MARKDOWN_MAX, blank=True)),
}
CAPSTONE_FIELDS = {
    "slug": (True, slug),
    "title": (True, text(300)),
    "brief": (True, text(MARKDOWN_MAX)),
    "constraints": (False, None),
    "minutes": (False, whole_number(0, MAX_MINUTES)),
    "points": (False, whole_number(0, MAX_POINTS)),
    "review": (False, enum(list(ReviewMode.values), "review mode")),
    "optional": (False, boolean),
    "team": (False, boolean),
    "filled_in": (False, boolean),
}


def validate_file(
    root: Node | None, *, display: str, source_path: str
) -> tuple[TrackSpec | None, list[LoadError]]:
    """Check one parsed file; returns its track (None when it cannot be built) and errors."""
    c = FileChecker(display)
    if root is None:
        c.errors.append(
            LoadError(
                display,
                1,
                1,
                "the file is empty: start it with `track:` and put the track's keys under it",
            )
        )
        return None, c.errors
    top = c.mapping(root, TOP, {"track": (True, None)}, "")
    if top is None or "track" not in top:
        return None, c.errors
    track = _track(c, top["track"], display=display, source_path=source_path)
    return (track if not c.errors else None), c.errors


def _track(c: FileChecker, node: Node, *, display: str, source_path: str) -> TrackSpec | None:
    peeked = _peek_slug(node)
    where = Where("track", f"track (`{peeked}`)" if peeked else "track")
    found = c.mapping(node, where, TRACK_FIELDS, "track")
    if found is None:
        return None
    slug_node = found.get("slug") or node
    track = TrackSpec(
        slug=c.value(found, "slug", where, slug, ""),
        title=c.value(found, "title", where, TRACK_FIELDS["title"][1], ""),
        source_path=source_path,
        slug_at=Ref("", where.key("slug"), slug_node.line, slug_node.column),
        summary=c.value(found, "summary", where, text(MARKDOWN_MAX, blank=True), ""),
        prerequisites=c.value(found, "prerequisites", where, text(MARKDOWN_MAX, blank=True), ""),
        level=c.value(found, "level", where, TRACK_FIELDS["level"][1], Level.BEGINNER),
        tags=c.list_of(found, "tags", where, text(MAX_TAG_LENGTH)),
        leads=_leads(c, found, where),
        source=_source(c, found, where),
        requires=c.refs(found, "requires", where),
    )
    track.slug_at.slug = track.slug
    leads_node = found.get("leads")
    if leads_node is not None:
        track.leads_at = Ref("", where.key("leads"), leads_node.line, leads_node.column)
    modules_node = found.get("modules")
    module_items = c.items(found, "modules", where)
    if modules_node is not None and isinstance(modules_node, Seq) and not module_items:
        c.error(
            modules_node,
            where.key("modules"),
            "`modules` lists no module: add at least one (a track needs one)",
            "A track needs at least one module: add another module before archiving this one.",
        )
    module_slugs: dict[str, tuple[Node, Where]] = {}
    item_slugs: dict[str, tuple[Node, Where]] = {}
    module_requires: list[tuple[str, Ref]] = []
    for index, module_node in module_items:
        module_where = where.child("module", "modules", index, _peek_slug(module_node))
        module = _module(c, module_node, module_where, item_slugs)
        if module is None:
            continue
        _unique(c, module_slugs, module.slug, module_node, module_where, "module")
        track.modules.append(module)
        module_requires.extend((module.slug, ref) for ref in module.requires)
    _check_module_requires(c, track, module_requires)
    if not track.source:
        for marked, marked_where in c.filled_in_at:
            c.error(
                marked,
                marked_where,
                "`filled_in` marks an item the track's source does not name, but this track "
                "has no `source`: add one under `track:`, or leave `filled_in` out",
                "The track names no source yet: give it one in the track's details (the "
                "Source fields) before marking items as not in it.",
            )
    return track


def _source(c: FileChecker, found: dict, where: Where) -> dict[str, str]:
    node = found.get("source")
    if node is None or _is_null(node):
        return {}
    source_where = where.key("source")
    fields = c.mapping(node, source_where, SOURCE_FIELDS, "source")
    if fields is None:
        return {}
    source = {
        name: c.value(fields, name, source_where, SOURCE_FIELDS[name][1], "")
        for name in SOURCE_FIELDS
    }
    return {name: value for name, value in source.items() if value}


def _leads(c: FileChecker, found: dict, where: Where) -> list[str]:
    """`leads:` emails, each once (compared without case)."""
    leads: list[str] = []
    for index, item in c.items(found, "leads", where):
        at = where.key("leads").entry(index)
        try:
            value = email(item)
        except Invalid as exc:
            c.invalid(item, at, exc)
            continue
        if value in leads:
            c.error(
                item,
                at,
                f"`leads` lists {value} twice (case does not count): remove one of them",
                f"{value} is listed twice: list each address once.",
            )
            continue
        leads.append(value)
    return leads


def _unique(
    c: FileChecker,
    seen: dict[str, tuple[Node, Where]],
    value: str,
    owner: Node,
    where: Where,
    noun: str,
) -> None:
    """Report a slug already used in this track, at the second use's `slug` value."""
    if not value:
        return
    node = _slug_node(owner)
    if value in seen:
        first, first_where = seen[value]
        among = "modules" if noun == "module" else "resources and capstones"
        c.error(
            node,
            where.key("slug"),
            f"`{value}` is already the slug of {first_where.item}, at line {first.line}: give "
            f"this {noun} another slug (each of a track's {among} needs its own)",
            f"The slug “{value}” is already used in this track: choose another.",
            code="duplicate-slug",
        )
    else:
        seen[value] = (node, where)


def _slug_node(owner: Node) -> Node:
    if isinstance(owner, Map):
        for key, value in owner.entries:
            if key.value == "slug":
                return value
    return owner


def _module(
    c: FileChecker, node: Node, where: Where, item_slugs: dict[str, tuple[Node, Where]]
) -> ModuleSpec | None:
    found = c.mapping(node, where, MODULE_FIELDS, "module")
    if found is None:
        return None
    module = ModuleSpec(
        slug=c.value(found, "slug", where, slug, ""),
        title=c.value(found, "title", where, MODULE_FIELDS["title"][1], ""),
        summary=c.value(found, "summary", where, text(MARKDOWN_MAX, blank=True), ""),
        weeks=c.value(found, "weeks", where, MODULE_FIELDS["weeks"][1], 1),
        days=c.value(found, "days", where, MODULE_FIELDS["days"][1]),
        requires=c.refs(found, "requires", where),
    )
    if module.days is not None:
        if "weeks" in found and not _is_null(found["weeks"]):
            c.error(
                found["days"],
                where.key("days"),
                "give either `weeks` or `days`, not both: remove one (days are for modules "
                "shorter than a week)",
                "Give either weeks or days, not both: clear the one you don't want.",
            )
        module.weeks = 0
    choices: dict[str, list[tuple[Node, Where]]] = {}
    for index, resource_node in c.items(found, "resources", where):
        resource_where = where.child("resource", "resources", index, _peek_slug(resource_node))
        resource = _resource(c, resource_node, resource_where, choices)
        if resource is not None:
            _unique(c, item_slugs, resource.slug, resource_node, resource_where, "resource")
            module.resources.append(resource)
    for index, capstone_node in c.items(found, "capstones", where):
        capstone_where = where.child("capstone", "capstones", index, _peek_slug(capstone_node))
        capstone = _capstone(c, capstone_node, capstone_where)
        if capstone is not None:
            _unique(c, item_slugs, capstone.slug, capstone_node, capstone_where, "capstone")
            module.capstones.append(capstone)
    for name, nodes in choices.items():
        if len(nodes) < 2:
            node, node_where = nodes[0]
            c.error(
                node,
                node_where,
                f"no other resource of this module is in the choice group `{name}`, and a "
                f"group needs at least 2: give another resource of the module "
                f"`choice: {name}`, or leave `choice` out",
                f"No other resource of its module is in the choice group “{name}”, and a group "
                "needs at least 2 alternatives: put another resource in it, or clear its choice group.",
            )
    module.choices_required = _choose(c, found.get("choose"), where.key("choose"), choices)
    return module


def _choose(c: FileChecker, node: Node | None, where: Where, choices: dict) -> dict[str, int]:
    """`choose: {group: N}`: how many members of each named choice group must be done."""
    if node is None or _is_null(node):
        return {}
    if not isinstance(node, Map):
        c.error(
            node,
            where,
            f"`choose` must name each choice group with how many of it to finish, one a "
            f"line (`deep-dive: 2`), not {describe(node)}",
            "Write each choice group as name: how many (deep-dive: 2).",
        )
        return {}
    required: dict[str, int] = {}
    groups = ", ".join(choices)
    for key, value in node.entries:
        name = key.value if isinstance(key.value, str) else key.text
        at = where.key(str(name))
        if name not in choices:
            shown = shorten(str(name))
            if groups:
                theirs, form_theirs = f"its groups: {groups}", f"its groups: {groups}"
            else:
                theirs, form_theirs = "it has none", "it has none"
            c.error(
                key,
                at,
                f"`choose` names `{shown}`, which is not a choice group of this module "
                f"({theirs}): fix the name, or remove the line",
                f"“{shown}” is not a choice group of this module ({form_theirs}): fix the name, "
                "or remove it.",
            )
            continue
        try:
            count = whole_number(1, MAX_CHOOSE)(value)
        except Invalid as exc:
            c.invalid(value, at, exc)
            continue
        members = len(choices[name])
        if count > members:
            c.error(
                value,
                at,
                f"`choose` asks for {count} resources of the choice group `{name}`, which has "
                f"only {members} in this module: ask for at most {members}, or add resources "
                "to the group",
                f"“{name}” asks for {count} resources but has only {members}: ask for at most "
                f"{members}, or put more resources in the group.",
            )
        elif count > 1:
            required[name] = count
    return required


def _resource(c: FileChecker, node: Node, where: Where, choices: dict) -> ResourceSpec | None:
    found = c.mapping(node, where, RESOURCE_FIELDS, "resource")
    if found is None:
        return None
    get = lambda name, default=None: c.value(found, name, where, RESOURCE_FIELDS[name][1], default)  # noqa: E731
    resource = ResourceSpec(
        slug=get("slug", ""),
        title=get("title", ""),
        kind=get("kind", ResourceKind.OTHER),
        url=get("url", ""),
        minutes=get("minutes"),
        points_override=get("points"),
        optional=get("optional", False),
        filled_in=get("filled_in", False),
        choice=get("choice", ""),
        notes=get("notes", ""),
    )
    if resource.filled_in:
        c.filled_in_at.append((found["filled_in"], where.key("filled_in")))
    _track_kind(c, node, where, found, resource)
    if resource.choice:
        choices.setdefault(resource.choice, []).append((found["choice"], where.key("choice")))
        if resource.optional:
            c.error(
                found["optional"],
                where.key("optional"),
                "a resource in a choice group cannot also be optional (the group is the "
                "choice): remove `optional: true`, or leave `choice` out",
                "A resource in a choice group cannot also be optional (the group is the "
                "choice): untick this, or clear its choice group.",
            )
    return resource


def _track_kind(
    c: FileChecker, node: Node, where: Where, found: dict, resource: ResourceSpec
) -> None:
    """A resource of kind track names its track (`track: slug`) and has no `url` of its own;
    no other kind may name one."""
    named = c.value(found, "track", where, slug, "")
    if resource.kind != ResourceKind.TRACK:
        if named:
            c.error(
                found["track"],
                where.key("track"),
                f"`track` is only for resources of kind track, and this one is kind "
                f"'{resource.kind}': remove `track`, or change `kind` to track",
                "Only a resource of kind Track stands for a track: choose “(none)” here, or "
                "set its kind to Track.",
            )
        return
    if "track" not in found or _is_null(found["track"]):
        c.error(
            node,
            where.key("track"),
            "`track` is missing: a resource of kind track names the track whose completion "
            "makes it done, so add a `track:` line with that track's slug",
            form_prompt("track"),
        )
        return
    if resource.url:
        c.error(
            found["url"],
            where.key("url"),
            "a resource of kind track links to its track's page: remove `url`",
            "A resource of kind Track links to its track's page: leave the link empty.",
        )
    if named:
        value = found["track"]
        resource.track_ref = Ref(named, where.key("track"), value.line, value.column)


def _capstone(c: FileChecker, node: Node, where: Where) -> CapstoneSpec | None:
    found = c.mapping(node, where, CAPSTONE_FIELDS, "capstone")
    if found is None:
        return None
    get = lambda name, default=None: c.value(found, name, where, CAPSTONE_FIELDS[name][1], default)  # noqa: E731
    capstone = CapstoneSpec(
        slug=get("slug", ""),
        title=get("title", ""),
        brief=get("brief", ""),
        constraints=c.list_of(found, "constraints", where, text(500)),
        minutes=get("minutes"),
        points=get("points", DEFAULT_CAPSTONE_POINTS),
        review=get("review", ReviewMode.LEAD),
        optional=get("optional", False),
        team=get("team", False),
        filled_in=get("filled_in", False),
    )
    if capstone.filled_in:
        c.filled_in_at.append((found["filled_in"], where.key("filled_in")))
    return capstone


def _check_module_requires(c: FileChecker, track: TrackSpec, edges: list[tuple[str, Ref]]) -> None:
    from .crossref import find_cycles  # a small graph helper shared with track requires

    known = [module.slug for module in track.modules]
    if "" in known:  # a module's slug is already reported as invalid: references can't be judged
        return
    valid: list[tuple[str, Ref]] = []
    for source, ref in edges:
        if ref.slug not in known:
            listed = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
            c.error(
                ref,
                ref.where,
                f"`requires` names `{ref.slug}`, which is not a module of this track (its "
                f"modules: {listed}): fix the slug, or remove it",
                f"“{ref.slug}” is not a module of this track: choose another.",
            )
        else:
            valid.append((source, ref))
    for ref, cycle in find_cycles(valid, {}):
        c.error(
            ref,
            ref.where,
            f"`requires` goes round in a circle ({' -> '.join(cycle)}): remove one of these "
            "requirements",
            f"This makes modules require each other in a circle ({' → '.join(cycle)}): untick "
            "one of them.",
        )
