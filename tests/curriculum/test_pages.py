import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import CapstoneFactory, ModuleFactory, ResourceFactory, TrackFactory

pytestmark = pytest.mark.django_db


def build_tracks(n_tracks: int, modules: int, resources: int) -> None:
    for _ in range(n_tracks):
        track = TrackFactory(tags=["vision"])
        for _ in range(modules):
            module = ModuleFactory(track=track)
            for _ in range(resources):
                ResourceFactory(module=module)
            CapstoneFactory(module=module)


def test_home_lists_tracks_with_active_counts(client):
    track = TrackFactory(title="Deep Learning Basics")
    module = ModuleFactory(track=track)
    ResourceFactory(module=module)
    ResourceFactory(module=module)
    ResourceFactory(module=module, archived_at=timezone.now())
    ModuleFactory(track=track, archived_at=timezone.now())
    TrackFactory(title="Gone", archived_at=timezone.now())
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Deep Learning Basics" in body and "Gone" not in body
    assert "1 module" in body and "2 resources" in body


def test_home_query_count_is_constant(client):
    build_tracks(2, 2, 2)
    with CaptureQueriesContext(connection) as small:
        client.get("/")
    build_tracks(20, 5, 8)
    with CaptureQueriesContext(connection) as large:
        client.get("/")
    assert len(small) == len(large) <= 4


def test_track_page_shows_modules_resources_and_sanitized_markdown(client):
    track = TrackFactory(slug="cv", summary="Intro <script>alert(1)</script> **bold**")
    module = ModuleFactory(track=track, title="Lesson One", summary="[x](javascript:alert(1))")
    ResourceFactory(module=module, title="Watch the lecture", notes="<img src=x onerror=alert(1)>")
    ResourceFactory(module=module, title="Removed", archived_at=timezone.now())
    CapstoneFactory(module=module, title="Build a classifier")
    body = client.get("/tracks/cv/").content.decode()
    assert "Lesson One" in body and "Watch the lecture" in body and "Build a classifier" in body
    assert "<strong>bold</strong>" in body
    assert "Removed" not in body
    for bad in ("<script>alert", "javascript:", "onerror"):
        assert bad not in body


def test_unknown_and_archived_tracks_are_404(client):
    TrackFactory(slug="old", archived_at=timezone.now())
    assert client.get("/tracks/old/").status_code == 404
    assert client.get("/tracks/nope/").status_code == 404


def test_track_page_query_count_is_constant(client):
    small = TrackFactory(slug="small")
    for _ in range(2):
        module = ModuleFactory(track=small)
        ResourceFactory(module=module)
        CapstoneFactory(module=module)
    large = TrackFactory(slug="large")
    for _ in range(20):
        module = ModuleFactory(track=large)
        for _ in range(10):
            ResourceFactory(module=module)
        CapstoneFactory(module=module)
    with CaptureQueriesContext(connection) as q_small:
        assert client.get("/tracks/small/").status_code == 200
    with CaptureQueriesContext(connection) as q_large:
        assert client.get("/tracks/large/").status_code == 200
    assert len(q_small) == len(q_large)
