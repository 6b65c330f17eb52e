"""A large track's page: its first whole modules (FIRST_ROWS rows or a little more) come with
it, the others as their heading and progress plus a link that loads their rows (htmx, as they
come into view) or opens the page with them (no JavaScript); every action on a row of such a
module comes back to it. Tracks of up to WHOLE_TRACK_ROWS rows come whole."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from tests.tracker.test_track_page import HX, build_track, status_url
from tracker import services
from tracker.selectors import FIRST_ROWS, WHOLE_TRACK_ROWS

pytestmark = pytest.mark.django_db


@pytest.fixture
def large():
    """20 modules of 10 resources and a capstone: the first 2 modules (22 rows) come first."""
    resources = build_track("large", 20, 10)
    assert (FIRST_ROWS, WHOLE_TRACK_ROWS) == (20, 60)
    return resources


@pytest.fixture
def learner(client, large):
    user = UserFactory()
    services.enrolment_join(learner=user, track=large[0].track)
    client.force_login(user)
    return user


def module_of(resources, n):
    return resources[n * 10].module


def test_later_modules_come_as_heading_progress_and_a_link(client, large, learner):
    body = client.get("/tracks/large/").content.decode()
    shown, later = module_of(large, 1), module_of(large, 2)
    assert (
        f'id="resource-{large[19].slug}"' in body and f'id="resource-{large[20].slug}"' not in body
    )
    assert f'id="module_status_{later.slug}"' in body  # its progress is there all the same
    link = f'href="/tracks/large/?module={later.slug}#module-{later.slug}"'
    assert link in body and 'hx-trigger="revealed"' in body
    assert "Show its 10 resources and 1 capstone" in body
    assert f"?module={shown.slug}#" not in body


def test_without_javascript_the_link_opens_the_page_with_that_module(client, large, learner):
    last = module_of(large, 19)
    body = client.get(f"/tracks/large/?module={last.slug}").content.decode()
    assert body.count('name="status"') == (20 + 10) * 4
    assert f'id="resource-{large[-1].slug}"' in body and "<html" in body


def test_htmx_gets_the_rows_alone(client, large, learner):
    last = module_of(large, 19)
    body = client.get(f"/tracks/large/?module={last.slug}", **HX).content.decode()
    assert body.lstrip().startswith(
        f'<ul class="resource-list" role="list" id="module_body_{last.slug}"'
    )
    assert "<html" not in body and body.count('name="status"') == 10 * 4
    assert 'name="csrfmiddlewaretoken"' in body
    assert client.get("/tracks/large/?module=no-such-module", **HX).status_code == 404


def test_a_link_to_an_item_opens_its_module(client, large, learner):
    body = client.get(f"/tracks/large/?item={large[-1].slug}").content.decode()
    assert f'id="resource-{large[-1].slug}"' in body
    capstone = large[-1].module.capstones.get()
    body = client.get(f"/tracks/large/?item={capstone.slug}").content.decode()
    assert f'id="capstone-{capstone.slug}"' in body


def test_a_plain_post_on_a_later_row_comes_back_to_it(client, large, learner):
    resource = large[-1]
    response = client.post(status_url(resource), {"status": "done"})
    module = resource.module.slug
    assert response["Location"] == f"/tracks/large/?module={module}#resource-{resource.slug}"
    page = client.get(response["Location"]).content.decode()
    row = page[page.index(f'id="resource-{resource.slug}"') - 40 :][:200]
    assert "is-done" in row
    # A row that comes with the page keeps the plain anchor.
    first = client.post(status_url(large[0]), {"status": "done"})
    assert first["Location"] == f"/tracks/large/#resource-{large[0].slug}"


def test_an_htmx_post_on_a_later_row_answers_like_any_other(client, large, learner):
    body = client.post(status_url(large[-1]), {"status": "done"}, **HX).content.decode()
    assert body.lstrip().startswith(f'<li class="resource is-done" id="resource-{large[-1].slug}"')
    assert f'id="module_status_{large[-1].module.slug}"' in body


def test_a_visitor_gets_the_same_page_shape(client, large):
    body = client.get("/tracks/large/").content.decode()
    assert body.count("data-module-more") == 18 and 'name="status"' not in body
    last = module_of(large, 19)
    fragment = client.get(f"/tracks/large/?module={last.slug}", **HX).content.decode()
    assert f'id="resource-{large[-1].slug}"' in fragment and 'name="status"' not in fragment
