"""Curriculum rows are archived, never deleted: the admin offers no delete, and the database
layer refuses a delete that would take learners' progress, notes, work or points with it."""

from __future__ import annotations

import pytest
from django.db.models import ProtectedError

from curriculum.models import Module, Resource, Track
from tracker.models import PointsEntry, Progress

from .curation_world import build

pytestmark = pytest.mark.django_db


def test_deleting_a_resource_module_or_track_with_progress_is_refused():
    world = build()
    notebook = Resource.objects.get(track=world.track, slug="notebook")
    for row in (notebook, Module.objects.get(pk=notebook.module_id), world.track):
        with pytest.raises(ProtectedError):
            row.delete()
    assert Progress.objects.filter(resource=notebook).exists()
    assert PointsEntry.objects.filter(resource=notebook).exists()


def test_the_admin_has_no_delete_and_archives_through_the_services(client):
    world = build()
    client.force_login(world.staff)
    notebook = Resource.objects.get(track=world.track, slug="notebook")
    assert client.get(f"/admin/curriculum/resource/{notebook.pk}/delete/").status_code == 403
    page = client.get("/admin/curriculum/resource/").content.decode()
    assert "delete_selected" not in page and "archive_selected" in page
    response = client.post(
        "/admin/curriculum/resource/",
        {"action": "archive_selected", "_selected_action": [notebook.pk]},
        follow=True,
    )
    assert response.status_code == 200
    notebook.refresh_from_db()
    assert notebook.archived_at is not None
    record = Resource.history.filter(id=notebook.pk).latest("history_id")
    assert record.history_user == world.staff and record.archived_at is not None
    client.post(
        "/admin/curriculum/track/",
        {"action": "archive_selected", "_selected_action": [world.track.pk]},
    )
    assert Track.objects.get(pk=world.track.pk).archived_at is not None


def test_the_admin_shows_the_curriculum_read_only_and_sends_edits_to_the_editor(client):
    world = build(progress=False)
    client.force_login(world.staff)
    track = world.track
    module = Module.objects.get(track=track, slug="two")
    for url in (
        f"/admin/curriculum/track/{track.pk}/change/",
        f"/admin/curriculum/module/{module.pk}/change/",
    ):
        page = client.get(url)
        assert page.status_code == 200
        body = page.content.decode()
        assert 'href="/tracks/pets/edit/"' in body and "in the track editor" in body
        assert 'name="_save"' not in body  # nothing to save here
    # A hand-made post changes nothing (a self-requirement here would be a cycle).
    response = client.post(
        f"/admin/curriculum/module/{module.pk}/change/",
        {"slug": "two", "title": "Renamed in the admin", "requires": [module.pk]},
    )
    assert response.status_code == 403
    module.refresh_from_db()
    assert module.title == "Lesson two" and not module.requires.exists()
    assert client.get("/admin/curriculum/resource/add/").status_code == 403
