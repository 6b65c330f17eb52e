"""Curation services: edits, additions, archives, restores and reorders go through the loader
(its schema, messages, history and structure versions), are atomic and permission-checked."""

from __future__ import annotations

import pytest

from curriculum.curation import services
from curriculum.curation.data import EditInvalid
from curriculum.models import Capstone, Module, Resource, Track
from tracker.models import PointsEntry, Progress
from tracker.services import NotAllowed, ServiceError

pytestmark = pytest.mark.django_db


def resource(slug):
    return Resource.objects.get(track__slug="pets", slug=slug)


def test_a_lead_edits_a_resource_title_and_history_says_who_and_how(world):
    version = world.track.structure_version
    services.curation_item_edit(
        user=world.lead,
        track=world.track,
        kind="resources",
        slug="video",
        values={"title": "Lesson video, new cut", "minutes": "25", "kind": "video"},
    )
    edited = resource("video")
    assert edited.title == "Lesson video, new cut" and edited.minutes == 25 and edited.points == 25
    assert edited.content_changed_at is not None  # learners who finished it are told
    track = Track.objects.get(pk=world.track.pk)
    assert track.structure_version > version
    assert track.browser_ahead_of_file
    record = Resource.history.filter(id=edited.pk).latest("history_id")
    assert record.history_user == world.lead
    assert record.history_change_reason == "browser edit"
    assert record.title == "Lesson video, new cut"


def test_validation_is_the_loaders_with_its_messages_next_to_the_field(world):
    with pytest.raises(EditInvalid) as caught:
        services.curation_item_edit(
            user=world.lead,
            track=world.track,
            kind="resources",
            slug="video",
            values={"title": "x" * 301, "minutes": "lots", "url": "ftp://x", "kind": "video"},
        )
    fields = caught.value.fields
    assert fields["title"] == ["Shorten this to at most 300 characters (it has 301)."]
    assert fields["minutes"] == ["Enter a whole number from 0 to 10000, in digits."]
    assert fields["url"] == [
        "Enter a link that starts with http:// or https://; “ftp://x” does not."
    ]
    assert resource("video").title == "Lesson video"  # nothing written


def test_empty_required_fields_and_unknown_kinds_are_refused(world):
    with pytest.raises(EditInvalid) as caught:
        services.curation_item_edit(
            user=world.lead,
            track=world.track,
            kind="resources",
            slug="video",
            values={"title": "   ", "kind": "podcast"},
        )
    assert caught.value.fields["title"] == ["Enter a title."]
    assert caught.value.fields["kind"] == ["Choose a kind from the list."]


def test_a_learner_and_a_lead_of_another_track_may_not_edit(world):
    for person in (world.learner, world.other_lead):
        with pytest.raises(NotAllowed):
            services.curation_item_edit(
                user=person,
                track=world.track,
                kind="resources",
                slug="video",
                values={"title": "Mine now", "kind": "video"},
            )
    assert resource("video").title == "Lesson video"


def test_staff_may_edit_every_track(world):
    services.curation_track_edit(
        user=world.staff, track=world.track, values={"title": "Pets, revised", "level": "advanced"}
    )
    track = Track.objects.get(pk=world.track.pk)
    assert track.title == "Pets, revised" and track.level == "advanced"


def test_add_archive_and_restore_keep_learners_progress_and_points(world):
    services.curation_item_add(
        user=world.lead,
        track=world.track,
        kind="resources",
        module="two",
        values={"slug": "extra", "title": "Extra reading", "kind": "article", "url": ""},
    )
    assert resource("extra").module.slug == "two" and resource("extra").points == 10
    notebook = resource("notebook")
    points = PointsEntry.objects.filter(resource=notebook).count()
    services.curation_item_archive(
        user=world.lead, track=world.track, kind="resources", slug="notebook"
    )
    assert resource("notebook").archived_at is not None
    assert Progress.objects.filter(resource=notebook).exists()
    services.curation_item_restore(
        user=world.lead, track=world.track, kind="resources", slug="notebook"
    )
    restored = resource("notebook")
    assert restored.archived_at is None and restored.pk == notebook.pk and restored.position == 1
    assert PointsEntry.objects.filter(resource=notebook).count() == points


