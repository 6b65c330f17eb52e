"""What assistive technology needs of a page's markup, checked on every page the tests render
(the URL × role matrix, every form's bad-input answer):

- every id that `aria-describedby`, `aria-labelledby`, `aria-controls` or a label's `for` names
  is on the page (else a screen reader says nothing: a field's help or error goes unheard);
- no list carries a role other than "list" (`<ul role="alert">` stops being a list, and its
  items are announced as orphans).

Found with axe-core over every page and role of the demo site; these are the two rules it
reported, kept here as tests so they stay true.
"""

from __future__ import annotations

from html.parser import HTMLParser

REFERENCES = ("aria-describedby", "aria-labelledby", "aria-controls")


class _Markup(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.references: list[tuple[str, str, str]] = []  # (tag, attribute, id)
        self.list_roles: list[tuple[str, str]] = []  # (tag, role)
        self._in_template = 0  # <template> content is not in the document yet

    def handle_starttag(self, tag, attrs):
        if tag == "template":
            self._in_template += 1
        if self._in_template:
            return
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(found["id"])
        for attribute in REFERENCES:
            for ref in (found.get(attribute) or "").split():
                self.references.append((tag, attribute, ref))
        if tag == "label" and found.get("for"):
            self.references.append((tag, "for", found["for"]))
        role = found.get("role")
        if tag in ("ul", "ol") and role and role != "list":
            self.list_roles.append((tag, role))

    def handle_endtag(self, tag):
        if tag == "template" and self._in_template:
            self._in_template -= 1


def aria_problems(html: str) -> list[str]:
    """What the page gets wrong by the rules above, one line each (empty when nothing)."""
    markup = _Markup()
    markup.feed(html)
    problems = [
        f'<{tag} {attribute}="{ref}">: no element has id="{ref}"'
        for tag, attribute, ref in markup.references
        if ref not in markup.ids
    ]
    problems += [
        f'<{tag} role="{role}">: a list with another role loses its items; put the role on a '
        "wrapping element"
        for tag, role in markup.list_roles
    ]
    return problems
