"""Every form meets bad input (empty, invisible-only, over-long, wrong type, full-width digits, far dates,
control characters, NUL, 1 MB) with a message tied to the field (`aria-describedby` from the
field to its error list) and no change in the database. The forms are in form_cases.py."""

from __future__ import annotations

import importlib
import itertools
import pkgutil
import re
from html.parser import HTMLParser

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.test import Client

from ops.forms import has_visible_text
from tests.aria import aria_problems

from .form_cases import FORM_CASES, Choice, Date, FormCase, Link, Number, Text, make_world

pytestmark = pytest.mark.django_db
MEGABYTE = "x" * 1_048_576
_addresses = itertools.count(1)

# Forms of ours that need no case, and why.
EXEMPT: dict[str, str] = {
    # It writes nothing (a valid code redirects to the invite's page), which the valid-body
    # test here requires of a POST; its bad input is tests/cohorts/test_pages_people.py's.
    "cohorts.forms.JoinCodeForm": "a lookup that redirects; tested in tests/cohorts",
}


def bad_values(kind) -> dict[str, object]:
    """The bad inputs that apply to a field of this kind: name -> value to post."""
    values: dict[str, object] = {"NUL": "a\x00b", "1 MB": MEGABYTE}
    if kind.required:
        values["empty"] = ""
    if kind.required and isinstance(kind, Text | Link):
        values["invisible only"] = "\u200b \u3164\u2060"  # zero-width space, Hangul filler...
    if isinstance(kind, Text):
        values["over-long"] = "x" * (kind.max_length + 1)
        values["control character"] = "a\x1b[31mb" if kind.multiline else "a\x01b"
        if not kind.multiline:
            values["line break"] = "first\nsecond"
            values["bidi override"] = "\u202eevil"
    elif isinstance(kind, Number):
        values.update(
            {
                "over-long": "1" * 40,
                "wrong type": "twelve",
                "full-width digits": "１２",
                "control character": "4\x07",
            }
        )
    elif isinstance(kind, Date):
        values.update(
            {
                "wrong type": "next tuesday",
                "full-width digits": "２０３０-０１-０１",
                "far-future date": "9999-12-31",
                "far-past date": "0001-01-01",
                "control character": "2030-01-01\x0b",
            }
        )
    elif isinstance(kind, Choice):
        values.update(
            {
                "wrong type": "not-a-choice",
                "full-width digits": "１２",
                "superscript digit": "²",
                "id past any integer": "9" * 30,
                "control character": "1\x01",
            }
        )
        if kind.max_length:
            values["over-long"] = "x" * (kind.max_length + 1)
    elif isinstance(kind, Link):
        values.update(
            {
                "over-long": "https://example.com/" + "x" * kind.max_length,
                "wrong type": "not a link",
                "control character": "https://example.com/\x01",
            }
        )
    return values


def parameters():
    for case in FORM_CASES:
        for field_name, kind in case.fields.items():
            for value_name, value in bad_values(kind).items():
                yield pytest.param(
                    case, field_name, value, id=f"{case.name}-{field_name}-{value_name}"
                )


def database_snapshot() -> dict[str, list]:
    """Every row of every model that a form could write (sessions and logs aside)."""
    skip_apps = {"sessions", "contenttypes", "admin", "sites"}
    skip_models = {"auth.Permission", "auth.Group"}
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values_list())
        for model in apps.get_models()
        if model._meta.app_label not in skip_apps
        and model._meta.label not in skip_models
        and model._meta.managed
    }


class _Elements(HTMLParser):
    VOID = {"input", "br", "img", "meta", "link", "hr", "source", "col", "wbr"}

    def __init__(self, html: str):
        super().__init__()
        self.elements: list[dict] = []
        self._stack: list[int] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append(
            {
                "tag": tag,
                "attrs": {k: v or "" for k, v in attrs},
                "parent": self._stack[-1] if self._stack else None,
                "text": [],
            }
        )
        if tag not in self.VOID:
            self._stack.append(len(self.elements) - 1)

    def handle_endtag(self, tag):
        while self._stack:
            if self.elements[self._stack.pop()]["tag"] == tag:
                break

    def handle_data(self, data):
        for index in self._stack:
            self.elements[index]["text"].append(data)


def field_error(html: str, name: str) -> str | None:
    """The error text tied to the field `name`: an error list (class "errorlist" or
    role="alert") referenced by aria-describedby on the field or on its fieldset."""
    html = re.sub(r"x{200,}", "x", html)  # a 1 MB value echoed back: parse it short
    elements = _Elements(html).elements
    by_id = {e["attrs"]["id"]: e for e in elements if e["attrs"].get("id")}
    for element in elements:
        if element["tag"] not in {"input", "textarea", "select"}:
            continue
        if element["attrs"].get("name") != name:
            continue
        node: dict | None = element
        while node is not None:
            for ref in node["attrs"].get("aria-describedby", "").split():
                target = by_id.get(ref)
                if target is None:
                    continue
                is_error = "errorlist" in target["attrs"].get("class", "").split() or (
                    target["attrs"].get("role") == "alert"
                )
                text = " ".join("".join(target["text"]).split())
                if is_error and text:
                    return text
            node = elements[node["parent"]] if node["parent"] is not None else None
    return None


