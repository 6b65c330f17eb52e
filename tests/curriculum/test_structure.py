"""The cached curriculum structure (curriculum/structure.py): what it holds, what it costs,
and that every kind of curriculum write moves its version on, in this process and in others."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from curriculum.loader import load_paths
from curriculum.models import Resource, Track
from curriculum.services import curriculum_item_save
from curriculum.structure import (
    build_structure,
    cached_structures,
    structure_changed,
    track_structure,
)
from tests.factories import CapstoneFactory, ModuleFactory, ResourceFactory, TrackFactory
from tracker.completion import required_units

TRACK = """\
track:
  slug: demo
  title: Demo track
  requires: [base]
  modules:
    - slug: one
      title: One
      days: 3
      resources:
        - slug: intro
          title: Intro
          kind: video
          minutes: 40
        - slug: reading
          title: Reading
          kind: paper
          optional: true
          notes: Read *section 2*.
        - slug: the-base
          title: The base track
          kind: track
          track: base
    - slug: two
      title: Two
      requires: [one]
      choose: {route: 2}
      resources:
        - {slug: route-a, title: Route A, kind: course, choice: route}
        - {slug: route-b, title: Route B, kind: book, choice: route}
        - {slug: route-c, title: Route C, kind: book, choice: route}
      capstones:
        - slug: project
          title: Project
          brief: Build **it**.
          constraints: ["Only PyTorch"]
          optional: true
"""
BASE = """\
track:
  slug: base
  title: The Base
  modules:
    - slug: only
      title: Only
      resources:
        - {slug: first, title: First, kind: article}
"""
OTHER = """\
track:
  slug: other
  title: Unrelated
  modules:
    - slug: m
      title: M
      resources:
        - {slug: r, title: R, kind: article}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def curriculum(tmp_path, db):
    write(tmp_path, "demo", TRACK)
    write(tmp_path, "base", BASE)
    write(tmp_path, "other", OTHER)
    load_paths([str(tmp_path)])
    return tmp_path


def version(slug: str) -> int:
    return Track.objects.values_list("structure_version", flat=True).get(slug=slug)


def test_the_structure_holds_the_active_curriculum_in_order(curriculum):
    demo = Track.objects.get(slug="demo")
    structure = track_structure(demo.pk)
    assert structure.version == demo.structure_version
    assert [m.slug for m in structure.modules] == ["one", "two"]
    one, two = structure.modules
    assert (one.number, one.hint_label, two.hint_label) == (1, "3 days", "1 week")
    assert [r.slug for r in one.resources] == ["intro", "reading", "the-base"]
    intro, reading, linked = one.resources
    assert (intro.kind_label, intro.minutes, intro.points, intro.required) == (
        "Video",
        40,
        40,
        True,
    )
    assert reading.optional and "<em>section 2</em>" in reading.notes_html
    assert linked.is_track and linked.linked_track.title == "The Base"
    assert linked.linked_track.url == "/tracks/base/"
    assert [(g.name, g.required, g.size) for g in {r.group for r in two.resources}] == [
        ("route", 2, 3)
    ]
    assert [m.slug for m in two.requires] == ["one"]
    assert structure.dependent_modules(one.id) == (two,)
    [project] = two.capstones
    assert project.optional and project.constraints == ("Only PyTorch",)
    assert project.submission_url == reverse(
        "track:capstone_submission", kwargs={"slug": "demo", "item": "project"}
    )
    # Every URL the page shows per row, built from prefixes: the same as reversing each one.
    for name, attribute in (
        ("track:set_status", "status_url"),
        ("track:note", "note_url"),
        ("track:toggle_revisit", "revisit_url"),
    ):
        assert getattr(intro, attribute) == reverse(name, kwargs={"slug": "demo", "item": "intro"})
    assert [t.slug for t in structure.requires] == ["base"]
    assert structure.resource_by_slug("route-b").id == structure.resource(two.resources[1].id).id
    # The completion rule reads it as it reads models: intro, the linked track, two of the route.
    assert required_units(structure) == 4


def test_archived_items_and_modules_are_left_out(curriculum):
    demo = Track.objects.get(slug="demo")
    reading = Resource.objects.get(track=demo, slug="reading")
    reading.archived_at = timezone.now()
    curriculum_item_save(item=reading)
    two = demo.modules.get(slug="two")
    two.archived_at = timezone.now()
    curriculum_item_save(item=two)
    structure = track_structure(demo.pk)
    assert [m.slug for m in structure.modules] == ["one"]
    assert [r.slug for r in structure.modules[0].resources] == ["intro", "the-base"]
    assert structure.resource_by_slug("route-a") is None


