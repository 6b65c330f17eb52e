"""Reordering in the track editor by drag and drop, in headless Chromium: a resource dragged
above another in its module, and a module dragged above the first, are saved in that order
(the learner's page follows); the keyboard's Move buttons stay (tests/browser/test_curation.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from curriculum.models import Module, Resource
from tests.browser.test_lead_reviews import signed_in
from tests.curriculum.curation_world import build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_drags_a_resource_and_a_module_to_new_places(browser, live_server):
    world = build()
    context, page = signed_in(browser, live_server, world.lead)
    # Both rows of each drag on screen at once: Playwright scrolls between the press and the
    # move otherwise, and Chromium then starts no drag at all.
    page.set_viewport_size({"width": 1280, "height": 1600})
    page.goto(f"{live_server.url}/tracks/pets/edit/")
    expect(
        page.get_by_text("or drag a module (by its heading), resource or capstone")
    ).to_be_visible()

    page.locator("#resource-notebook").drag_to(page.locator("#resource-video"))
    # (In the outline: #announcer says the same words to screen readers.)
    outline = page.get_by_test_id("outline")
    expect(outline.get_by_text("Moved “Lesson notebook” to place 1.")).to_be_visible()
    order = Resource.objects.filter(module__slug="one", track__slug="pets").order_by("position")
    assert [r.slug for r in order] == ["notebook", "video"]

    page.locator("#module-title-two").drag_to(page.locator("#module-title-one"))
    expect(outline.get_by_text("Moved “Lesson two” to place 1.")).to_be_visible()
    expect(page.get_by_test_id("module").first).to_contain_text("Lesson two")
    modules = Module.objects.active().filter(track__slug="pets").order_by("position")
    assert [m.slug for m in modules] == ["two", "one"]
    assert not page.console_errors
    context.close()
