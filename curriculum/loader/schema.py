"""Validate one file's nodes against the curriculum format (docs/curriculum-format.md).

Produces plain specs (what the file asks for) and errors `PATH:LINE:COLUMN: field.path: message`.
Every error in a file is reported, not just the first. Checks that need more than one file or
the database (track slugs, track `requires`) live in `crossref.py`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

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
from .errors import LoadError
from .parse import Map, Node, Scalar, Seq, describe, shorten

SLUG_MAX = 100
# Markdown fields (summaries, prerequisites, notes, briefs): long enough for any real text,
# short enough that a pasted megabyte is refused with a message, not stored.
MARKDOWN_MAX = 20_000
MAX_TAG_LENGTH = 50
MAX_CHOOSE = 100
_SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_url_validator = URLValidator(schemes=["http", "https"])
_email_validator = EmailValidator()
EMAIL_MAX = 254


@dataclass
class Ref:
    """A slug named in `requires`, with where it was written."""

    slug: str
    path: str
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


class _Invalid(Exception):
    """A value is wrong; the message says what was expected."""


# --- value checkers: node → value, or _Invalid -------------------------------------------------

Checker = Callable[[Node], object]


def _scalar(node: Node, expected: str) -> object:
    if not isinstance(node, Scalar) or node.value is None:
        raise _Invalid(f"expected {expected}, got {describe(node)}")
    return node.value


def text(max_length: int | None = None, *, blank: bool = False) -> Checker:
    def check(node: Node) -> str:
        value = _scalar(node, "text")
        if not isinstance(value, str):
            raise _Invalid(f"expected text, got {describe(node)} (put it in quotes)")
        if not blank and not value.strip():
            raise _Invalid("must not be empty")
        if max_length and len(value) > max_length:
            raise _Invalid(f"is {len(value)} characters long; the limit is {max_length}")
        return value

    return check


def slug(node: Node) -> str:
    value = _scalar(node, "a slug (lowercase letters, digits and hyphens)")
    if not isinstance(value, str):
        raise _Invalid(
            f"expected a slug (lowercase letters, digits and hyphens), got {describe(node)}"
        )
    if not value:
        raise _Invalid("must not be empty (lowercase letters a-z, digits and hyphens)")
    if not set(value) <= _SLUG_CHARS:
        raise _Invalid(
            f"{shorten(value)!r} is not a slug (expected lowercase letters a-z, digits and hyphens)"
        )
    if len(value) > SLUG_MAX:
        raise _Invalid(f"slug is {len(value)} characters long; the limit is {SLUG_MAX}")
    return value


def enum(values: list[str], noun: str) -> Checker:
    def check(node: Node) -> str:
        value = _scalar(node, f"one of {', '.join(values)}")
        if value not in values:
            shown = repr(shorten(value)) if isinstance(value, str) else describe(node)
            raise _Invalid(f"unknown {noun} {shown} (expected one of {', '.join(values)})")
        return value

    return check


def whole_number(low: int, high: int) -> Checker:
    def check(node: Node) -> int:
        value = _scalar(node, f"a whole number from {low} to {high}")
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(f"expected a whole number from {low} to {high}, got {describe(node)}")
        if not low <= value <= high:
            raise _Invalid(f"{value} is out of range (expected {low} to {high})")
        return value

    return check


def boolean(node: Node) -> bool:
    value = _scalar(node, "true or false")
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {describe(node)}")
    return value


# The one way a date is written: YYYY-MM-DD. (Python's date.fromisoformat also reads
# "20180129" and the week date "2018-W05-1", which the format never promised.)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATE_EXPECTED = "a full date written YYYY-MM-DD, such as 2018-01-29"


def iso_date(node: Node) -> str:
    written = str(_scalar(node, DATE_EXPECTED))
    try:
        day = date.fromisoformat(written) if _ISO_DATE.fullmatch(written) else None
    except ValueError:
        day = None
    if day is None:
        raise _Invalid(f"expected {DATE_EXPECTED}; got {describe(node)}")
    latest = date.today() + timedelta(days=366)  # a source is published already, or nearly
    if not EARLIEST_PUBLISHED <= day <= latest:
        raise _Invalid(f"{written} is out of range (expected {EARLIEST_PUBLISHED} to {latest})")
    return day.isoformat()


def url(node: Node) -> str:
    value = _scalar(node, "an http:// or https:// URL")
    if not isinstance(value, str):
        raise _Invalid(f"expected an http:// or https:// URL, got {describe(node)}")
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme not in ("http", "https"):
        raise _Invalid(f"{shorten(value)!r} is not an http:// or https:// URL")
    if len(value) > 1000:
        raise _Invalid(f"URL is {len(value)} characters long; the limit is 1000")
    try:
        _url_validator(value)
    except ValidationError:
        raise _Invalid(f"{shorten(value)!r} is not a valid URL") from None
    return value


def email(node: Node) -> str:
    """An email address, lowercased (accounts match it whatever its case)."""
    value = _scalar(node, "an email address")
    if not isinstance(value, str):
        raise _Invalid(f"expected an email address, got {describe(node)}")
    if len(value) > EMAIL_MAX:
        raise _Invalid(f"email address is {len(value)} characters long; the limit is {EMAIL_MAX}")
    try:
        _email_validator(value)
    except ValidationError:
        raise _Invalid(f"{shorten(value)!r} is not an email address") from None
    return value.lower()


# --- mappings and lists ----------------------------------------------------------------------


class FileChecker:
    """Collects errors for one file."""

    def __init__(self, display: str):
        self.display = display
        self.errors: list[LoadError] = []
        # Where items are marked `filled_in: true`: only a track with a `source` may have them.
        self.filled_in_at: list[tuple[Node, str]] = []

    def error(self, node: Node, path: str, message: str) -> None:
        text = f"{path}: {message}" if path else message
        self.errors.append(LoadError(self.display, node.line, node.column, text))

    def mapping(
        self, node: Node, path: str, fields: dict[str, tuple[bool, Checker | None]]
    ) -> dict | None:
        """Check a mapping's keys; return {key: node} of known keys, or None if not a mapping.
        `fields` maps key → (required, checker); a None checker means the caller handles it."""
        if not isinstance(node, Map):
            expected = "a mapping" if path else "a mapping with the key 'track'"
            self.error(node, path, f"expected {expected} (key: value lines), got {describe(node)}")
            return None
        found: dict[str, Node] = {}
        for key, value in node.entries:
            name = key.value if isinstance(key.value, str) else key.text
            if name not in fields:
                hint = difflib.get_close_matches(str(name), list(fields), n=1, cutoff=0.7)
                suggestion = f"did you mean '{hint[0]}'? " if hint else ""
                self.error(
                    key,
                    f"{path}.{name}" if path else str(name),
                    f"unknown key '{shorten(str(name))}' "
                    f"({suggestion}expected one of {', '.join(fields)})",
                )
                continue
            found[name] = value
        for name, (required, _check) in fields.items():
            if required and (name not in found or _is_null(found[name])):
                self.error(node, path, f"missing required key '{name}'")
        return found

    def value(self, found: dict, name: str, path: str, check: Checker, default=None):
        node = found.get(name)
        if node is None or _is_null(node):
            return default
        try:
            return check(node)
        except _Invalid as exc:
            self.error(node, f"{path}.{name}", str(exc))
            return default

    def items(self, found: dict, name: str, path: str) -> list[tuple[str, Node]]:
        """The (path, node) of each entry of an optional list."""
        node = found.get(name)
        if node is None or _is_null(node):
            return []
        if not isinstance(node, Seq):
            self.error(node, f"{path}.{name}", f"expected a list, got {describe(node)}")
            return []
        return [(f"{path}.{name}[{index}]", item) for index, item in enumerate(node.items)]

    def list_of(self, found: dict, name: str, path: str, check: Checker) -> list:
        values = []
        for item_path, item in self.items(found, name, path):
            try:
                values.append(check(item))
            except _Invalid as exc:
                self.error(item, item_path, str(exc))
        return values

    def refs(self, found: dict, name: str, path: str) -> list[Ref]:
        refs: list[Ref] = []
        seen: set[str] = set()
        for item_path, item in self.items(found, name, path):
            try:
                value = slug(item)
            except _Invalid as exc:
                self.error(item, item_path, str(exc))
                continue
            if value in seen:
                self.error(item, item_path, f"'{value}' is listed twice")
                continue
            seen.add(value)
            refs.append(Ref(value, item_path, item.line, item.column))
        return refs


def _is_null(node: Node) -> bool:
    return isinstance(node, Scalar) and node.value is None


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
EARLIEST_PUBLISHED = date(1900, 1, 1)
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
        c.errors.append(LoadError(display, 1, 1, "the file is empty (expected a 'track:' mapping)"))
        return None, c.errors
    top = c.mapping(root, "", {"track": (True, None)})
    if top is None or "track" not in top:
        return None, c.errors
    track = _track(c, top["track"], display=display, source_path=source_path)
    return (track if not c.errors else None), c.errors


def _track(c: FileChecker, node: Node, *, display: str, source_path: str) -> TrackSpec | None:
    path = "track"
    found = c.mapping(node, path, TRACK_FIELDS)
    if found is None:
        return None
    slug_node = found.get("slug") or node
    track = TrackSpec(
        slug=c.value(found, "slug", path, slug, ""),
        title=c.value(found, "title", path, TRACK_FIELDS["title"][1], ""),
        source_path=source_path,
        slug_at=Ref("", f"{path}.slug", slug_node.line, slug_node.column),
        summary=c.value(found, "summary", path, text(MARKDOWN_MAX, blank=True), ""),
        prerequisites=c.value(found, "prerequisites", path, text(MARKDOWN_MAX, blank=True), ""),
        level=c.value(found, "level", path, TRACK_FIELDS["level"][1], Level.BEGINNER),
        tags=c.list_of(found, "tags", path, text(MAX_TAG_LENGTH)),
        leads=_leads(c, found, path),
        source=_source(c, found, path),
        requires=c.refs(found, "requires", path),
    )
    track.slug_at.slug = track.slug
    leads_node = found.get("leads")
    if leads_node is not None:
        track.leads_at = Ref("", f"{path}.leads", leads_node.line, leads_node.column)
    modules_node = found.get("modules")
    module_items = c.items(found, "modules", path)
    if modules_node is not None and isinstance(modules_node, Seq) and not module_items:
        c.error(modules_node, f"{path}.modules", "a track needs at least one module")
    module_slugs: dict[str, Node] = {}
    item_slugs: dict[str, Node] = {}
    module_requires: list[tuple[str, Ref]] = []
    for module_path, module_node in module_items:
        module = _module(c, module_node, module_path, item_slugs)
        if module is None:
            continue
        _unique(c, module_slugs, module.slug, module_node, module_path, "module")
        track.modules.append(module)
        module_requires.extend((module.slug, ref) for ref in module.requires)
    _check_module_requires(c, track, module_requires)
    if not track.source:
        for marked, marked_path in c.filled_in_at:
            c.error(
                marked,
                marked_path,
                "'filled_in' marks an item the track's source does not name, and this track "
                "has no 'source' (add one under 'track:', or leave 'filled_in' out)",
            )
    return track


def _source(c: FileChecker, found: dict, path: str) -> dict[str, str]:
    node = found.get("source")
    if node is None or _is_null(node):
        return {}
    source_path = f"{path}.source"
    fields = c.mapping(node, source_path, SOURCE_FIELDS)
    if fields is None:
        return {}
    source = {
        name: c.value(fields, name, source_path, SOURCE_FIELDS[name][1], "")
        for name in SOURCE_FIELDS
    }
    return {name: value for name, value in source.items() if value}


def _leads(c: FileChecker, found: dict, path: str) -> list[str]:
    """`leads:` emails, each once (compared without case)."""
    leads: list[str] = []
    for item_path, item in c.items(found, "leads", path):
        try:
            value = email(item)
        except _Invalid as exc:
            c.error(item, item_path, str(exc))
            continue
        if value in leads:
            c.error(item, item_path, f"'{value}' is listed twice")
            continue
        leads.append(value)
    return leads


def _unique(
    c: FileChecker, seen: dict[str, Node], value: str, owner: Node, path: str, noun: str
) -> None:
    """Report a slug already used in this track, at the second use's `slug` value."""
    if not value:
        return
    node = _slug_node(owner)
    if value in seen:
        c.error(
            node,
            f"{path}.slug",
            f"duplicate {noun} slug '{value}' (already used at line {seen[value].line})",
        )
    else:
        seen[value] = node


