"""A track's `source:` (the write-up it follows) and `filled_in: true` on the items that source
does not name: loaded, shown to learners, exported and reloaded unchanged, edited in the
browser, and refused where they make no sense."""

from __future__ import annotations

import re

import pytest
from django.utils.html import escape

from curriculum.exporter import track_export_yaml
from curriculum.models import Capstone, Resource, Track
from tests.curriculum.curation_world import TRACK_YAML, load_text

pytestmark = pytest.mark.django_db

SOURCE = """\
  source:
    title: "Dabbling with Deep Learning"
    author: A. Writer
    published: 2018-01-29
    url: https://example.com/dabbling
"""
SOURCED = (
    TRACK_YAML.replace("  summary: Learn", SOURCE + "  summary: Learn")
    .replace("          minutes: 20\n", "          minutes: 20\n          filled_in: true\n")
    .replace(
        "          brief: Build a **classifier**.\n",
        "          brief: Build a **classifier**.\n          filled_in: true\n",
    )
)


def test_source_and_filled_in_load_show_export_and_reload_unchanged(client):
    load_text(SOURCED)
    track = Track.objects.get(slug="pets")
    assert track.source == {
        "title": "Dabbling with Deep Learning",
        "author": "A. Writer",
        "published": "2018-01-29",
        "url": "https://example.com/dabbling",
    }
    assert Resource.objects.get(slug="video", track__slug="pets").filled_in
    assert not Resource.objects.get(slug="notebook").filled_in
    assert Capstone.objects.get(slug="final").filled_in

    page = client.get("/tracks/pets/").content.decode()
    assert (
        'This track follows <a href="https://example.com/dabbling" rel="noopener noreferrer">'
        "“Dabbling with Deep Learning”</a> by A. Writer (29 January 2018)"
    ) in page
    video = page[page.index('id="resource-video"') : page.index('id="resource-notebook"')]
    notebook = page[page.index('id="resource-notebook"') : page.index('id="capstone-final"')]
    tag = 'data-testid="filled-in"><span class="visually-hidden">(tagged: </span>not in the source'
    assert tag in video
    assert "filled-in" not in notebook
    assert tag in page[page.index('id="capstone-final"') :]
    assert "Items tagged" in page  # what the tag means, beside the source

    exported = track_export_yaml(slug="pets")
    assert "source:" in exported and exported.count("filled_in: true") == 2
    report = load_text(exported)
    assert report.created == report.updated == 0


def test_a_source_without_tagged_items_does_not_explain_a_tag_nobody_wears(client):
    load_text(TRACK_YAML.replace("  summary: Learn", SOURCE + "  summary: Learn"))
    page = client.get("/tracks/pets/").content.decode()
    assert "This track follows" in page and "Items tagged" not in page


def test_a_track_without_a_source_shows_no_source_line(client):
    load_text(TRACK_YAML)
    page = client.get("/tracks/pets/").content.decode()
    assert 'data-testid="track-source"' not in page and "not in the source" not in page
    assert "source:" not in track_export_yaml(slug="pets")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            TRACK_YAML.replace(
                "          minutes: 20\n", "          minutes: 20\n          filled_in: true\n"
            ),
            "module 1 (`one`), resource 1 (`video`): `filled_in` marks an item the track's "
            "source does not name, but this track has no `source`: add one under `track:`, or "
            "leave `filled_in` out",
        ),
        (
            SOURCED.replace('    title: "Dabbling with Deep Learning"\n', ""),
            "track (`pets`): `source` needs `title`: add a `title:` line under it",
        ),
        (
            SOURCED.replace("published: 2018-01-29", "published: 29.1.2018"),
            "track (`pets`): `published` under `source` must be a full date written YYYY-MM-DD, "
            "such as 2018-01-29, not text '29.1.2018'",
        ),
        (  # Python reads this ISO week date as 2018-01-29; the format says YYYY-MM-DD
            SOURCED.replace("published: 2018-01-29", "published: 2018-W05-1"),
            "track (`pets`): `published` under `source` must be a full date written YYYY-MM-DD, "
            "such as 2018-01-29, not text '2018-W05-1'",
        ),
        (
            SOURCED.replace("published: 2018-01-29", "published: 2999-01-01"),
            "track (`pets`): `published` under `source` must be from 1900-01-01 to ",
        ),
        (
            SOURCED.replace("url: https://example.com/dabbling", "url: example.com"),
            "track (`pets`): `url` under `source` must start with http:// or https://, and "
            "'example.com' does not",
        ),
        (
            SOURCED.replace("filled_in: true", "filled_in: yes", 1),
            "module 1 (`one`), resource 1 (`video`): `filled_in` must be true or false, not "
            "text 'yes'",
        ),
    ],
)
def test_bad_source_or_filled_in_is_refused_where_it_is_written(text, message):
    from curriculum.loader import CurriculumInvalid

    with pytest.raises(CurriculumInvalid) as refused:
        load_text(text)
    assert any(message in error.message for error in refused.value.load_errors), [
        e.message for e in refused.value.load_errors
    ]
    assert not Track.objects.exists()


