"""The header's links come from `{% site_url %}`, reversed once per process: they must be the
addresses `{% url %}` would print, under whatever path the site is served from."""

import pytest
from django.template import engines
from django.templatetags.static import static
from django.urls import reverse, set_script_prefix

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HEADER_PAGES = ["home", "tracker:dashboard", "tracker:revisit", "tracker:progress_history"]


def test_the_header_links_to_every_page_it_names(client):
    client.force_login(UserFactory())
    body = client.get("/").content.decode()
    for name in [*HEADER_PAGES, "tracker:profile", "account_logout", "healthz"]:
        assert f'"{reverse(name)}"' in body, name


def test_a_site_served_under_a_path_links_under_that_path():
    template = engines["django"].from_string("{% load site_urls %}{% site_url 'tracker:revisit' %}")
    at_root = template.render({})
    try:
        set_script_prefix("/waymark/")
        under_path = template.render({})
    finally:
        set_script_prefix("/")
    assert at_root == reverse("tracker:revisit")
    assert under_path == "/waymark" + at_root
    assert template.render({}) == at_root


def test_every_page_links_its_stylesheets_and_script_as_static_names_them(client):
    body = client.get("/").content.decode()
    for path in ["css/waymark.css", "css/track.css", "css/print.css", "js/waymark.js"]:
        assert f'"{static(path)}"' in body, path


def test_a_changed_static_url_setting_is_seen(settings):
    template = engines["django"].from_string("{% load site_urls %}{% static_url 'css/a.css' %}")
    template.render({})
    settings.STATIC_URL = "https://cdn.example.invalid/static/"
    assert template.render({}) == "https://cdn.example.invalid/static/css/a.css"
