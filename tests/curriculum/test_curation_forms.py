"""Curation forms as browsers post them: textareas' CRLF line breaks, two people editing one
item, a module's weeks and days, item forms' own ids, the stand-alone edit page, and loader
messages worded for a browser."""

from __future__ import annotations

import re

import pytest

from curriculum.curation import services
from curriculum.models import Module, Resource, Track
from tracker.models import ProgressStatus

from .curation_world import HX, TRACK_YAML

pytestmark = pytest.mark.django_db


def form_fields(html: str) -> dict[str, str]:
    """The values a browser would post back from a rendered form (inputs and textareas, with a
    textarea's line breaks as browsers send them: CRLF)."""
    values = dict(re.findall(r'<input type="(?:text|hidden)" name="(\w+)" value="([^"]*)"', html))
    for name, text in re.findall(r'<textarea name="(\w+)"[^>]*>\n?(.*?)</textarea>', html, re.S):
        values[name] = text.replace("\n", "\r\n")
    for name in re.findall(r'<select name="(\w+)"', html):
        chosen = re.search(
            rf'<select name="{name}".*?<option value="([^"]*)"[^>]*selected', html, re.S
        )
        values[name] = chosen.group(1) if chosen else ""
    return values


def history_count() -> int:
    return Resource.history.count() + Track.history.count() + Module.history.count()


# --- line breaks -----------------------------------------------------------------------------


def test_saving_a_form_unchanged_changes_nothing_though_browsers_send_crlf(lead, world):
    lead.post(  # notes over several lines, saved as a browser would send them
        "/tracks/pets/edit/resources/video/",
        {"title": "Lesson video", "kind": "video", "notes": "Watch it.\r\n\r\nThen *rest*.\r\n"},
    )
    assert (
        Resource.objects.get(track__slug="pets", slug="video").notes
        == "Watch it.\n\nThen *rest*.\n"
    )
    services.curation_track_edit(
        user=world.lead, track=world.track, values={"summary": "Line one.\nLine two.\n"}
    )
    before, version = history_count(), Track.objects.get(pk=world.track.pk).structure_version
    for url in ("/tracks/pets/edit/track/", "/tracks/pets/edit/resources/video/"):
        values = form_fields(lead.get(url).content.decode())
        assert "\r\n" in (values.get("summary", "") + values.get("notes", ""))
        assert lead.post(url, values).status_code == 302
    assert history_count() == before  # nothing recorded as changed
    assert Track.objects.get(pk=world.track.pk).structure_version == version


def test_an_unchanged_save_does_not_tell_finished_learners_the_resource_changed(lead, world):
    from tracker import services as tracker_services

    video = Resource.objects.get(track__slug="pets", slug="video")
    tracker_services.progress_set_status(
        learner=world.learner, resource=video, status=ProgressStatus.DONE
    )
    url = "/tracks/pets/edit/resources/video/"
    lead.post(url, {"title": "Lesson video", "kind": "video", "notes": "One.\r\nTwo."})
    changed_at = Resource.objects.get(pk=video.pk).content_changed_at
    values = form_fields(lead.get(url).content.decode()) | {"minutes": "25"}
    assert lead.post(url, values).status_code == 302
    saved = Resource.objects.get(pk=video.pk)
    assert saved.minutes == 25 and saved.notes == "One.\nTwo."
    assert saved.content_changed_at == changed_at  # minutes are no news to a finisher


# --- two people, one item ----------------------------------------------------------------------


def test_a_save_from_a_form_opened_before_someone_elses_save_is_refused(client, lead, world):
    url = "/tracks/pets/edit/resources/video/"
    lead_form = form_fields(lead.get(url, **HX).content.decode())
    client.force_login(world.staff)
    staff_form = form_fields(client.get(url).content.decode())
    client.post(url, staff_form | {"title": "Lesson video, recut"})
    assert Resource.objects.get(track__slug="pets", slug="video").title == "Lesson video, recut"

    response = lead.post(url, lead_form | {"minutes": "50"}, **HX)
    body = response.content.decode()
    assert "Someone else saved changes to resource “Lesson video, recut”" in body
    assert 'data-testid="error-title"' in body  # the field that would go back is marked
    assert "(saved now: “Lesson video, recut”)" in body  # with what the other one saved
    assert 'value="50"' in body  # what the lead typed is kept
    assert 'data-testid="error-minutes"' not in body  # the lead's own change is not theirs
    saved = Resource.objects.get(track__slug="pets", slug="video")
    assert saved.title == "Lesson video, recut" and saved.minutes == 20

    again = form_fields(body)  # the form now carries the saved version's fingerprint
    assert lead.post(url, again | {"title": "Lesson video"}, **HX).status_code == 200
    saved = Resource.objects.get(track__slug="pets", slug="video")
    assert saved.title == "Lesson video" and saved.minutes == 50