def client_for(case: FormCase, world) -> Client:
    """Logged in as the case's user (each client from its own address, so the sign-up rate
    limit never interferes), having opened the form once, as a person would."""
    n = next(_addresses)
    client = Client(REMOTE_ADDR=f"198.18.{n // 250}.{n % 250 + 1}")
    user = getattr(world, case.user) if case.user else None
    if user is not None:
        client.force_login(user)
    assert client.get((case.page or case.url)(world)).status_code == 200
    return client


@pytest.fixture
def world():
    return make_world()


@pytest.mark.parametrize("case, field_name, value", list(parameters()))
def test_bad_input_is_named_next_to_the_field_and_changes_nothing(
    world, case: FormCase, field_name: str, value
):
    if case.arrange:
        case.arrange(world)
    data = case.valid(world)
    data[field_name] = [value] if getattr(case.fields[field_name], "multiple", False) else value
    client = client_for(case, world)
    before = database_snapshot()

    response = getattr(client, case.method)(case.url(world), data)

    assert response.status_code in (200, 400), response.status_code
    if case.method == "get" and "\x00" in str(value):
        # A query string no database could store is refused before any view runs.
        assert "cannot be used here" in response.content.decode()
    else:
        html = response.content.decode()
        message = field_error(html, field_name)
        assert message, f"no error tied to {field_name!r} in the answer"
        assert not aria_problems(html)
    assert database_snapshot() == before


@pytest.mark.parametrize("case", FORM_CASES, ids=[case.name for case in FORM_CASES])
def test_the_valid_body_of_each_case_is_accepted(world, case: FormCase):
    """Without this, a case whose "valid" body is refused would pass every bad-input test."""
    if case.arrange:
        case.arrange(world)
    client = client_for(case, world)
    before = database_snapshot()
    response = getattr(client, case.method)(case.url(world), case.valid(world))
    if case.method == "get":
        assert response.status_code == 200
        html = response.content.decode()
        assert not any(field_error(html, name) for name in case.fields), field_errors_of(response)
        return
    assert response.status_code == 302, field_errors_of(response)
    assert database_snapshot() != before


def field_errors_of(response) -> str:
    return response.content.decode()[:3000]


def our_form_classes() -> set[str]:
    """Every Form and ModelForm class defined in Waymark's own apps."""
    ours = [
        app.name
        for app in apps.get_app_configs()
        if app.path.startswith(str(settings.BASE_DIR)) and "/.venv/" not in app.path
    ]
    for package_name in ours:
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, package_name + "."):
            if ".migrations" in module.name or ".management" in module.name:
                continue
            importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    found = set()
    for base in (forms.Form, forms.ModelForm):
        for cls in subclasses(base):
            if cls.__module__.split(".")[0] in ours:
                found.add(f"{cls.__module__}.{cls.__qualname__}")
    return found


def test_every_form_has_a_case():
    covered = {case.form for case in FORM_CASES}
    covered |= {extra for case in FORM_CASES for extra in case.covers_also}
    missing = our_form_classes() - covered - set(EXEMPT)
    assert not missing, (
        f"forms without a bad-input case: {sorted(missing)}; add a FormCase to "
        "tests/reliability/form_cases.py (docs/reliability.md, 'Adding a form')"
    )


def test_an_optional_field_of_only_invisible_characters_is_saved_empty(world):
    """A display name of zero-width spaces looked empty everywhere but was not: certificates
    showed nothing where "A Waymark learner" belongs."""
    [case] = [case for case in FORM_CASES if case.name == "profile"]
    client = client_for(case, world)
    data = case.valid(world) | {"display_name": "\u200b\u200b \u2060"}
    assert client.post(case.url(world), data).status_code == 302
    world.learner.profile.refresh_from_db()
    assert world.learner.profile.display_name == ""
    assert has_visible_text(world.learner.profile.name)  # the fallback name others see


def test_a_well_formed_email_address_over_254_characters_is_refused_at_sign_up(world):
    """It was cut to its first 254 characters on SQLite (the confirmation went to an address
    without its domain) and failed to save on PostgreSQL."""
    from django.contrib.auth import get_user_model

    [case] = [case for case in FORM_CASES if case.name == "sign-up"]
    client = client_for(case, world)
    email = "a" * 300 + "@example.com"
    response = client.post(case.url(world), case.valid(world) | {"email": email})
    assert response.status_code == 200
    message = field_error(response.content.decode(), "email")
    assert message and "at most 254 characters (this one has 312)" in message
    assert not get_user_model().objects.filter(email__startswith="aaaa").exists()
