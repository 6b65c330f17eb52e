"""Accessible names of a page's links, buttons and form fields, as a screen reader's list of
them shows them: a control's name must say which item it acts on, so two controls that act on
different things never share one ("Save", "Save", "Save" in a button list tells nothing).

`shared_names(html)` answers each name that two or more controls carry while acting on
different things: a link by its address, a button by its form (method, action, hidden fields)
and its own name and value, a field by its form's action and its name. Controls with the same
name and the same target (the same link in the header and the body) are fine, and so is a link
named like a field (a screen reader lists them apart).

The name is computed the way browsers do, simplified to what our templates use:
`aria-labelledby`, then `aria-label`, then the text inside (visually hidden text counts,
`aria-hidden` and `hidden` parts do not); an `<input>` button's value; a field's labels.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr", "param"}
BUTTON_INPUTS = {"submit", "button", "reset", "image"}


@dataclass(eq=False)  # nodes are compared by identity
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    def walk(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()


class _Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, parent=self.open[-1])
        self.open[-1].children.append(node)
        if tag not in VOID:
            self.open.append(node)

    def handle_startendtag(self, tag, attrs):
        self.open[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}, self.open[-1]))

    def handle_endtag(self, tag):
        # Close up to the matching open element; a stray end tag closes nothing.
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data):
        self.open[-1].children.append(data)


def _text(node: Node) -> str:
    if node.attrs.get("aria-hidden") == "true" or "hidden" in node.attrs:
        return ""
    if node.tag == "img":
        return node.attrs.get("alt", "")
    parts = [c if isinstance(c, str) else _text(c) for c in node.children]
    return "".join(parts)


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _name(node: Node, by_id: dict[str, Node]) -> str:
    labelled = node.attrs.get("aria-labelledby", "").split()
    if labelled:
        return _squeeze(" ".join(_text(by_id[i]) for i in labelled if i in by_id))
    if node.attrs.get("aria-label", "").strip():
        return _squeeze(node.attrs["aria-label"])
    if node.tag == "input":
        return _squeeze(node.attrs.get("value") or node.attrs.get("alt", ""))
    return _squeeze(_text(node))


def _hidden_from_everyone(node: Node) -> bool:
    while node is not None:
        if node.tag == "template" or node.attrs.get("aria-hidden") == "true":
            return True
        if "hidden" in node.attrs:  # shown by a script, if at all
            return True
        node = node.parent
    return False


def _form_of(node: Node, by_id: dict[str, Node]) -> Node | None:
    if node.attrs.get("form") in by_id:
        return by_id[node.attrs["form"]]
    while node is not None and node.tag != "form":
        node = node.parent
    return node


def _target(node: Node, by_id: dict[str, Node]) -> tuple:
    if node.tag == "a":
        return ("link", node.attrs.get("href", ""))
    form = _form_of(node, by_id)
    own = (node.attrs.get("name", ""), node.attrs.get("value", ""))
    if form is None:  # a script's button: what it does is in its attributes
        return ("button", tuple(sorted((k, v) for k, v in node.attrs.items() if k != "id")))
    hidden = tuple(
        sorted(
            (n.attrs.get("name", ""), n.attrs.get("value", ""))
            for n in form.walk()
            if n.tag == "input"
            and n.attrs.get("type") == "hidden"
            and n.attrs.get("name") != "csrfmiddlewaretoken"  # differs per form, says nothing
        )
    )
    action = node.attrs.get("formaction") or form.attrs.get("action", "")
    return ("button", form.attrs.get("method", "get").lower(), action, hidden, own)


def _is_control(node: Node) -> bool:
    if node.tag == "input":
        return node.attrs.get("type", "").lower() in BUTTON_INPUTS
    return node.tag == "button" or (node.tag == "a" and "href" in node.attrs)


def _controls(root: Node):
    return (node for node in root.walk() if _is_control(node))


def _field_name(node: Node, by_id: dict[str, Node], labels: dict[str, list[Node]]) -> str:
    if node.attrs.get("aria-labelledby") or node.attrs.get("aria-label", "").strip():
        return _name(node, by_id)
    found = list(labels.get(node.attrs.get("id", ""), []))
    ancestor = node.parent
    while ancestor is not None:
        if ancestor.tag == "label" and ancestor not in found:
            found.append(ancestor)
        ancestor = ancestor.parent
    if found:
        return _squeeze(" ".join(_text(label) for label in found))
    return _squeeze(node.attrs.get("title") or node.attrs.get("placeholder", ""))


def _is_field(node: Node) -> bool:
    if node.tag == "input":
        return node.attrs.get("type", "text").lower() not in BUTTON_INPUTS | {"hidden"}
    return node.tag in ("select", "textarea")


def _fields(root: Node):
    return (node for node in root.walk() if _is_field(node))


def _parse(html: str) -> tuple[Node, dict[str, Node]]:
    tree = _Tree()
    tree.feed(html)
    tree.close()
    return tree.root, {n.attrs["id"]: n for n in tree.root.walk() if n.attrs.get("id")}


def control_names(html: str) -> list[tuple[str, tuple]]:
    """(accessible name, target) of each link and button a screen reader lists."""
    root, by_id = _parse(html)
    return [
        (_name(node, by_id), _target(node, by_id))
        for node in _controls(root)
        if not _hidden_from_everyone(node)
    ]


def field_names(html: str) -> list[tuple[str, tuple]]:
    """(accessible name, what it sets) of each form field: its form's action and its name
    (and value, for a checkbox or radio button)."""
    root, by_id = _parse(html)
    labels: dict[str, list[Node]] = defaultdict(list)
    for node in root.walk():
        if node.tag == "label" and node.attrs.get("for"):
            labels[node.attrs["for"]].append(node)
    named = []
    for node in _fields(root):
        if _hidden_from_everyone(node):
            continue
        form = _form_of(node, by_id)
        action = form.attrs.get("action", "") if form is not None else ""
        value = (
            node.attrs.get("value", "") if node.attrs.get("type") in ("checkbox", "radio") else ""
        )
        named.append(
            (_field_name(node, by_id, labels), (action, node.attrs.get("name", ""), value))
        )
    return named


def _shared(named: list[tuple[str, tuple]]) -> dict[str, list[tuple]]:
    targets: dict[str, set[tuple]] = defaultdict(set)
    for name, target in named:
        targets[name.casefold()].add(target)
    return {name: sorted(found, key=repr) for name, found in targets.items() if len(found) > 1}


def shared_names(html: str) -> dict[str, list[tuple]]:
    """Each accessible name carried by links and buttons, or by form fields, that act on
    different things, with those things (empty when every name is unambiguous). Links and
    buttons are one list, fields another, as a screen reader lists them: a "Status" field
    beside a "Status" link is fine."""
    found: dict[str, list[tuple]] = {}
    for named in (control_names(html), field_names(html)):
        for name, targets in _shared(named).items():
            found.setdefault(name, []).extend(targets)
    return found
