"""YAML text → a small tree of nodes that remember where they came from (line, column).

Safe by construction: we never construct Python objects. libyaml's parser (CSafeLoader when
present, else the pure-Python SafeLoader) produces events; this module composes them itself,
so it can enforce, while reading, what `yaml.compose` would not: a size cap per file, UTF-8
only, a nesting-depth cap, caps on anchors, aliases and on how far aliases expand (no
"billion laughs"), no duplicate keys, no tags beyond plain data (no `!!python/...`).

Scalars follow PyYAML's YAML 1.1 rules with one change: only `true`/`false` are booleans.
`yes`, `no`, `on` and `off` stay text, so `slug: no` is the slug "no" and `optional: yes` is
reported ("expected true or false") instead of being silently guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml import events as ev
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from .errors import LoadError

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_DEPTH = 32
MAX_ANCHORS = 50
MAX_ALIASES = 50
# Counted with every alias expanded: a legitimate 1 MB file has about 100,000 nodes.
MAX_EXPANDED_NODES = 250_000
_TOO_DEEP = (
    f"the file nests deeper than {MAX_DEPTH} levels: a curriculum needs far fewer, so check the "
    "indentation"
)

_TAG = "tag:yaml.org,2002:"
_TRUE_FALSE = {
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
}
_resolver = Resolver()
_constructor = SafeConstructor()
_SCALAR_TAGS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null")}
_CONSTRUCT = {
    f"{_TAG}int": _constructor.construct_yaml_int,
    f"{_TAG}float": _constructor.construct_yaml_float,
    f"{_TAG}null": _constructor.construct_yaml_null,
    f"{_TAG}bool": lambda node: _TRUE_FALSE[node.value],
}


@dataclass(eq=False, slots=True)
class Node:
    line: int  # 1-based
    column: int  # 1-based
    size: int = 1  # nodes under it (itself included), aliases expanded


@dataclass(eq=False, slots=True)
class Scalar(Node):
    value: object = None  # str, int, float, bool or None
    text: str = ""


@dataclass(eq=False, slots=True)
class Seq(Node):
    items: list[Node] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class Map(Node):
    entries: list[tuple[Scalar, Node]] = field(default_factory=list)


class _Stop(Exception):
    def __init__(self, line: int, column: int, message: str):
        self.line, self.column, self.message = line, column, message


def describe(node: Node) -> str:
    """How a value reads in an error message: `text 'x'`, `the number 3`, `a list`..."""
    if isinstance(node, Seq):
        return "a list"
    if isinstance(node, Map):
        return "key: value lines"
    value = node.value
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, int | float):
        return f"the number {node.text}"
    return f"text {shorten(value)!r}"


def shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mark(event) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1


# Escapes in double-quoted YAML ("\0", "\ud800") can make text no database can store.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _scalar(event) -> Scalar:
    line, column = _mark(event)
    text = event.value
    if found := _UNSTORABLE.search(text):
        raise _Stop(
            line,
            column,
            f"text cannot hold the character U+{ord(found.group()):04X} (written as an escape): "
            "remove the escape",
        )
    tag = event.tag
    if tag in (None, "!"):
        if event.style or tag == "!":  # quoted or block text is always text ('' or None: plain)
            return Scalar(line, column, value=text, text=text)
        tag = _resolver.resolve(ScalarNode, text, (True, False))
        if tag == f"{_TAG}bool":
            return Scalar(line, column, value=_TRUE_FALSE.get(text, text), text=text)
        if tag not in _SCALAR_TAGS:  # e.g. a date: keep it as the text it is
            return Scalar(line, column, value=text, text=text)
    elif tag not in _SCALAR_TAGS:
        raise _Stop(line, column, _tag_message(tag))
    if tag == f"{_TAG}str":
        return Scalar(line, column, value=text, text=text)
    if tag == f"{_TAG}bool" and text not in _TRUE_FALSE:
        raise _Stop(line, column, f"{text!r} is tagged as a boolean: write true or false")
    try:
        value = _CONSTRUCT[tag](ScalarNode(tag, text))
    except (ConstructorError, ValueError):
        raise _Stop(
            line,
            column,
            f"{text!r} cannot be read as {tag.replace(_TAG, '!!')}: fix the value, or remove the tag",
        ) from None
    return Scalar(line, column, value=value, text=text)


def _tag_message(tag: str) -> str:
    short = tag.replace(_TAG, "!!")
    if short.startswith("!!python/"):
        return (
            f"Python tags are not allowed ({short}): curriculum files hold plain data only; "
            "remove the tag"
        )
    return f"the tag {short} is not allowed: curriculum files hold plain data only; remove it"


def _compose(loader) -> Node | None:
    """Compose the single document of the stream into nodes (None for an empty file)."""
    stack: list[Node] = []  # open collections
    pending_keys: list[Scalar | None] = []  # per open mapping: the key awaiting its value
    anchor_at: list[str | None] = []
    anchors: dict[str, Node] = {}
    aliases = 0
    expanded = 0
    root: Node | None = None
    documents = 0

    def attach(node: Node) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        parent = stack[-1]
        parent.size += node.size
        if isinstance(parent, Seq):
            parent.items.append(node)
            return
        key = pending_keys[-1]
        if key is None:
            if not isinstance(node, Scalar):
                raise _Stop(
                    node.line,
                    node.column,
                    "a key must be plain text, not a list or key: value lines: write it as name: value",
                )
            pending_keys[-1] = node
        else:
            parent.entries.append((key, node))
            pending_keys[-1] = None

    def remember(anchor: str | None, node: Node) -> None:
        if anchor is None:
            return
        if len(anchors) >= MAX_ANCHORS:
            raise _Stop(
                node.line,
                node.column,
                f"the file defines more than {MAX_ANCHORS} anchors (&name): write the repeated "
                "parts out instead",
            )
        anchors[anchor] = node

    while loader.check_event():
        event = loader.get_event()
        if isinstance(event, ev.DocumentStartEvent):
            documents += 1
            if documents > 1:
                line, column = _mark(event)
                raise _Stop(
                    line,
                    column,
                    "a file holds one track: remove the second '---' and what follows it, or "
                    "move that to a file of its own",
                )
        elif isinstance(event, ev.ScalarEvent):
            node = _scalar(event)
            expanded += 1
            attach(node)
            remember(event.anchor, node)
        elif isinstance(event, ev.SequenceStartEvent | ev.MappingStartEvent):
            line, column = _mark(event)
            if len(stack) >= MAX_DEPTH:
                raise _Stop(line, column, _TOO_DEEP)
            if event.tag not in (None, "!", f"{_TAG}seq", f"{_TAG}map"):
                raise _Stop(line, column, _tag_message(event.tag))
            is_map = isinstance(event, ev.MappingStartEvent)
            stack.append(Map(line, column) if is_map else Seq(line, column))
            pending_keys.append(None)
            anchor_at.append(event.anchor)
            expanded += 1
        elif isinstance(event, ev.SequenceEndEvent | ev.MappingEndEvent):
            node = stack.pop()
            pending_keys.pop()
            anchor = anchor_at.pop()
            if isinstance(node, Map):
                _check_duplicate_keys(node)
            attach(node)
            remember(anchor, node)  # after it is complete: an alias can never point into itself
        elif isinstance(event, ev.AliasEvent):
            line, column = _mark(event)
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _Stop(
                    line,
                    column,
                    f"the file uses more than {MAX_ALIASES} aliases (*name): write the repeated "
                    "parts out instead",
                )
            target = anchors.get(event.anchor)
            if target is None:
                raise _Stop(
                    line,
                    column,
                    f"the alias *{event.anchor} refers to no anchor defined before it: define "
                    f"&{event.anchor} earlier in the file, or fix the name",
                )
            expanded += target.size
            if expanded > MAX_EXPANDED_NODES:
                raise _Stop(
                    line,
                    column,
                    f"aliases expand this file past {MAX_EXPANDED_NODES:,} values (an alias bomb?): "
                    "write the repeated parts out instead",
                )
            attach(target)
    return root


def _check_duplicate_keys(node: Map) -> None:
    seen: dict[object, Scalar] = {}
    for key, _value in node.entries:
        ident = (type(key.value).__name__, key.value)
        first = seen.get(ident)
        if first is not None:
            raise _Stop(
                key.line,
                key.column,
                f"`{key.text}` is given twice here (first at line {first.line}): keep one of them",
            )
        seen[ident] = key


def _position_of(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _syntax_error(text: str, exc: yaml.MarkedYAMLError) -> tuple[int, int, str]:
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return 1, 1, f"the file is not valid YAML ({exc}): check its quotes, brackets and colons"
    lines = text.splitlines()
    if mark.line < len(lines):
        current = lines[mark.line]
        indentation = current[: len(current) - len(current.lstrip(" \t"))]
        if "\t" in indentation or current[mark.column : mark.column + 1] == "\t":
            tab = current.index("\t") if "\t" in current else mark.column
            return (
                mark.line + 1,
                tab + 1,
                "a tab is used for indentation: indent with spaces (YAML does not allow tabs)",
            )
    problem = exc.problem or "unreadable YAML"
    if "nesting depth" in problem:
        return mark.line + 1, mark.column + 1, _TOO_DEEP
    if problem.startswith("mapping values are not allowed"):  # libyaml: "in this context"
        return (
            mark.line + 1,
            mark.column + 1,
            "a colon followed by a space starts a new key here: put the text in quotes if it "
            'holds ": " (title: "Lesson 1: intro")',
        )
    context = f" {exc.context}" if exc.context else ""
    return (
        mark.line + 1,
        mark.column + 1,
        f"the file is not valid YAML here ({problem}{context}): check this line and the one "
        "before it for a missing quote, bracket or colon, or a slip in the indentation",
    )


def read_text(path: Path, *, display: str, max_bytes: int) -> tuple[str | None, LoadError | None]:
    """A file's text, or an error for unreadable, oversized and non-UTF-8 files."""
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        return None, LoadError(
            display,
            1,
            1,
            f"cannot read the file ({exc.strerror or exc}): check that it exists and that you "
            "may read it",
        )
    size = path.stat().st_size if len(data) > max_bytes else len(data)
    return decode_bytes(data, display=display, max_bytes=max_bytes, size=size)


