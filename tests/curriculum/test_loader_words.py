"""The loader's messages in a track lead's words, wherever they reach one: the upload page
names items by their place (counted from 1) and slug, with the line and column; the editor's
forms say what to enter beside the field, and never name a YAML key or a data path."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from curriculum.models import Resource, Track, TrackUpload

from .curation_world import TRACK_YAML, load_text

pytestmark = pytest.mark.django_db

# A data path such as `track.modules[1].resources[2]`, or any piece of one.
BRACKET_PATH = re.compile(r"\w\[\d+\]|track\.\w")


def upload(client, text: str):
    file = SimpleUploadedFile("pets.yaml", text.encode(), "application/yaml")
    return client.post("/tracks/pets/edit/upload/", {"file": file})


def test_the_upload_page_names_items_by_place_and_slug(lead):
    text = TRACK_YAML.replace(
        "          url: https://example.com/nb\n",
        "          url: https://example.com/nb\n          minutes: lots\n",
    ).replace("          url: https://example.com/paper\n", "          url: example.com/paper\n")
    response = upload(lead, text)
    assert response.status_code == 400
    assert response.context["errors"] == [
        "18:20: module 1 (`one`), resource 2 (`notebook`): `minutes` must be a whole number "
        "from 0 to 10000, not text 'lots'",
        "29:16: module 2 (`two`), resource 1 (`paper`): `url` must start with http:// or "
        "https://, and 'example.com/paper' does not",
    ]
    shown = html.unescape(response.content.decode())
    assert "module 2 (`two`), resource 1 (`paper`): `url` must start with" in shown
    assert not BRACKET_PATH.search(shown.split('data-testid="loader-errors"', 1)[1])
    assert not TrackUpload.objects.exists()


def error_texts(body: str) -> list[str]:
    """Every error a page shows: beside fields, at the top of a form, and flashed."""
    found = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', body, re.S)
    found += re.findall(r'<li class="message message-error">(.*?)</li>', body, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", " ", text)).strip() for text in found]


# (page, what is posted): each refused, with the loader's reasons beside its fields.
EDITS = [
    (
        "track/",
        {
            "title": "",
            "level": "expert",
            "source_author": "A. Writer",
            "source_published": "29.1.2018",
            "source_url": "example.com",
            "tags": "x" * 51,
        },
    ),
    ("track/", {"title": "Pets course", "level": "beginner", "requires": ["other"]}),
    ("modules/one/", {"title": "", "weeks": "a week", "choose": "pik: 2"}),
    ("modules/one/", {"title": "Lesson one", "weeks": "1", "days": "2"}),
    ("modules/one/", {"title": "Lesson one", "days": "-1", "choose": "pick: lots"}),
    ("modules/one/", {"title": "Lesson one", "requires": ["two"]}),
    (
        "resources/video/",
        {
            "title": "",
            "kind": "podcast",
            "url": "javascript:alert(1)",
            "minutes": "-1",
            "points": "lots",
            "choice": "Deep Dive",
        },
    ),
    ("resources/video/", {"title": "Video", "kind": "video", "choice": "", "optional": "on"}),
    ("resources/paper/", {"title": "Paper", "kind": "video", "choice": "solo"}),
    ("resources/paper/", {"title": "Paper", "kind": "video", "filled_in": "on"}),
    ("resources/paper/", {"title": "Paper", "kind": "track"}),
    ("resources/paper/", {"title": "Paper", "kind": "track", "track": "pets"}),
    ("resources/paper/", {"title": "Paper", "kind": "track", "track": "gone"}),
    (
        "resources/paper/",
        {"title": "Paper", "kind": "track", "track": "other", "url": "https://x.org"},
    ),
    ("resources/paper/", {"title": "x" * 301, "kind": "video", "url": "https://"}),
    (
        "capstones/final/",
        {"title": "Final", "brief": " ", "points": "10001", "review": "mentor", "minutes": "1.5"},
    ),
    ("add/resources/", {"module": "one", "slug": "final", "title": "Twin", "kind": "video"}),
    ("add/resources/", {"module": "one", "slug": "Bad_Slug", "title": "Bad", "kind": "video"}),
    ("add/modules/", {"slug": "one", "title": "Again"}),
    ("add/capstones/", {"module": "two", "slug": "", "title": "深層学習", "brief": ""}),
]


@pytest.fixture
def choices(world):
    """Lesson one's video and notebook are a choice group that asks for both, lesson two
    requires lesson one, and the track `other` requires pets (so requiring lesson two, or
    `other`, would make a circle)."""
    load_text(
        TRACK_YAML.replace(
            "      title: Lesson one\n", "      title: Lesson one\n      choose: {pick: 2}\n"
        )
        .replace("          minutes: 20\n", "          minutes: 20\n          choice: pick\n")
        .replace("      title: Lesson two\n", "      title: Lesson two\n      requires: [one]\n")
        .replace(
            "          url: https://example.com/nb\n",
            "          url: https://example.com/nb\n          choice: pick\n",
        )
    )
    other = TRACK_YAML.replace("slug: pets", "slug: other").replace("Pets", "Other")
    load_text(other.replace("  summary:", "  requires: [pets]\n  summary:"), display="other.yaml")
    assert Track.objects.get(slug="other").requires.filter(slug="pets").exists()


@pytest.mark.parametrize(
    ("page", "data"), EDITS, ids=[f"{p}{i}" for i, (p, _d) in enumerate(EDITS)]
)
def test_no_form_error_on_the_editor_pages_names_a_key_or_a_path(lead, choices, page, data):
    before = sorted(Resource.objects.values_list("slug", "title", "choice", "kind"))
    response = lead.post(f"/tracks/pets/edit/{page}", data)
    assert response.status_code == 400, page
    errors = error_texts(response.content.decode())
    assert errors, page
    for error in errors:
        assert "key" not in error.lower(), error
        assert not BRACKET_PATH.search(error), error
        assert "`" not in error.replace("(`", "").replace("`)", ""), error  # no `title`
    assert sorted(Resource.objects.values_list("slug", "title", "choice", "kind")) == before


def test_a_problem_with_another_item_names_it_and_its_field(lead, choices):
    """Taking the video out of the group leaves the notebook alone in it: that is said of the
    notebook, by place and slug, with the field as its form labels it."""
    response = lead.post(
        "/tracks/pets/edit/resources/video/", {"title": "Lesson video", "kind": "video"}
    )
    assert response.status_code == 400
    errors = error_texts(response.content.decode())
    assert (
        "Module 1 (`one`), resource 2 (`notebook`), Choice group: No other resource of its "
        "module is in the choice group “pick”, and a group needs at least 2 alternatives: put "
        "another resource in it, or clear its choice group."
    ) in errors[0]
    assert (
        "Module 1 (`one`), Choice groups: how many to finish: “pick” asks for 2 resources but "
        "has only 1: ask for at most 1, or put more resources in the group."
    ) in errors[0]


def test_the_editor_says_what_to_enter_beside_each_field(lead, choices):
    response = lead.post(
        "/tracks/pets/edit/capstones/final/",
        {"title": "", "brief": "", "points": "10001", "review": "mentor", "minutes": "lots"},
    )
    body = response.content.decode()

    def beside(name: str) -> list[str]:
        found = re.search(rf'data-testid="error-{name}">(.*?)</ul>', body, re.S)
        return [html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()]

    assert beside("title") == ["Enter a title."]
    assert beside("brief") == ["Enter a brief: what to build, and what it is for."]
    assert beside("points") == ["Enter a number from 0 to 10000; 10001 is out of range."]
    assert beside("review") == ["Choose a review mode from the list."]
    assert beside("minutes") == ["Enter a whole number from 0 to 10000, in digits."]
