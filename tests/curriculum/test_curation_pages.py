"""Curation pages over HTTP: the outline, in-place edits (HTMX and plain forms), uploads with
their preview, apply and cancel, the download, the history; query counts that stay the same
when the data grows tenfold; bad input answered next to the field with nothing changed."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from curriculum.curation import services
from curriculum.models import Resource, Track, TrackUpload, UploadStatus
from tests.factories import UserFactory, enrol
from tracker import services as tracker_services

from .curation_world import HX, TRACK_YAML, load_text

pytestmark = pytest.mark.django_db


def title_of(slug):
    return Resource.objects.get(track__slug="pets", slug=slug).title


def test_the_outline_lists_modules_items_and_controls(lead):
    body = lead.get("/tracks/pets/edit/").content.decode()
    for text in ("Lesson one", "Lesson video", "Final project", "Move down", "Archive"):
        assert text in body
    assert "Download as YAML" in body and "Upload a YAML file" in body


def test_editing_in_place_over_htmx_swaps_the_row(lead):
    url = "/tracks/pets/edit/resources/video/"
    form = lead.get(url, **HX)
    assert form.status_code == 200 and 'name="title"' in form.content.decode()
    assert "<html" not in form.content.decode()  # a fragment
    saved = lead.post(url, {"title": "Lesson video (2024)", "kind": "video"}, **HX)
    body = saved.content.decode()
    assert saved.status_code == 200 and "Lesson video (2024)" in body
    assert 'id="sync-status"' in body and "hx-swap-oob" in body  # the banner follows
    assert title_of("video") == "Lesson video (2024)"


def test_an_htmx_edit_with_errors_shows_them_next_to_the_field(lead):
    response = lead.post(
        "/tracks/pets/edit/resources/video/", {"title": "", "kind": "video", "minutes": "-3"}, **HX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="error-title"' in body and "Enter a title." in body
    assert "Enter a number from 0 to 10000; -3 is out of range." in body
    assert title_of("video") == "Lesson video"


def test_editing_without_javascript_posts_and_redirects_to_the_item(lead):
    response = lead.post("/tracks/pets/edit/resources/video/", {"title": "Plain", "kind": "video"})
    assert response.status_code == 302
    assert response["Location"] == "/tracks/pets/edit/#resource-video"
    assert title_of("video") == "Plain"
    page = lead.get("/tracks/pets/")
    assert "Plain" in page.content.decode()  # the learner's page shows it at once


def test_a_full_page_form_with_errors_answers_400(lead):
    response = lead.post("/tracks/pets/edit/track/", {"title": "", "level": "expert"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Enter a title." in body and "Choose a level from the list." in body


def test_reorder_by_buttons(lead):
    response = lead.post(
        "/tracks/pets/edit/modules/one/move",
        {"direction": "down", "focus": "down-modules-one"},
        **HX,
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'id="outline-body"' in body
    assert body.index('id="module-two"') < body.index('id="module-one"')
    assert 'id="down-modules-one"' in body and "data-autofocus" in body


def test_a_dropped_place_that_is_no_place_moves_nothing(lead):
    for bad in ("x", "-1", "0", "99", "１"):
        response = lead.post("/tracks/pets/edit/modules/two/move", {"place": bad}, **HX)
        body = response.content.decode()
        assert body.index('id="module-one"') < body.index('id="module-two"'), bad
        assert "Move up or down." in body or "There is no place" in body, bad
    response = lead.post("/tracks/pets/edit/modules/two/move", {"place": "1"}, **HX)
    assert "Moved “Lesson two” to place 1." in response.content.decode()


def test_archive_and_restore_from_the_outline(lead):
    lead.post("/tracks/pets/edit/resources/notebook/archive")
    archived = lead.get("/tracks/pets/edit/").content.decode()
    assert 'data-testid="archived-resource"' in archived
    assert "Lesson notebook" not in lead.get("/tracks/pets/").content.decode()
    lead.post("/tracks/pets/edit/resources/notebook/restore")
    assert "Lesson notebook" in lead.get("/tracks/pets/").content.decode()


def test_an_archived_modules_items_come_back_with_it_and_offer_no_restore_of_their_own(lead):
    """Each resource and capstone of an archived module was its own row with a Restore button,
    and pressing one was refused ("restore the module first"): a dead end."""
    lead.post("/tracks/pets/edit/resources/notebook/archive")  # on its own, first
    lead.post("/tracks/pets/edit/modules/one/archive")  # then its module, with the rest
    response = lead.get("/tracks/pets/edit/")
    archived = response.content.decode().split('data-testid="archived"')[1]
    restores = re.findall(r'id="restore-(\w+)-([\w-]+)"', archived)
    assert restores == [("modules", "one")]  # the only Restore that can work
    module = archived.split('id="archived-module-one"')[1]
    with_it = module.split("Comes back with the module")[1].split("Archived on its own")[0]
    assert 'id="archived-resource-video"' in with_it
    assert 'id="archived-capstone-final"' in with_it
    assert (
        "Archived on its own before the module, so it stays archived when it comes back; "
        "restore it after the module" in module
    )
    assert 'id="archived-resource-notebook"' in module.split("Archived on its own")[1]
    assert 'data-testid="archived-resource"' not in archived

    lead.post("/tracks/pets/edit/modules/one/restore")
    archived = lead.get("/tracks/pets/edit/").content.decode().split('data-testid="archived"')[1]
    assert re.findall(r'id="restore-(\w+)-([\w-]+)"', archived) == [("resources", "notebook")]
    lead.post("/tracks/pets/edit/resources/notebook/restore")
    assert "Nothing is archived." in lead.get("/tracks/pets/edit/").content.decode()
    assert Resource.objects.filter(track__slug="pets", archived_at__isnull=False).count() == 0


def notice_in(body: str, element_id: str) -> str:
    """The notices shown inside the element with this id (up to the next item's)."""
    part = body.split(f'id="{element_id}"', 1)[1]
    part = re.split(r'<li id="|<section class="card curation-module"', part, maxsplit=1)[0]
    return " ".join(re.findall(r'data-testid="notice">([^<]*)<', part))


@pytest.mark.parametrize("headers", [HX, {}], ids=["htmx", "plain"])
def test_what_was_done_is_shown_next_to_the_item_not_at_the_top(lead, headers):
    """After a move, an archive or a restore the message was at the top of the outline, often
    off screen from the item the lead had just acted on."""

    def act(url, anchor, data=None):
        response = lead.post(url, data or {}, **headers)
        if headers:
            return response.content.decode()
        # Without JavaScript the page opens at the item, where it is now.
        assert response["Location"] == f"/tracks/pets/edit/#{anchor}"
        return lead.get(response["Location"]).content.decode()

    body = act("/tracks/pets/edit/modules/one/move", "module-one", {"direction": "down"})
    assert notice_in(body, "module-head-one") == "Moved “Lesson one” down."
    assert 'class="messages"' not in body  # nothing at the top

    body = act("/tracks/pets/edit/resources/paper/archive", "archived-resource-paper")
    assert notice_in(body, "archived-resource-paper") == "Archived resource “A paper”."
    assert 'class="messages"' not in body

    body = act("/tracks/pets/edit/resources/paper/restore", "resource-paper")
    assert notice_in(body, "resource-paper") == "Restored resource “A paper”."

    body = act("/tracks/pets/edit/modules/one/move", "module-one", {"direction": "down"})
    assert notice_in(body, "module-head-one") == "“Lesson one” is already last; nothing was moved."
    assert "curation-notice-error" in body
    assert body.count('data-testid="notice"') == 1


def test_an_item_given_another_module_shows_its_message_in_its_new_place(lead):
    response = lead.post(
        "/tracks/pets/edit/resources/notebook/",
        {
            "module": "two",
            "title": "Lesson notebook",
            "kind": "notebook",
            "url": "https://example.com/nb",
        },
        **HX,
    )
    body = response.content.decode()
    assert notice_in(body, "resource-notebook") == "Saved resource “Lesson notebook”."
    assert body.index('id="module-two"') < body.index('id="resource-notebook"')
    # Without JavaScript, the saved item's row says it too (the page opens at it).
    response = lead.post(
        "/tracks/pets/edit/resources/notebook/",
        {
            "module": "one",
            "title": "Lesson notebook",
            "kind": "notebook",
            "url": "https://example.com/nb",
        },
    )
    body = lead.get(response["Location"]).content.decode()
    assert notice_in(body, "resource-notebook") == "Saved resource “Lesson notebook”."
    assert 'role="status" class="flash"' not in body


def test_an_item_added_without_a_slug_takes_one_from_its_title(lead, world):
    """Left empty, the slug was refused as "'' is not a slug"."""
    add = "/tracks/pets/edit/add/resources/"
    data = {"module": "one", "title": "Lesson video", "kind": "video"}  # "video" is taken
    assert lead.post(add, data).status_code == 302
    assert lead.post(add, data).status_code == 302
    services.curation_item_archive(
        user=world.lead, track=world.track, kind="resources", slug="lesson-video"
    )
    assert lead.post(add, data).status_code == 302  # an archived item's slug is not reused
    slugs = set(Resource.objects.filter(track=world.track).values_list("slug", flat=True))
    assert {"lesson-video", "lesson-video-2", "lesson-video-3"} <= slugs
    response = lead.post(add, {**data, "title": "深層学習"})  # nothing a slug can hold
    assert response.status_code == 400
    assert "Enter a slug: lowercase letters a-z, digits and hyphens." in (response.content.decode())


@pytest.mark.parametrize(
    ("kind", "data", "anchor"),
    [
        ("resources", {"module": "one", "title": "Extra reading", "kind": "article"}, "resource"),
        ("capstones", {"module": "two", "title": "Extra project", "brief": "Do it."}, "capstone"),
        ("modules", {"title": "Extra lesson"}, "module"),
    ],
)
def test_an_item_added_without_a_slug_opens_the_outline_at_it(lead, kind, data, anchor):
    """The redirect named the empty slug typed ("#resource-"), so the outline opened at its top
    and the lead had to look for what they had just added."""
    response = lead.post(f"/tracks/pets/edit/add/{kind}/", data)
    assert response.status_code == 302
    slug = data["title"].lower().replace(" ", "-")
    assert response["Location"] == f"/tracks/pets/edit/#{anchor}-{slug}"
    assert f'id="{anchor}-{slug}"' in lead.get(response["Location"]).content.decode()


def test_adding_a_module_and_a_capstone(lead):
    response = lead.post(
        "/tracks/pets/edit/add/modules/", {"slug": "three", "title": "Lesson three", "weeks": "2"}
    )
    assert response.status_code == 302
    response = lead.post(
        "/tracks/pets/edit/add/capstones/",
        {
            "slug": "extra",
            "module": "three",
            "title": "Extra",
            "brief": "Do *more*.",
            "review": "peer",
        },
    )
    assert response.status_code == 302
    capstone = Track.objects.get(slug="pets").capstones.get(slug="extra")
    assert capstone.review == "peer" and capstone.brief_html == "<p>Do <em>more</em>.</p>"
    assert not capstone.team
    form = lead.get("/tracks/pets/edit/capstones/extra/").content.decode()
    assert "Team capstone (one passed submission counts for every teammate" in form
    edit = {"module": "three", "title": "Extra", "brief": "Do *more*.", "review": "peer"}
    lead.post("/tracks/pets/edit/capstones/extra/", {**edit, "team": "on"})
    assert Track.objects.get(slug="pets").capstones.get(slug="extra").team
    lead.post("/tracks/pets/edit/capstones/extra/", edit)  # unticked: an individual one again
    assert not Track.objects.get(slug="pets").capstones.get(slug="extra").team


def test_markdown_is_rendered_and_sanitized_like_the_loaders(lead):
    lead.post(
        "/tracks/pets/edit/resources/video/",
        {"title": "Lesson video", "kind": "video", "notes": "**ok** <script>x</script>"},
    )
    resource = Resource.objects.get(track__slug="pets", slug="video")
    assert "<strong>ok</strong>" in resource.notes_html and "<script" not in resource.notes_html


BAD = {
    "empty": "",
    "over-long": "x" * 301,
    "control": "bell\x07",
    "bidi": "abc\u202edef",
    "megabyte": "x" * 1_000_000,
}


@pytest.mark.parametrize(
    ("name", "field"),
    [
        (name, field)
        for name in BAD
        for field in ("title", "url", "minutes", "notes")
        if name != "empty" or field == "title"  # the others are optional: empty is fine
    ],
)
def test_bad_input_gets_a_message_next_to_the_field_and_changes_nothing(lead, name, field):
    value = BAD[name]
    if name == "over-long" and field == "notes":
        value = "x" * 20_001
    before = list(Resource.history.values_list("history_id", flat=True))
    data = {"title": "Lesson video", "kind": "video", field: value}
    response = lead.post("/tracks/pets/edit/resources/video/", data)
    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert list(Resource.history.values_list("history_id", flat=True)) == before
    assert title_of("video") == "Lesson video"


# --- uploads -------------------------------------------------------------------------------------


def upload(client, text: str | bytes, name="pets.yaml"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        "/tracks/pets/edit/upload/", {"file": SimpleUploadedFile(name, data, "application/yaml")}
    )


ARCHIVES_NOTEBOOK = TRACK_YAML.replace(
    """        - slug: notebook
          title: Lesson notebook
          kind: notebook
          url: https://example.com/nb
""",
    "",
).replace("title: Lesson video", "title: Lesson video, recut")


def test_upload_preview_apply(lead, world):
    response = upload(lead, ARCHIVES_NOTEBOOK)
    assert response.status_code == 302
    preview = lead.get(response["Location"])
    body = preview.content.decode()
    assert "To archive (1)" in body and "1 learner" in body  # the learner finished it
    assert "Lesson video, recut" in body and "Lesson video" in body  # from → to
    assert title_of("notebook") == "Lesson notebook"  # nothing written yet
    version = preview.context["preview"].version
    applied = lead.post(response["Location"], {"action": "apply", "version": version})
    assert applied.status_code == 302
    assert Resource.objects.get(track__slug="pets", slug="notebook").archived_at is not None
    record = Resource.history.filter(title="Lesson video, recut").get()
    assert record.history_change_reason == "YAML upload" and record.history_user == world.lead
    track = Track.objects.get(slug="pets")
    assert not track.browser_ahead_of_file and track.file_loaded_at is not None


def test_the_preview_says_in_which_module_each_new_item_goes(lead):
    """ "To create: resource A reading" did not say where; a lead checks that too."""
    text = TRACK_YAML.replace(
        """          url: https://example.com/paper
""",
        """          url: https://example.com/paper
        - slug: reading
          title: A reading
          kind: article
    - slug: three
      title: Lesson three
      capstones:
        - slug: wrap-up
          title: Wrap-up
          brief: Sum it up.
""",
    )
    response = upload(lead, text)
    created = lead.get(response["Location"]).context["preview"].created
    assert [(item.title, item.where) for item in created] == [
        ("Lesson three", ""),
        ("A reading", "Lesson two"),
        ("Wrap-up", "Lesson three"),
    ]
    body = lead.get(response["Location"]).content.decode()
    assert "reading · in Lesson two" in body and "wrap-up · in Lesson three" in body


def test_cancel_writes_nothing(lead):
    response = upload(lead, ARCHIVES_NOTEBOOK)
    lead.post(response["Location"], {"action": "cancel"})
    assert TrackUpload.objects.get().status == UploadStatus.CANCELLED
    assert Resource.objects.get(track__slug="pets", slug="notebook").archived_at is None


def test_apply_refuses_when_the_track_changed_since_the_preview(lead, world):
    response = upload(lead, ARCHIVES_NOTEBOOK)
    version = lead.get(response["Location"]).context["preview"].version
    services.curation_item_edit(
        user=world.staff,
        track=world.track,
        kind="resources",
        slug="paper",
        values={"title": "Another paper", "kind": "paper"},
    )
    refused = lead.post(response["Location"], {"action": "apply", "version": version})
    assert refused.status_code == 409
    assert "changed after this preview" in refused.content.decode()
    assert refused.context["preview"].version != version  # the new preview, ready to apply
    assert Resource.objects.get(track__slug="pets", slug="notebook").archived_at is None
    # A version no preview wrote: the same refusal, never Python's own words.
    for written in ("abc", "²", ""):
        refused = lead.post(response["Location"], {"action": "apply", "version": written})
        assert refused.status_code == 409, written
        assert "invalid literal" not in refused.content.decode()
    assert Resource.objects.get(track__slug="pets", slug="notebook").archived_at is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "the file is not UTF-8"),
        ("track: [unclosed", "the file is not valid YAML here"),
        ("just text", "the file must start with `track:`"),
        (TRACK_YAML.replace("slug: pets", "slug: other"), "this file is for the track `other`"),
        (TRACK_YAML.replace("kind: paper", "kind: podcast"), "not 'podcast'"),
        (b"", "the file is empty"),
        (TRACK_YAML + "      leads: [me@example.com]\n", ""),
    ],
)
def test_bad_uploads_are_refused_with_line_and_column_and_change_nothing(lead, content, expected):
    response = upload(lead, content)
    body = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="loader-errors"' in body or 'data-testid="error-file"' in body
    assert expected.replace("'", "&#x27;") in body
    assert not TrackUpload.objects.exists()