def decode_bytes(
    data: bytes, *, display: str, max_bytes: int, size: int
) -> tuple[str | None, LoadError | None]:
    """A file's bytes as text, or an error for oversized and non-UTF-8 content."""
    if len(data) > max_bytes:
        return None, LoadError(
            display,
            1,
            1,
            f"the file is {size:,} bytes, and the limit is {max_bytes:,} "
            "(CURRICULUM_MAX_FILE_BYTES): shorten its texts, or split the track",
        )
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, LoadError(
            display,
            line,
            column,
            f"the file is not UTF-8 (byte 0x{data[exc.start]:02x} here): save it as UTF-8",
        )


def nodes_from_data(data: object, line: int = 1) -> Node:
    """Plain data (dicts, lists, text, numbers, booleans, None) as nodes, so data built in code
    (a track edited in the browser) is validated by the same schema as a file. Every node
    reports line 1, column 1: callers map errors back by their field path, not position."""
    if isinstance(data, dict):
        node = Map(line, 1)
        for key, value in data.items():
            child = nodes_from_data(value, line)
            node.entries.append((Scalar(line, 1, value=key, text=str(key)), child))
            node.size += child.size + 1
        return node
    if isinstance(data, list | tuple):
        node = Seq(line, 1)
        for value in data:
            child = nodes_from_data(value, line)
            node.items.append(child)
            node.size += child.size
        return node
    if isinstance(data, bool):
        text = "true" if data else "false"
    else:
        text = "" if data is None else str(data)
    return Scalar(line, 1, value=data, text=text)


def parse_text(text: str, *, display: str) -> tuple[Node | None, LoadError | None]:
    """Compose `text` into nodes; a problem stops at the first error (YAML cannot resync)."""
    loader = None
    try:
        loader = Loader(text)  # the pure-Python reader checks characters right here
        return _compose(loader), None
    except _Stop as stop:
        return None, LoadError(display, stop.line, stop.column, stop.message)
    except yaml.MarkedYAMLError as exc:
        line, column, message = _syntax_error(text, exc)
        return None, LoadError(display, line, column, message)
    except yaml.reader.ReaderError as exc:
        line, column = _position_of(text, exc.position)
        code = (
            exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        )
        return None, LoadError(
            display,
            line,
            column,
            f"the character U+{code:04X} is not allowed in YAML: remove it",
        )
    except yaml.YAMLError as exc:  # anything else libyaml may raise: still one clean line
        return None, LoadError(
            display, 1, 1, f"the file cannot be read as YAML ({exc}): check it in a YAML editor"
        )
    finally:
        if loader is not None:
            loader.dispose()
