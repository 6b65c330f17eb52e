"""The curriculum format's value checkers: a YAML node in, the value the format allows out, or
`Invalid` saying what is wrong, in a file's words and in a form's (curriculum/curation/). Used
by `schema.py`, which walks a file's mappings and lists."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.text import slugify

from .parse import Node, Scalar, describe, shorten

SLUG_MAX = 100
SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
EMAIL_MAX = 254
EARLIEST_PUBLISHED = date(1900, 1, 1)
_url_validator = URLValidator(schemes=["http", "https"])
_email_validator = EmailValidator()


class Invalid(Exception):
    """A value is wrong. `rest` finishes a sentence whose subject is the value ("must not be
    empty": "`title` must not be empty"); `form` says it beside a form field, in its words."""

    def __init__(self, rest: str, form: str = ""):
        super().__init__(rest)
        self.rest = rest
        self.form = form


# --- value checkers: node → value, or Invalid -------------------------------------------------

Checker = Callable[[Node], object]
_SLUG_RULE = "lowercase letters a-z, digits and hyphens"


def _scalar(node: Node, expected: str, form: str) -> object:
    if isinstance(node, Scalar) and node.value is None:
        raise Invalid(f"is empty: write {expected}", form)
    if not isinstance(node, Scalar):
        raise Invalid(f"must be {expected}, not {describe(node)}", form)
    return node.value


def _quoted(value: str) -> str:
    return f"“{shorten(value)}”"


def text(max_length: int | None = None, *, blank: bool = False) -> Checker:
    def check(node: Node) -> str:
        value = _scalar(node, "text", "Enter text.")
        if not isinstance(value, str):
            raise Invalid(
                f'must be text, not {describe(node)}: put it in quotes ("{node.text}")',
                "Enter text.",
            )
        if not blank and not value.strip():
            raise Invalid("is empty: fill it in", "")  # the form names what to enter
        if max_length and len(value) > max_length:
            raise Invalid(
                f"is {len(value):,} characters long: shorten it to at most {max_length:,}",
                f"Shorten this to at most {max_length:,} characters (it has {len(value):,}).",
            )
        return value

    return check


def _slug_like(value: str) -> str:
    """What a slug written with other characters would be ("First_Steps" → "first-steps")."""
    return re.sub(r"[^a-z0-9]+", "-", slugify(value).lower()).strip("-")[:SLUG_MAX]


def slug(node: Node) -> str:
    form = f"Enter a slug: {_SLUG_RULE}."
    value = _scalar(node, f"a slug ({_SLUG_RULE})", form)
    if not isinstance(value, str):
        raise Invalid(f"must be a slug ({_SLUG_RULE}), not {describe(node)}", form)
    if not value:
        raise Invalid(f"is empty: write a slug ({_SLUG_RULE})", form)
    if not set(value) <= SLUG_CHARS:
        like = _slug_like(value)
        if like:
            raise Invalid(
                f"must use only {_SLUG_RULE}: write '{like}' instead of {shorten(value)!r}",
                f"Use only {_SLUG_RULE}: for example “{like}” instead of {_quoted(value)}.",
            )
        raise Invalid(
            f"must use only {_SLUG_RULE}, and {shorten(value)!r} has none of them",
            f"Use only {_SLUG_RULE}; {_quoted(value)} has none of them.",
        )
    if len(value) > SLUG_MAX:
        raise Invalid(
            f"is {len(value)} characters long: shorten it to at most {SLUG_MAX}",
            f"Shorten this to at most {SLUG_MAX} characters (it has {len(value)}).",
        )
    return value


def enum(values: list[str], noun: str) -> Checker:
    listed = ", ".join(values)
    form = f"Choose a {noun} from the list."

    def check(node: Node) -> str:
        value = _scalar(node, f"one of {listed}", form)
        if value not in values:
            shown = repr(shorten(value)) if isinstance(value, str) else describe(node)
            hint = difflib.get_close_matches(str(value), values, n=1, cutoff=0.6)
            guess = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise Invalid(f"must be one of {listed}, not {shown}{guess}", form)
        return value

    return check


def whole_number(low: int, high: int) -> Checker:
    form = f"Enter a whole number from {low} to {high}, in digits."

    def check(node: Node) -> int:
        value = _scalar(node, f"a whole number from {low} to {high}", form)
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(
                f"must be a whole number from {low} to {high}, not {describe(node)}", form
            )
        if not low <= value <= high:
            raise Invalid(
                f"must be from {low} to {high}, not {value}",
                f"Enter a number from {low} to {high}; {value} is out of range.",
            )
        return value

    return check


def boolean(node: Node) -> bool:
    form = "Tick the box or leave it empty."
    value = _scalar(node, "true or false", form)
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false, not {describe(node)}", form)
    return value


# The one way a date is written: YYYY-MM-DD. (Python's date.fromisoformat also reads
# "20180129" and the week date "2018-W05-1", which the format never promised.)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATE_EXPECTED = "a full date written YYYY-MM-DD, such as 2018-01-29"


def iso_date(node: Node) -> str:
    written = str(_scalar(node, DATE_EXPECTED, f"Enter {DATE_EXPECTED}."))
    try:
        day = date.fromisoformat(written) if _ISO_DATE.fullmatch(written) else None
    except ValueError:
        day = None
    if day is None:
        raise Invalid(
            f"must be {DATE_EXPECTED}, not {describe(node)}",
            f"Enter {DATE_EXPECTED}, not {describe(node)}.",
        )
    latest = date.today() + timedelta(days=366)  # a source is published already, or nearly
    if not EARLIEST_PUBLISHED <= day <= latest:
        raise Invalid(
            f"must be from {EARLIEST_PUBLISHED} to {latest}, not {written}",
            f"Enter a date from {EARLIEST_PUBLISHED} to {latest}; {written} is out of range.",
        )
    return day.isoformat()


def url(node: Node) -> str:
    form = "Enter a link that starts with http:// or https://."
    value = _scalar(node, "a link that starts with http:// or https://", form)
    if not isinstance(value, str):
        raise Invalid(
            f"must be a link that starts with http:// or https://, not {describe(node)}", form
        )
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme not in ("http", "https"):
        raise Invalid(
            f"must start with http:// or https://, and {shorten(value)!r} does not",
            f"Enter a link that starts with http:// or https://; {_quoted(value)} does not.",
        )
    if len(value) > 1000:
        raise Invalid(
            f"is {len(value):,} characters long: shorten it to at most 1,000",
            f"Shorten this link to at most 1,000 characters (it has {len(value):,}).",
        )
    try:
        _url_validator(value)
    except ValidationError:
        raise Invalid(
            f"must be a working link, and {shorten(value)!r} is not one: check it for "
            "spaces and typos",
            f"Enter a working link; {_quoted(value)} is not one (check it for spaces and typos).",
        ) from None
    return value


def email(node: Node) -> str:
    """An email address, lowercased (accounts match it whatever its case)."""
    form = "Enter an email address, such as ada@example.com."
    value = _scalar(node, "an email address", form)
    if not isinstance(value, str):
        raise Invalid(f"must be an email address, not {describe(node)}", form)
    if len(value) > EMAIL_MAX:
        raise Invalid(
            f"is {len(value)} characters long: an email address has at most {EMAIL_MAX}", form
        )
    try:
        _email_validator(value)
    except ValidationError:
        raise Invalid(
            f"must be an email address (such as ada@example.com), not {shorten(value)!r}", form
        ) from None
    return value.lower()


# What a form asks for when a value is missing or empty, by the file's key.
_FORM_PROMPTS = {
    "title": "Enter a title.",
    "brief": "Enter a brief: what to build, and what it is for.",
    "slug": f"Enter a slug: {_SLUG_RULE}.",
    "kind": "Choose a kind.",
    "track": "Choose the track it stands for.",
    "author": "Enter the author, or leave this empty.",
}


def form_prompt(name: str) -> str:
    return _FORM_PROMPTS.get(name, "Fill this in.")