def _slug_node(owner: Node) -> Node:
    if isinstance(owner, Map):
        for key, value in owner.entries:
            if key.value == "slug":
                return value
    return owner


def _module(
    c: FileChecker, node: Node, path: str, item_slugs: dict[str, Node]
) -> ModuleSpec | None:
    found = c.mapping(node, path, MODULE_FIELDS)
    if found is None:
        return None
    module = ModuleSpec(
        slug=c.value(found, "slug", path, slug, ""),
        title=c.value(found, "title", path, MODULE_FIELDS["title"][1], ""),
        summary=c.value(found, "summary", path, text(MARKDOWN_MAX, blank=True), ""),
        weeks=c.value(found, "weeks", path, MODULE_FIELDS["weeks"][1], 1),
        days=c.value(found, "days", path, MODULE_FIELDS["days"][1]),
        requires=c.refs(found, "requires", path),
    )
    if module.days is not None:
        if "weeks" in found and not _is_null(found["weeks"]):
            c.error(
                found["days"],
                f"{path}.days",
                "give either weeks or days, not both (days are for modules shorter than a week)",
            )
        module.weeks = 0
    choices: dict[str, list[Node]] = {}
    for resource_path, resource_node in c.items(found, "resources", path):
        resource = _resource(c, resource_node, resource_path, choices)
        if resource is not None:
            _unique(c, item_slugs, resource.slug, resource_node, resource_path, "item")
            module.resources.append(resource)
    for capstone_path, capstone_node in c.items(found, "capstones", path):
        capstone = _capstone(c, capstone_node, capstone_path)
        if capstone is not None:
            _unique(c, item_slugs, capstone.slug, capstone_node, capstone_path, "item")
            module.capstones.append(capstone)
    for name, nodes in choices.items():
        if len(nodes) < 2:
            node, node_path = nodes[0]
            c.error(
                node,
                node_path,
                f"choice group '{name}' has only one resource in module '{module.slug}' "
                "(a group needs at least 2 alternatives)",
            )
    module.choices_required = _choose(c, found.get("choose"), f"{path}.choose", module, choices)
    return module


