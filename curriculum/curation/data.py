"""A track as its file's data, and the edits the browser makes to it.

The data is what `curriculum.exporter.track_export_data` builds: {"slug", "title", ...,
"modules": [{"slug", ..., "resources": [...], "capstones": [...]}]}. Each edit changes it in
place; the loader then validates and writes the result. Each problem the loader finds comes
back in a form's words, next to the form field it is about (found by its data path).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from ..loader import CurriculumInvalid

# URL segment → the singular used in YAML paths and messages.
KINDS = {"modules": "module", "resources": "resource", "capstones": "capstone"}
ITEM_LISTS = ("resources", "capstones")

# Keys each kind's form edits (as YAML spells them), in form order.
EDITABLE = {
    "track": ("title", "source", "summary", "prerequisites", "level", "tags", "requires"),
    "modules": ("title", "summary", "weeks", "days", "requires", "choose"),
    "resources": (
        "title",
        "kind",
        "track",
        "url",
        "minutes",
        "points",
        "optional",
        "filled_in",
        "choice",
        "notes",
    ),
    "capstones": (
        "title",
        "brief",
        "constraints",
        "minutes",
        "points",
        "review",
        "team",
        "optional",
        "filled_in",
    ),
}
_INDEX = re.compile(r"\[\d+\]")


class EditInvalid(Exception):
    """The edit was refused; nothing was written. `fields` maps a form field to its messages,
    `general` holds messages about the rest of the track."""

    def __init__(self, fields: dict[str, list[str]] | None = None, general: list[str] = ()):
        self.fields = fields or {}
        self.general = list(general)
        super().__init__(
            "; ".join([*self.general, *(m for ms in self.fields.values() for m in ms)])
        )

    @classmethod
    def about(cls, name: str, message: str) -> EditInvalid:
        return cls({name: [message]})

    @classmethod
    def from_loader(cls, invalid: CurriculumInvalid, target: str | None) -> EditInvalid:
        """The loader's problems, each in a form's words next to the field of `target` (the
        data path of the item edited, such as `track.modules[2].resources[0]`) it is about;
        a problem elsewhere in the track is general, naming its item and field."""
        fields: dict[str, list[str]] = {}
        general: list[str] = []
        for error in invalid.load_errors:
            name = field_of(error.field, target)
            if name is None and target and error.code == "duplicate-slug":
                name = "slug"  # reported at the item that had it first: this one's is the new
            if name is not None:
                fields.setdefault(name, []).append(error.form or error.message)
            else:
                general.append(_general(error))
        return cls(fields, general)


def _general(error) -> str:
    """A problem with another item than the one edited: "Module 2 (`intro`), resource 1
    (`video`), Choice group: ..." (the field as its form labels it; the track's own fields by
    their label alone)."""
    if not error.form:
        return _capital(error.message)
    label = label_of(error.field)
    item = "" if error.item.startswith("track") else _capital(error.item)  # the page's track
    where = ", ".join(part for part in (item, label) if part)
    return f"{where}: {error.form}" if where else error.form


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def label_of(path: str) -> str:
    """The form label of the field a data path is about ("" when no form shows it)."""
    from .forms import FORMS, TrackForm

    parts = _INDEX.sub("", path).split(".")
    if len(parts) < 2 or parts[0] != "track":
        return ""
    if parts[1] == "modules" and len(parts) >= 3:
        kind = "modules" if len(parts) == 3 or parts[2] not in ITEM_LISTS else parts[2]
        key = parts[2] if kind == "modules" else (parts[3] if len(parts) > 3 else "")
        form = FORMS[kind]
    else:
        form, key = TrackForm, parts[1]
        if key == "source":
            key = f"source_{parts[2]}" if len(parts) > 2 else "source_title"
    field = form.base_fields.get(key)
    return str(field.label) if field is not None else ""


def field_of(path: str, target: str | None) -> str | None:
    """The form field an error at `path` is about, when it is under `target`."""
    if target is None or not path.startswith(target):
        return None
    rest = path[len(target) :]
    if not rest.startswith("."):
        return None
    key, _, under = _INDEX.split(rest[1:], maxsplit=1)[0].partition(".")
    if key == "source" and under:  # the track form edits the source's keys one by one
        return f"source_{under.split('.', 1)[0]}"
    return key or None


@dataclass
class Located:
    """Where an item is in the data, and its YAML path (for error messages)."""

    container: list
    index: int
    path: str
    module: dict | None = None
    module_index: int = 0

    @property
    def item(self) -> dict:
        return self.container[self.index]


@dataclass
class Spot:
    """A module's place in the data."""

    module: dict
    index: int
    items: dict = field(default_factory=dict)