def test_a_save_that_would_not_overwrite_anything_newer_goes_through(client, lead, world):
    url = "/tracks/pets/edit/resources/video/"
    lead_form = form_fields(lead.get(url).content.decode())
    services.curation_item_edit(  # someone sets minutes to what the lead is about to type
        user=world.staff,
        track=world.track,
        kind="resources",
        slug="video",
        values={"title": "Lesson video", "kind": "video", "minutes": "50"},
    )
    assert lead.post(url, lead_form | {"minutes": "50"}).status_code == 302


@pytest.mark.parametrize("headers", [HX, {}], ids=["htmx", "plain"])
def test_a_conflict_marks_only_the_fields_the_other_person_changed(client, lead, world, headers):
    """Every field that differed from the saved version was marked "Differs from the version
    saved since you opened the form", the lead's own changes too: the lead could not tell
    which were the other person's."""
    url = "/tracks/pets/edit/resources/video/"
    lead_form = form_fields(lead.get(url, **headers).content.decode())
    services.curation_item_edit(
        user=world.staff,
        track=world.track,
        kind="resources",
        slug="video",
        values={"title": "Lesson video", "kind": "video", "minutes": "20", "notes": "By staff."},
    )
    typed = {"title": "Lesson video, recut", "minutes": "45", "url": "https://example.com/v2"}
    response = lead.post(url, lead_form | typed, **headers)
    body = response.content.decode()
    assert "Someone else saved changes to resource “Lesson video”" in body
    marked = set(re.findall(r'data-testid="error-(\w+)"', body))
    assert marked == {"notes"}, marked  # theirs; title, minutes and url are the lead's
    assert "(saved now: “By staff.”)" in body
    for value in typed.values():
        assert f'value="{value}"' in body  # the lead's typing is kept
    assert Resource.objects.get(track__slug="pets", slug="video").notes == "By staff."


def test_a_save_that_changes_only_what_the_other_person_did_not_goes_through(lead, world):
    """The lead typed the other person's new title as well, and changed the minutes: saving
    puts back nothing of theirs, yet it was refused with the minutes marked."""
    url = "/tracks/pets/edit/resources/video/"
    lead_form = form_fields(lead.get(url).content.decode())
    services.curation_item_edit(
        user=world.staff,
        track=world.track,
        kind="resources",
        slug="video",
        values={"title": "Lesson video, recut", "kind": "video", "minutes": "20"},
    )
    response = lead.post(url, lead_form | {"title": "Lesson video, recut", "minutes": "45"})
    assert response.status_code == 302
    saved = Resource.objects.get(track__slug="pets", slug="video")
    assert (saved.title, saved.minutes) == ("Lesson video, recut", 45)


def test_a_conflict_on_the_tracks_source_marks_the_source_field_they_changed(lead, world):
    """The source is one key of the file but four fields of the form: a conflict on it marked
    none of them."""
    url = "/tracks/pets/edit/track/"
    values = form_fields(lead.get(url).content.decode())
    services.curation_track_edit(
        user=world.staff,
        track=world.track,
        values={
            "title": "Pets course",
            "summary": "Learn to classify *pets*.",
            "source": {"title": "Dabbling", "published": "2018-01-29"},
        },
    )
    response = lead.post(url, values | {"summary": "Dogs too."})
    body = response.content.decode()
    assert response.status_code == 400
    marked = set(re.findall(r'data-testid="error-(\w+)"', body))
    assert marked == {"source_title", "source_published"}, marked
    assert "(saved now: “2018-01-29”)" in body
    assert "Dogs too." in body
    assert Track.objects.get(slug="pets").source == {"title": "Dabbling", "published": "2018-01-29"}