def test_an_upload_line_reads_line_column_message(lead):
    response = upload(lead, TRACK_YAML.replace("kind: paper", "kind: podcast"))
    errors = response.context["errors"]
    assert errors == [
        "27:17: module 2 (`two`), resource 1 (`paper`): `kind` must be one of video, course, "
        "chapter, article, paper, book, notebook, exercise, talk, quiz, other, track, not "
        "'podcast'"
    ]


def test_a_refused_upload_names_the_file_it_refused(lead):
    """The browser empties the file field after the answer: the errors said nothing of which
    file they were about."""
    response = upload(lead, TRACK_YAML.replace("kind: paper", "kind: podcast"), "pets-v2.yaml")
    body = response.content.decode()
    assert "pets-v2.yaml was not accepted; nothing was changed. See below." in body
    assert "What the loader found in pets-v2.yaml" in body


def test_a_lead_cannot_change_leads_by_upload(lead):
    text = TRACK_YAML.replace("  summary:", "  leads: [friend@example.com]\n  summary:")
    response = upload(lead, text)
    assert response.status_code == 400
    assert "only staff can change who leads the track" in response.content.decode()
    # At the list, not the slug:
    assert "4:10: track (`pets`): only staff can change" in response.content.decode()


def test_a_huge_upload_is_refused_before_it_is_read(lead, settings):
    settings.CURRICULUM_MAX_FILE_BYTES = 1000
    response = upload(lead, "# " + "x" * 200_000)
    assert response.status_code == 400
    assert "too large" in response.content.decode()