def module_at(data: dict, slug: str) -> tuple[int, dict] | None:
    for index, module in enumerate(data["modules"]):
        if module["slug"] == slug:
            return index, module
    return None


def locate(data: dict, kind: str, slug: str) -> Located | None:
    """The item of `kind` ("modules", "resources", "capstones") with this slug."""
    if kind == "modules":
        found = module_at(data, slug)
        if found is None:
            return None
        index, _module = found
        return Located(data["modules"], index, f"track.modules[{index}]")
    for module_index, module in enumerate(data["modules"]):
        items = module.get(kind, [])
        for index, item in enumerate(items):
            if item["slug"] == slug:
                return Located(
                    items,
                    index,
                    f"track.modules[{module_index}].{kind}[{index}]",
                    module=module,
                    module_index=module_index,
                )
    return None


def items_of(module: dict, kind: str) -> list:
    """The module's list of `kind`, created empty when the file left it out."""
    return module.setdefault(kind, [])


def drop_empty_lists(data: dict) -> None:
    """Leave out empty `resources:`/`capstones:` lists, as the exporter does."""
    for module in data["modules"]:
        for kind in ITEM_LISTS:
            if kind in module and not module[kind]:
                del module[kind]


# --- form values → file values ---------------------------------------------------------------

_WHOLE = re.compile(r"[+-]?[0-9]+")


def number(text: str) -> int | str | None:
    """A number box as the file would hold it: empty is absent, digits a number, anything else
    stays text (the loader then says what it expected)."""
    text = (text or "").strip()
    if not text:
        return None
    return int(text) if _WHOLE.fullmatch(text) else text


def words(text: str) -> list[str]:
    """A comma-separated list (tags)."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def lines(text: str) -> list[str]:
    """One entry a line (constraints)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def choose_mapping(text: str) -> dict[str, int | str]:
    """`choose` as typed: "deep-dive: 2, papers: 3" (a comma or a new line between groups)."""
    mapping: dict[str, int | str] = {}
    for part in re.split(r"[,\n]", text or ""):
        if not part.strip():
            continue
        name, colon, count = part.partition(":")
        if not colon or not name.strip():
            raise EditInvalid.about(
                "choose",
                f"Write each choice group as name: how many (deep-dive: 2); "
                f"could not read {part.strip()[:60]!r}.",
            )
        mapping[name.strip()] = number(count) if number(count) is not None else count.strip()
    return mapping


def choose_text(mapping: dict) -> str:
    return ", ".join(f"{name}: {count}" for name, count in (mapping or {}).items())


SOURCE_KEYS = ("title", "author", "published", "url")


def shown_fields(item: dict, kind: str) -> dict[str, object]:
    """What a form of `kind` shows of `item`, by form field (the track's `source` is four)."""
    shown: dict[str, object] = {}
    for key in EDITABLE[kind]:
        if key == "source":
            source = item.get("source") or {}
            shown.update({f"source_{name}": source.get(name) for name in SOURCE_KEYS})
        else:
            shown[key] = item.get(key)
    return shown


def _digest(value) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def fingerprint(item: dict, kind: str) -> str:
    """What a form of `kind` shows of `item`, as a short digest per field: the form carries it,
    so a save can tell whether someone else changed those fields after the form was opened,
    and which (`changed_since`)."""
    return ".".join(_digest(value) for value in shown_fields(item, kind).values())


def changed_since(seen: str, item: dict, kind: str) -> set[str]:
    """The form fields whose value in `item` is not the one `seen` (a fingerprint) was made
    from: what was saved after the form was opened. Every field when `seen` cannot say (a
    form opened before fingerprints were per field)."""
    shown = shown_fields(item, kind)
    digests = seen.split(".")
    if len(digests) != len(shown):
        return set(shown)
    pairs = zip(shown.items(), digests, strict=True)
    return {name for (name, value), was in pairs if _digest(value) != was}


def put(item: dict, key: str, value, default=None) -> None:
    """Set a key the way the exporter writes it: a default value is left out."""
    if value is None or value == default or value == "" or value == [] or value == {}:
        item.pop(key, None)
    else:
        item[key] = value