def test_archiving_a_module_takes_its_items_and_restoring_brings_them_back(world):
    services.curation_item_archive(user=world.lead, track=world.track, kind="modules", slug="one")
    assert Module.objects.get(track__slug="pets", slug="one").archived_at is not None
    assert resource("video").archived_at is not None
    assert Capstone.objects.get(track__slug="pets", slug="final").archived_at is not None
    services.curation_item_restore(user=world.lead, track=world.track, kind="modules", slug="one")
    assert Module.objects.active().get(track__slug="pets", slug="one").position == 0
    assert resource("video").archived_at is None
    assert Capstone.objects.get(track__slug="pets", slug="final").archived_at is None


def test_the_last_module_cannot_be_archived(world):
    services.curation_item_archive(user=world.lead, track=world.track, kind="modules", slug="two")
    with pytest.raises(EditInvalid) as caught:
        services.curation_item_archive(
            user=world.lead, track=world.track, kind="modules", slug="one"
        )
    assert str(caught.value) == (
        "A track needs at least one module: add another module before archiving this one."
    )
    assert Module.objects.active().filter(track__slug="pets").count() == 1


def test_moving_modules_and_resources(world):
    services.curation_item_move(
        user=world.lead, track=world.track, kind="modules", slug="one", direction="down"
    )
    order = list(Module.objects.active().filter(track__slug="pets").order_by("position"))
    assert [m.slug for m in order] == ["two", "one"]
    services.curation_item_move(
        user=world.lead, track=world.track, kind="resources", slug="notebook", direction="up"
    )
    assert resource("notebook").position == 0 and resource("video").position == 1
    with pytest.raises(ServiceError, match="already first"):
        services.curation_item_move(
            user=world.lead, track=world.track, kind="resources", slug="notebook", direction="up"
        )


def test_moving_to_a_place_as_a_drag_and_drop_asks(world):
    message = services.curation_item_move(
        user=world.lead, track=world.track, kind="modules", slug="two", place=1
    )
    assert message == "Moved “Lesson two” to place 1."
    order = list(Module.objects.active().filter(track__slug="pets").order_by("position"))
    assert [m.slug for m in order] == ["two", "one"]
    services.curation_item_move(
        user=world.lead, track=world.track, kind="resources", slug="video", place=2
    )
    assert resource("notebook").position == 0 and resource("video").position == 1
    for place, says in ((2, "already in place 2"), (3, "no place 3"), (0, "no place 0")):
        with pytest.raises(ServiceError, match=says):
            services.curation_item_move(
                user=world.lead, track=world.track, kind="resources", slug="video", place=place
            )
    assert resource("video").position == 1


def test_moving_a_resource_to_another_module_keeps_its_row(world):
    video = resource("video")
    services.curation_item_edit(
        user=world.lead,
        track=world.track,
        kind="resources",
        slug="video",
        values={"title": "Lesson video", "kind": "video"},
        module="two",
    )
    moved = resource("video")
    assert moved.pk == video.pk and moved.module.slug == "two"


def test_a_duplicate_slug_is_refused_by_the_loader(world):
    with pytest.raises(EditInvalid) as caught:
        services.curation_item_add(
            user=world.lead,
            track=world.track,
            kind="capstones",
            module="two",
            values={"slug": "video", "title": "Clash", "brief": "x"},
        )
    assert (
        caught.value.fields["slug"][0]
        == "The slug “video” is already used in this track: choose another."
    )


def test_an_edit_that_changes_nothing_writes_nothing(world):
    before = Resource.history.count()
    services.curation_item_edit(
        user=world.lead,
        track=world.track,
        kind="resources",
        slug="video",
        values={
            "title": "Lesson video",
            "kind": "video",
            "url": "https://example.com/video",
            "minutes": "20",
        },
    )
    assert Resource.history.count() == before
    assert not Track.objects.get(pk=world.track.pk).browser_ahead_of_file


def test_loading_the_seeds_records_history_in_bulk_and_a_reload_writes_nothing(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from curriculum.loader import load_paths

    with CaptureQueriesContext(connection) as first:
        report = load_paths(["seeds/"])
    items = sum(
        model.history.filter(history_change_reason="load_curriculum").count()
        for model in (Track, Module, Resource, Capstone)
    )
    assert items == report.created  # one record per row created, by the command
    history_inserts = [q for q in first if 'INSERT INTO "curriculum_historical' in q["sql"]]
    assert len(history_inserts) <= 8  # bulk: one statement per model (and batch)
    with CaptureQueriesContext(connection) as again:
        load_paths(["seeds/"])
    writes = [
        q["sql"] for q in again if q["sql"].split(" ", 1)[0] in ("INSERT", "UPDATE", "DELETE")
    ]
    assert writes == []