def _choose(
    c: FileChecker, node: Node | None, path: str, module: ModuleSpec, choices: dict
) -> dict[str, int]:
    """`choose: {group: N}`: how many members of each named choice group must be done."""
    if node is None or _is_null(node):
        return {}
    if not isinstance(node, Map):
        c.error(
            node,
            path,
            f"expected a mapping of choice group to how many of it to finish (deep-dive: 2), "
            f"got {describe(node)}",
        )
        return {}
    required: dict[str, int] = {}
    groups = ", ".join(choices) if choices else "none"
    for key, value in node.entries:
        name = key.value if isinstance(key.value, str) else key.text
        entry_path = f"{path}.{name}"
        if name not in choices:
            c.error(
                key,
                entry_path,
                f"unknown choice group '{shorten(str(name))}' in module '{module.slug}' "
                f"(its choice groups: {groups})",
            )
            continue
        try:
            count = whole_number(1, MAX_CHOOSE)(value)
        except _Invalid as exc:
            c.error(value, entry_path, str(exc))
            continue
        members = len(choices[name])
        if count > members:
            c.error(
                value,
                entry_path,
                f"choice group '{name}' asks for {count} resources but has only {members} "
                f"in module '{module.slug}'",
            )
        elif count > 1:
            required[name] = count
    return required


