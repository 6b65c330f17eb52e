"""The pages a person lands on when something is not there, not allowed or out of date: the
site's own pages with a way back, never Django's bare text or an empty body."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    client.force_login(UserFactory())
    return client


@pytest.mark.parametrize("url", ["/tracks/does-not-exist/", "/certificates/nope/", "/nowhere"])
def test_a_missing_page_is_the_sites_own_with_a_way_back(client, settings, url):
    settings.DEBUG = False
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in body and 'href="/"' in body
    assert 'class="site-header"' in body  # the site's frame


def test_a_form_posted_from_a_stale_page_says_what_to_do(settings):
    settings.DEBUG = False
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(UserFactory())
    response = browser.post("/me/profile/", {"display_name": "Kim"})
    body = response.content.decode()
    assert response.status_code == 403
    assert "This page was out of date" in body and "reload the page" in body
    assert "More information is available with DEBUG" not in body  # not Django's own page


def test_visiting_an_address_that_only_takes_a_form_explains_itself(signed_in, settings):
    settings.DEBUG = False
    response = signed_in.get("/tracks/some-track/enrol")
    body = response.content.decode()
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "Nothing to show here" in body and "Go back to the page with the button" in body


def test_a_405_with_a_body_of_its_own_is_left_alone(signed_in):
    response = signed_in.post("/healthz")
    assert response.status_code == 405
    assert "Nothing to show here" not in response.content.decode()