def test_building_takes_six_queries_whatever_the_size_and_a_cached_one_none(db):
    def make(modules: int, resources: int) -> Track:
        track = TrackFactory()
        previous = None
        for _ in range(modules):
            module = ModuleFactory(track=track)
            if previous:
                module.requires.add(previous)
            previous = module
            for _ in range(resources):
                ResourceFactory(module=module)
            CapstoneFactory(module=module)
        return Track.objects.get(pk=track.pk)

    small, large = make(2, 2), make(20, 10)
    for track in (small, large):
        with CaptureQueriesContext(connection) as built:
            structure = track_structure(track.pk, track.structure_version)
        assert len(built) == 6
        with CaptureQueriesContext(connection) as cached:
            assert track_structure(track.pk, track.structure_version) is structure
        assert len(cached) == 0
    assert len(track_structure(large.pk).modules) == 20


def test_a_reload_moves_on_only_the_tracks_it_changed_and_those_naming_them(curriculum):
    before = {slug: version(slug) for slug in ("demo", "base", "other")}
    load_paths([str(curriculum)])  # nothing changed: nothing moves
    assert {slug: version(slug) for slug in before} == before

    write(curriculum, "base", BASE.replace("title: The Base", "title: The Base, renamed"))
    load_paths([str(curriculum)])
    assert version("base") > before["base"]
    assert version("demo") > before["demo"]  # it shows the base track's title twice
    assert version("other") == before["other"]
    demo = track_structure(Track.objects.get(slug="demo").pk)
    assert demo.requires[0].title == "The Base, renamed"
    assert demo.resource_by_slug("the-base").linked_track.title == "The Base, renamed"


def test_every_orm_write_moves_the_version_on(curriculum):
    demo = Track.objects.get(slug="demo")
    seen = version("demo")

    def moved() -> bool:
        nonlocal seen
        now = version("demo")
        result, seen = now > seen, now
        return result

    intro = Resource.objects.get(track=demo, slug="intro")
    intro.title = "Intro, re-recorded"
    curriculum_item_save(item=intro)
    assert moved()
    assert track_structure(demo.pk).resource_by_slug("intro").title == "Intro, re-recorded"
    ResourceFactory(module=demo.modules.get(slug="one"), slug="new-one")
    assert moved()
    CapstoneFactory(module=demo.modules.get(slug="one"), slug="new-capstone")
    assert moved()
    two = demo.modules.get(slug="two")
    two.requires.clear()
    assert moved()
    assert track_structure(demo.pk).module_by_slug("two").requires == ()
    demo.requires.clear()
    assert moved()
    Resource.objects.get(track=demo, slug="new-one").delete()
    assert moved()
    structure_changed([demo.pk])
    assert moved()


def test_saving_a_track_read_earlier_never_takes_its_version_back(curriculum):
    stale = Track.objects.get(slug="demo")
    resource = Resource.objects.get(track=stale, slug="intro")
    resource.title = "Changed"
    curriculum_item_save(item=resource)
    changed = version("demo")
    assert changed > stale.structure_version
    stale.title = "Demo, retitled"
    stale.save()
    assert version("demo") > changed  # moved on again, never back to the stale number


def test_the_cache_keeps_the_newest_version_a_request_saw(curriculum):
    demo = Track.objects.get(slug="demo")
    old = demo.structure_version
    track_structure(demo.pk, old)
    structure_changed([demo.pk])
    new = version("demo")
    assert track_structure(demo.pk, new).version == new
    # A request that read the old version before the change committed builds the current
    # structure, and does not evict the newer one.
    track_structure(demo.pk, old)
    assert cached_structures()[demo.pk] == new


def test_a_deleted_track_has_no_structure(db):
    track = TrackFactory()
    pk = track.pk
    track.delete()
    assert build_structure(pk) is None and track_structure(pk) is None


# --- across processes ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_load_in_another_process_is_seen_by_the_next_request_here(tmp_path, client):
    if connection.vendor != "postgresql":
        from tests.conftest import missing_service

        missing_service("this test needs PostgreSQL (two processes, one database)")
    path = write(tmp_path, "other", OTHER)
    load_paths([str(path)])

    def current():  # as a request does: the track row it reads anyway, then the cache
        track = Track.objects.get(slug="other")
        return track_structure(track.pk, track.structure_version)

    assert current().resource_by_slug("r").title == "R"
    assert 'class="resource-title">R<' in client.get("/tracks/other/").content.decode()
    assert Track.objects.get(slug="other").pk in cached_structures()  # this process keeps it

    write(tmp_path, "other", OTHER.replace("title: R,", "title: Renamed by another process,"))
    server = settings.DATABASES["default"]
    url = (
        f"postgres://{server['USER']}@{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}"
        f"/{server['NAME']}"
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    finished = subprocess.run(
        [sys.executable, "manage.py", "load_curriculum", str(path)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    # The next request reads the track row it reads anyway, sees a newer version, rebuilds.
    assert (
        'class="resource-title">Renamed by another process<'
        in client.get("/tracks/other/").content.decode()
    )
    assert current().resource_by_slug("r").title == "Renamed by another process"