def _resource(c: FileChecker, node: Node, path: str, choices: dict) -> ResourceSpec | None:
    found = c.mapping(node, path, RESOURCE_FIELDS)
    if found is None:
        return None
    get = lambda name, default=None: c.value(found, name, path, RESOURCE_FIELDS[name][1], default)  # noqa: E731
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
        c.filled_in_at.append((found["filled_in"], f"{path}.filled_in"))
    _track_kind(c, node, path, found, resource)
    if resource.choice:
        choices.setdefault(resource.choice, []).append((found["choice"], f"{path}.choice"))
        if resource.optional:
            c.error(
                found["optional"],
                f"{path}.optional",
                "a resource in a choice group cannot also be optional (the group is the choice)",
            )
    return resource


def _track_kind(c: FileChecker, node: Node, path: str, found: dict, resource: ResourceSpec) -> None:
    """A resource of kind track names its track (`track: slug`) and has no `url` of its own;
    no other kind may name one."""
    named = c.value(found, "track", path, slug, "")
    if resource.kind != ResourceKind.TRACK:
        if named:
            c.error(
                found["track"],
                f"{path}.track",
                f"'track' is only for resources of kind track (this one is kind '{resource.kind}')",
            )
        return
    if "track" not in found or _is_null(found["track"]):
        c.error(
            node, path, "missing required key 'track' (the slug of the track that completes it)"
        )
        return
    if resource.url:
        c.error(
            found["url"],
            f"{path}.url",
            "a resource of kind track links to its track's page; leave out 'url'",
        )
    if named:
        value = found["track"]
        resource.track_ref = Ref(named, f"{path}.track", value.line, value.column)


def _capstone(c: FileChecker, node: Node, path: str) -> CapstoneSpec | None:
    found = c.mapping(node, path, CAPSTONE_FIELDS)
    if found is None:
        return None
    get = lambda name, default=None: c.value(found, name, path, CAPSTONE_FIELDS[name][1], default)  # noqa: E731
    capstone = CapstoneSpec(
        slug=get("slug", ""),
        title=get("title", ""),
        brief=get("brief", ""),
        constraints=c.list_of(found, "constraints", path, text(500)),
        minutes=get("minutes"),
        points=get("points", DEFAULT_CAPSTONE_POINTS),
        review=get("review", ReviewMode.LEAD),
        optional=get("optional", False),
        team=get("team", False),
        filled_in=get("filled_in", False),
    )
    if capstone.filled_in:
        c.filled_in_at.append((found["filled_in"], f"{path}.filled_in"))
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
            c.errors.append(
                LoadError(
                    c.display,
                    ref.line,
                    ref.column,
                    f"{ref.path}: unknown module '{ref.slug}' "
                    f"(expected a module of this track: {listed})",
                )
            )
        else:
            valid.append((source, ref))
    for ref, cycle in find_cycles(valid, {}):
        c.errors.append(
            LoadError(
                c.display,
                ref.line,
                ref.column,
                f"{ref.path}: cyclic requires: {' -> '.join(cycle)}",
            )
        )