def test_download_is_the_exporters_yaml_and_loads_back_unchanged(lead):
    response = lead.get("/tracks/pets/edit/download.yaml")
    assert response["Content-Disposition"] == 'attachment; filename="pets.yaml"'
    report = load_text(response.content.decode())
    assert report.created == report.updated == report.archived == 0


def test_the_banner_says_when_the_browser_is_ahead_of_the_file(lead):
    assert "In step with its file" in lead.get("/tracks/pets/edit/").content.decode()
    lead.post("/tracks/pets/edit/resources/video/", {"title": "Edited", "kind": "video"})
    body = lead.get("/tracks/pets/edit/").content.decode()
    assert "The YAML in git is behind" in body and "seeds/pets.yaml" in body
    # Committing the download and loading it brings the two back in step.
    load_text(lead.get("/tracks/pets/edit/download.yaml").content.decode())
    assert "In step with its file" in lead.get("/tracks/pets/edit/").content.decode()


# --- history -----------------------------------------------------------------------------------


def test_history_lists_who_when_how_and_what_newest_first(lead, world):
    lead.post("/tracks/pets/edit/resources/video/", {"title": "Recut", "kind": "video"})
    response = lead.get("/tracks/pets/history/")
    entries = response.context["history"].entries
    assert entries[0].title == "Recut" and entries[0].how == "browser edit"
    assert entries[0].changes[0].name == "title"
    assert (entries[0].changes[0].before, entries[0].changes[0].after) == ("Lesson video", "Recut")
    assert entries[-1].how == "load_curriculum" and entries[-1].kind == "created"