def test_a_lead_gives_the_track_a_source_and_tags_an_item_in_the_browser(lead, world):
    form = lead.get("/tracks/pets/edit/track/").content.decode()
    for label in ("Source: title", "Source: author", "Source: published", "Source: link (URL)"):
        assert label in form
    # A tag needs a source: refused next to the checkbox, nothing written.
    response = lead.post(
        "/tracks/pets/edit/resources/video/",
        {"title": "Lesson video", "kind": "video", "minutes": "20", "filled_in": "on"},
    )
    body = response.content.decode()
    assert response.status_code == 400 and 'data-testid="error-filled_in"' in body
    assert "The track names no source yet: give it one in the track&#x27;s details" in body
    assert not Resource.objects.get(slug="video", track__slug="pets").filled_in

    response = lead.post(
        "/tracks/pets/edit/track/",
        {
            "title": "Pets course",
            "source_title": "Dabbling",
            "source_published": "29 Jan 2018",
            "summary": "Learn to classify *pets*.",
            "level": "beginner",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    published = body[body.index('name="source_published"') - 600 : body.index('name="source_url"')]
    assert (
        "Enter a full date written YYYY-MM-DD, such as 2018-01-29, not text &#x27;29 Jan 2018&#x27;."
    ) in published
    assert Track.objects.get(slug="pets").source == {}

    response = lead.post(
        "/tracks/pets/edit/track/",
        {
            "title": "Pets course",
            "source_title": "Dabbling",
            "source_published": "2018-01-29",
            "summary": "Learn to classify *pets*.",
            "level": "beginner",
        },
    )
    assert response.status_code == 302
    assert Track.objects.get(slug="pets").source == {
        "title": "Dabbling",
        "published": "2018-01-29",
    }
    response = lead.post(
        "/tracks/pets/edit/resources/video/",
        {"title": "Lesson video", "kind": "video", "minutes": "20", "filled_in": "on"},
    )
    assert response.status_code == 302
    assert Resource.objects.get(slug="video", track__slug="pets").filled_in
    edit = lead.get("/tracks/pets/edit/resources/video/").content.decode()
    assert 'name="filled_in"' in edit and "checked" in edit[edit.index('name="filled_in"') - 200 :]


def test_source_errors_land_on_the_source_fields_once(lead, world):
    """A missing source title was reported at the top of the form (easily read as the track's
    own title); clearing the source of a track with 13 tagged items gave 13 identical lines."""
    track_form = "/tracks/pets/edit/track/"
    details = {"title": "Pets course", "summary": "Learn.", "level": "beginner"}
    response = lead.post(track_form, details | {"source_author": "A. Writer"})
    body = response.content.decode()
    assert response.status_code == 400
    error = body[body.index('data-testid="error-source_title"') :].split("</ul>", 1)[0]
    assert "Enter a title." in error and "key" not in error

    load_text(SOURCED)  # now with a source and two tagged items
    response = lead.post(track_form, details)  # every source field left empty
    body = response.content.decode()
    assert response.status_code == 400 and body.count("marked as not in the source") == 1
    error = body[body.index('data-testid="error-source_title"') :].split("</ul>", 1)[0]
    assert "2 items are marked as not in the source (“Lesson video”, “Final project”)" in error
    assert Track.objects.get(slug="pets").source["title"] == "Dabbling with Deep Learning"


def test_the_editor_outline_shows_the_source_tags_and_capstone_minutes(lead, world):
    load_text(
        SOURCED.replace(
            "          brief: Build a **classifier**.\n",
            "          brief: Build a **classifier**.\n          minutes: 240\n",
        )
    )
    body = lead.get("/tracks/pets/edit/").content.decode()
    assert "Follows “Dabbling with Deep Learning” by A. Writer (2018-01-29)." in body
    video = body[body.index('id="resource-video"') :].split("</li>", 1)[0]
    assert "not in the source" in video
    final = body[body.index('id="capstone-final"') :].split("</li>", 1)[0]
    assert "240 min · 100 points · reviewed by a track lead" in final
    assert "not in the source" in final


@pytest.mark.parametrize("typed", ["29 January 2018", "2018", "2018-01", "20180129", "2018-W05-1"])
def test_a_published_date_is_typed_in_full_and_a_wrong_one_says_what_to_write(lead, typed):
    """The field had maxlength 10: "29 January 2018" was cut to "29 January" as it was typed,
    and the error quoted the cut text. The form takes what the loader takes (YYYY-MM-DD, no
    year or month alone) and says so, with an example, keeping what was typed."""
    form = lead.get("/tracks/pets/edit/track/").content.decode()
    field = re.search(r'<input type="text" name="source_published"[^>]*>', form).group(0)
    assert "maxlength" not in field
    assert "29 January 2018 is 2018-01-29. A year or a month alone is not accepted" in form

    values = {"title": "Pets course", "source_title": "Dabbling", "level": "beginner"}
    response = lead.post("/tracks/pets/edit/track/", values | {"source_published": typed})
    assert response.status_code == 400
    body = response.content.decode()
    errors = re.search(r'data-testid="error-source_published">(.*?)</ul>', body, re.S).group(1)
    assert "Enter a full date written YYYY-MM-DD, such as 2018-01-29, not " in errors
    assert f"text {escape(repr(typed))}" in errors
    field = re.search(r'<input type="text" name="source_published"[^>]*>', body).group(0)
    assert f'value="{typed}"' in field
    assert Track.objects.get(slug="pets").source == {}

    response = lead.post("/tracks/pets/edit/track/", values | {"source_published": "2018-01-29"})
    assert response.status_code == 302
    assert Track.objects.get(slug="pets").source["published"] == "2018-01-29"