def test_the_track_details_form_refuses_a_save_over_a_newer_version(lead, world):
    url = "/tracks/pets/edit/track/"
    values = form_fields(lead.get(url).content.decode())
    services.curation_track_edit(user=world.staff, track=world.track, values={"title": "Cats"})
    response = lead.post(url, values | {"summary": "Dogs too."})
    assert response.status_code == 400
    assert "Someone else saved changes to the track&#x27;s details" in response.content.decode()
    assert Track.objects.get(slug="pets").title == "Cats"


# --- weeks and days, requires, ids, the stand-alone page --------------------------------------


def test_weeks_and_days_together_are_refused_next_to_both_fields(lead):
    response = lead.post("/tracks/pets/edit/modules/one/", {"title": "Lesson one", "days": "2"})
    before = Module.objects.get(track__slug="pets", slug="one")
    assert response.status_code == 302 and before.days == 2
    response = lead.post(
        "/tracks/pets/edit/modules/one/", {"title": "Lesson one", "days": "2", "weeks": "3"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="error-weeks"' in body and 'data-testid="error-days"' in body
    assert "Give either weeks or days, not both" in body
    module = Module.objects.get(pk=before.pk)
    assert (module.days, module.weeks) == (2, before.weeks)


def test_a_module_is_not_offered_as_its_own_requirement(lead):
    body = lead.get("/tracks/pets/edit/modules/two/").content.decode()
    assert 'value="one"' in body and 'value="two"' not in body


def test_each_item_form_has_its_own_field_ids(lead):
    resource = lead.get("/tracks/pets/edit/resources/video/", **HX).content.decode()
    module = lead.get("/tracks/pets/edit/modules/one/", **HX).content.decode()
    resource_ids = set(re.findall(r' id="(id_[^"]+)"', resource))
    module_ids = set(re.findall(r' id="(id_[^"]+)"', module))
    assert "id_resource-video-title" in resource_ids and "id_module-one-title" in module_ids
    assert not resource_ids & module_ids
    assert 'for="id_resource-video-title"' in resource


def test_the_stand_alone_edit_page_is_a_plain_form_that_returns_to_the_outline(lead):
    body = lead.get("/tracks/pets/edit/capstones/final/").content.decode()
    assert "<html" in body and "hx-post" not in body and "hx-get" not in body
    values = form_fields(body) | {"title": "Final project, v2"}
    response = lead.post("/tracks/pets/edit/capstones/final/", values)
    assert response.status_code == 302
    assert response["Location"] == "/tracks/pets/edit/#capstone-final"
    inline = lead.get("/tracks/pets/edit/capstones/final/", **HX).content.decode()
    assert "hx-post" in inline and "curation-editing" in inline


# --- loader messages in a browser's words --------------------------------------------------------


def test_adding_an_item_with_a_slug_in_use_says_so_next_to_the_slug(lead):
    response = lead.post(
        "/tracks/pets/edit/add/resources/?module=one",
        {"slug": "final", "module": "one", "title": "Twin", "kind": "video"},
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="error-slug"' in body and "already used in this track" in body
    assert "track.modules[" not in body and "at line" not in body


def test_archiving_the_last_module_says_why_in_plain_words(lead):
    lead.post("/tracks/pets/edit/modules/two/archive")
    response = lead.post("/tracks/pets/edit/modules/one/archive", follow=True)
    body = response.content.decode()
    assert (
        "Nothing was changed: A track needs at least one module: add another module before "
        "archiving this one." in body
    )
    assert "track.modules:" not in body


def test_an_upload_that_would_change_nothing_offers_no_apply(lead):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = lead.post(
        "/tracks/pets/edit/upload/",
        {"file": SimpleUploadedFile("pets.yaml", TRACK_YAML.encode(), "application/yaml")},
        follow=True,
    )
    body = response.content.decode()
    assert "Applying this file would change nothing" in body
    assert "Apply these changes" not in body and "Cancel the upload" in body
