"""The track editor's controls say which item they act on: with several items' editors open in
the outline, a screen reader's lists of buttons, links and fields tell each "Cancel" and each
"Title" apart."""

from __future__ import annotations

import pytest

from tests.accessible_names import control_names, field_names, shared_names

from .curation_world import HX

pytestmark = pytest.mark.django_db

EDITORS = [
    "/tracks/pets/edit/modules/one/",
    "/tracks/pets/edit/modules/two/",
    "/tracks/pets/edit/resources/video/",
    "/tracks/pets/edit/resources/notebook/",
    "/tracks/pets/edit/capstones/final/",
]


def test_open_item_editors_name_their_item_in_every_control(lead):
    outline = lead.get("/tracks/pets/edit/").content.decode()
    editors = "".join(lead.get(url, **HX).content.decode() for url in EDITORS)
    controls = [name for name, _ in control_names(editors)]
    assert "Cancel editing resource Lesson video" in controls
    assert "Cancel editing resource Lesson notebook" in controls
    assert "Cancel editing module Lesson one" in controls
    assert "Cancel editing capstone Final project" in controls
    fields = [name for name, _ in field_names(editors)]
    assert "Title, resource Lesson video" in fields and "Title, module Lesson two" in fields
    assert "Optional (never blocks completion), capstone Final project" in fields
    assert "Lesson one, module Lesson two" in fields  # a choice of "Modules to finish first"
    # The outline with those editors swapped in, as htmx leaves it.
    assert shared_names(outline + editors) == {}


def test_an_item_editor_on_its_own_page_names_its_item_too(lead):
    page = lead.get("/tracks/pets/edit/resources/video/").content.decode()
    assert "Cancel editing resource Lesson video" in [name for name, _ in control_names(page)]
    assert "Title, resource Lesson video" in [name for name, _ in field_names(page)]
