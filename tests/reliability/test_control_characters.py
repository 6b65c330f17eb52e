"""Characters no database column can hold (NUL, lone surrogates) and other control characters,
in every URL pattern's path parameters, in query strings and in form bodies, never reach the
database as errors: 404 or 400, the same on PostgreSQL (CI) as on SQLite, never 500.

The URL patterns come from walking the resolver, so a URL added later is covered too."""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

from tests.factories import CapstoneFactory, ResourceFactory, UserFactory
from tracker import services

pytestmark = pytest.mark.django_db

# Decoded to text: NUL (PostgreSQL refuses it in text), other control characters.
CONTROL_VALUES = ["a\x00b", "\x00", "x\x01y", "\x1b[0m", "del\x7f"]
# Left percent-encoded by Django (not valid UTF-8): a lone surrogate, an overlong NUL, 0xFF.
UNDECODABLE = ["%ED%A0%80", "%C0%80", "%FF"]
FIELD_NAMES = [
    "status",
    "body",
    "revisit",
    "next",
    "action",
    "show",
    "hours_per_week",
    "target_date",
    "title",
    "link",
    "writeup",
    "constraints_met",
    "display_name",
    "time_zone",
    "nudge_enabled",
    "nudge_weekday",
    "nudge_hour",
    "email",
    "login",
    "password",
    "password1",
    "password2",
    "oldpassword",
    "remember",
    "q",
    "term",
    "app_label",
    "model_name",
    "field_name",
    "decision",
    "review_comments",
    "key",
    "code",
    "_selected_action",
    "select_across",
    "index",
]
PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def url_patterns(resolver=None, prefix: str = ""):
    """Every URL pattern's full route (route syntax or regex), depth first."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def build(route: str, values: dict[str, str], default: str) -> str:
    path = PARAM.sub(lambda m: values.get(m.group(1) or m.group(2), default), route)
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


ROUTES = sorted(set(url_patterns()))


@pytest.fixture
def world():
    """A staff member (reaches every page, the admin too) enrolled in a track, with a note."""
    resource = ResourceFactory()
    capstone = CapstoneFactory(module=resource.module)
    learner = UserFactory(is_staff=True, is_superuser=True)
    services.enrolment_join(learner=learner, track=resource.track)
    services.note_save(learner=learner, resource=resource, body="mine")
    return {"learner": learner, "resource": resource, "capstone": capstone}


def real_values(route: str, world) -> dict[str, str]:
    resource = world["resource"]
    return {
        "slug": resource.track.slug,
        "item": world["capstone"].slug if "capstones" in route else resource.slug,
        "code": "no-such-certificate",
        "object_id": "1",
        "content_type_id": "1",
        "app_label": "tracker",
        "uidb36": "1",
        "key": "abc",
    }


def client_for(world) -> Client:
    client = Client(REMOTE_ADDR="192.0.2.77")
    client.force_login(world["learner"])
    return client


def test_the_walk_covers_every_kind_of_url():
    joined = " ".join(ROUTES)
    for part in ("tracks/", "me/", "certificates/", "accounts/", "admin/", "healthz"):
        assert part in joined
    assert len(ROUTES) > 50


@pytest.mark.parametrize("value", CONTROL_VALUES, ids=repr)
def test_control_characters_in_any_path_are_not_found(world, value):
    client = client_for(world)
    for route in ROUTES:
        if not PARAM.search(route):
            continue
        path = build(route, {}, quote(value, safe=""))
        for method in (client.get, client.post):
            response = method(path)
            assert response.status_code == 404, (route, path, response.status_code)


@pytest.mark.parametrize("value", UNDECODABLE)
def test_undecodable_bytes_in_any_path_never_fail(world, value):
    client = client_for(world)
    for route in ROUTES:
        if not PARAM.search(route):
            continue
        path = build(route, {}, value)
        for method in (client.get, client.post):
            response = method(path)
            assert response.status_code < 500, (route, path, response.status_code)


def test_unstorable_query_values_are_a_bad_request_everywhere(world):
    client = client_for(world)
    for route in ROUTES:
        path = build(route, real_values(route, world), "x")
        for query in ({"q": "a\x00b"}, {"next": "\x00"}, {"\x00": "1"}):
            response = client.get(path + "?" + urlencode(query))
            assert response.status_code == 400, (route, query, response.status_code)
    assert "cannot be used here" in client.get("/?q=%00").content.decode()


def test_unstorable_form_values_never_fail_anywhere(world):
    """Every field name any form of ours reads, all at once, holding NUL: each URL answers
    with the form's own message, a redirect or a refusal, never a server error."""
    data = {name: "a\x00b" for name in FIELD_NAMES}
    for route in ROUTES:
        path = build(route, real_values(route, world), "x")
        response = client_for(world).post(path, data)
        assert response.status_code < 500, (route, response.status_code)


def test_a_nul_in_a_form_field_is_named_next_to_the_field(world):
    resource = world["resource"]
    client = client_for(world)
    url = f"/tracks/{resource.track.slug}/items/{resource.slug}/note"
    response = client.post(url, {"body": "before\x00after"})
    assert response.status_code == 200
    assert "Null characters are not allowed" in response.content.decode()
    assert world["learner"].notes.get().body == "mine"