def test_the_history_is_the_tracks_leads_and_staffs(client, world):
    client.force_login(world.learner)
    assert client.get("/tracks/pets/history/").status_code == 403
    client.force_login(world.other_lead)
    assert client.get("/tracks/pets/history/").status_code == 403
    client.force_login(world.staff)
    assert client.get("/tracks/pets/history/").status_code == 200


# --- query counts ------------------------------------------------------------------------------


def grow(track, times: int):
    """Add modules, resources, archived items, history and learners with progress."""
    from curriculum.models import Module

    staff = UserFactory(is_staff=True)
    start = Module.objects.filter(track=track).count()
    for n in range(start, start + times):
        services.curation_item_add(
            user=staff,
            track=track,
            kind="modules",
            values={"slug": f"grown-{n}", "title": f"Grown {n}"},
        )
        for kind, extra in (("resources", {"kind": "video"}), ("capstones", {"brief": "b"})):
            for m in range(2):
                services.curation_item_add(
                    user=staff,
                    track=track,
                    kind=kind,
                    module=f"grown-{n}",
                    values={"slug": f"{kind}-{n}-{m}", "title": f"Item {n} {m}", **extra},
                )
        services.curation_item_archive(
            user=staff, track=track, kind="resources", slug=f"resources-{n}-1"
        )
        learner = UserFactory()
        enrol(learner, track)
        tracker_services.progress_set_status(
            learner=learner,
            resource=Resource.objects.get(track=track, slug=f"resources-{n}-0"),
            status="done",
        )


def count(client, url: str) -> int:
    client.get(url)  # warm up what a process reads once (content types, the site)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        "/tracks/pets/edit/",
        "/tracks/pets/edit/track/",
        "/tracks/pets/edit/resources/video/",
        "/tracks/pets/edit/add/resources/?module=one",
        "/tracks/pets/edit/upload/",
        "/tracks/pets/history/",
        "/tracks/pets/history/?page=2",
    ],
)
def test_lead_pages_run_the_same_queries_with_ten_times_the_data(lead, world, url):
    grow(world.track, 1)
    small = count(lead, url)
    grow(world.track, 10)
    assert count(lead, url) == small


def test_the_preview_runs_the_same_queries_with_ten_times_the_data(lead, world):
    from curriculum.exporter import track_export_data, track_yaml

    def preview_queries(n):
        TrackUpload.objects.all().delete()
        grow(world.track, n)
        data = track_export_data(track=Track.objects.get(slug="pets"))
        data["modules"] = [m for m in data["modules"] if not m["slug"].startswith("grown-")]
        response = upload(lead, track_yaml(data))
        assert response.status_code == 302
        return count(lead, response["Location"])

    small = preview_queries(1)
    assert preview_queries(10) == small
