"""The YAML loader on valid input: create, reload, update, archive, restore, move, prune."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from curriculum.loader import load_paths
from curriculum.models import Capstone, Module, Resource, Track
from tests.factories import UserFactory, enrol
from tracker import services
from tracker.models import PointsEntry, Profile, Progress

pytestmark = pytest.mark.django_db

TRACK = """\
track:
  slug: demo
  title: Demo track
  summary: A *small* track.
  level: intermediate
  tags: [vision, basics]
  modules:
    - slug: one
      title: One
      summary: "First <script>alert(1)</script> **module**"
      weeks: 2
      resources:
        - slug: intro-video
          title: Intro video
          kind: video
          url: https://example.com/intro
          minutes: 40
        - slug: reading
          title: Reading
          kind: paper
          optional: true
          notes: Read *section 2*.
        - slug: homework
          title: Homework
          kind: exercise
          points: 25
    - slug: two
      title: Two
      requires: [one]
      resources:
        - slug: route-a
          title: Route A
          kind: course
          choice: deep-dive
        - slug: route-b
          title: Route B
          kind: book
          minutes: 600
          choice: deep-dive
      capstones:
        - slug: project
          title: Project
          brief: Build **it**.
          constraints: ["Only PyTorch"]
          review: peer
"""


def write(tmp_path, text: str, name: str = "demo.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def counts(report) -> tuple[int, int, int, int]:
    return report.created, report.updated, report.archived, report.unchanged


def pks(model) -> dict[str, int]:
    return dict(model.objects.values_list("slug", "pk"))


def test_first_load_creates_everything_with_derived_fields(tmp_path):
    path = write(tmp_path, TRACK)
    report = load_paths([path])
    assert counts(report) == (1 + 2 + 5 + 1, 0, 0, 0)
    assert report.summary_line() == "created 9, updated 0, archived 0, unchanged 0"

    track = Track.objects.get(slug="demo")
    assert (track.level, track.tags, track.source_path) == (
        "intermediate",
        ["vision", "basics"],
        path,
    )
    assert track.summary_html == "<p>A <em>small</em> track.</p>"
    one, two = Module.objects.filter(track=track).order_by("position")
    assert (one.slug, one.weeks, two.slug, two.weeks) == ("one", 2, "two", 1)
    assert "<script>" not in one.summary_html and "<strong>module</strong>" in one.summary_html
    assert list(two.requires.values_list("slug", flat=True)) == ["one"]

    points = dict(Resource.objects.values_list("slug", "points"))
    # explicit points win, else minutes, else the default for the kind (paper 45, course 120)
    assert points == {
        "intro-video": 40,
        "reading": 45,
        "homework": 25,
        "route-a": 120,
        "route-b": 600,
    }
    homework = Resource.objects.get(slug="homework")
    assert (homework.points_override, homework.position, homework.module_id) == (25, 2, one.pk)
    assert Resource.objects.get(slug="reading").notes_html == "<p>Read <em>section 2</em>.</p>"
    assert set(Resource.objects.filter(choice="deep-dive").values_list("slug", flat=True)) == {
        "route-a",
        "route-b",
    }
    capstone = Capstone.objects.get(slug="project")
    assert (capstone.points, capstone.review, capstone.constraints) == (
        100,
        "peer",
        ["Only PyTorch"],
    )
    assert capstone.brief_html == "<p>Build <strong>it</strong>.</p>"


def test_reload_of_identical_file_changes_nothing(tmp_path, django_assert_max_num_queries):
    path = write(tmp_path, TRACK)
    load_paths([path])
    before = Resource.objects.values_list("pk", "content_changed_at").order_by("pk")
    before = list(before)
    # reads only: no per-row queries, no writes (the 13th: whether any track has leads to sync)
    with django_assert_max_num_queries(13):
        report = load_paths([path])
    assert report.summary_line() == "created 0, updated 0, archived 0, unchanged 9"
    assert list(Resource.objects.values_list("pk", "content_changed_at").order_by("pk")) == before


def test_changes_count_as_updates_and_mark_changed_content(tmp_path):
    path = write(tmp_path, TRACK)
    load_paths([path])
    changed = (
        TRACK.replace("title: Intro video", "title: Intro video (2024)")
        .replace("minutes: 600", "minutes: 700")
        .replace("weeks: 2", "weeks: 3")
    )
    report = load_paths([write(tmp_path, changed)])
    assert counts(report) == (0, 3, 0, 6)
    intro = Resource.objects.get(slug="intro-video")
    book = Resource.objects.get(slug="route-b")
    assert intro.title == "Intro video (2024)" and intro.content_changed_at is not None
    # minutes changed points, but not title/url/notes: learners are not told it changed
    assert book.points == 700 and book.content_changed_at is None
    assert Module.objects.get(slug="one").weeks == 3


def test_archive_and_restore_keep_primary_keys(tmp_path):
    path = write(tmp_path, TRACK)
    load_paths([path])
    before = {model: pks(model) for model in (Module, Resource, Capstone)}

    without_two = TRACK.split("    - slug: two")[0].replace(
        "        - slug: homework\n          title: Homework\n          kind: exercise\n          points: 25\n",
        "",
    )
    report = load_paths([write(tmp_path, without_two, "v2.yaml")])
    # module two, its two resources and capstone, and homework are archived, not deleted
    assert counts(report) == (0, 0, 5, 4)
    assert set(Resource.objects.active().values_list("slug", flat=True)) == {
        "intro-video",
        "reading",
    }
    assert (
        Resource.objects.count() == 5
        and Module.objects.count() == 2
        and Capstone.objects.count() == 1
    )
    assert Capstone.objects.get(slug="project").archived_at is not None

    report = load_paths([path])
    assert counts(report) == (0, 5, 0, 4)
    assert {model: pks(model) for model in (Module, Resource, Capstone)} == before
    assert not Resource.objects.filter(archived_at__isnull=False).exists()
    assert list(Module.objects.get(slug="two").requires.values_list("slug", flat=True)) == ["one"]


def test_moving_a_resource_between_modules_keeps_its_row(tmp_path):
    path = write(tmp_path, TRACK)
    load_paths([path])
    homework_pk = Resource.objects.get(slug="homework").pk
    homework = "        - slug: homework\n          title: Homework\n          kind: exercise\n          points: 25\n"
    moved = TRACK.replace(homework, "").replace(
        "      capstones:\n",
        homework.replace("        - slug", "        - slug", 1) + "      capstones:\n",
    )
    report = load_paths([write(tmp_path, moved)])
    assert report.plan == ["update resource demo/homework (module)"]
    assert counts(report) == (0, 1, 0, 8)
    homework_row = Resource.objects.get(slug="homework")
    assert homework_row.pk == homework_pk
    assert homework_row.module.slug == "two" and homework_row.position == 2


def test_learner_progress_and_points_survive_archive_and_restore(tmp_path):
    path = write(tmp_path, TRACK)
    load_paths([path])
    learner = UserFactory()
    homework = Resource.objects.get(slug="homework")
    enrol(learner, homework.track)
    services.progress_set_status(learner=learner, resource=homework, status="done")
    assert Profile.objects.get(user=learner).points_total == 25

    without = TRACK.replace(
        "        - slug: homework\n          title: Homework\n          kind: exercise\n          points: 25\n",
        "",
    )
    load_paths([write(tmp_path, without, "v2.yaml")])
    progress = Progress.objects.get(learner=learner, resource=homework)
    assert progress.status == "done"
    assert Profile.objects.get(user=learner).points_total == 25

    load_paths([path])
    restored = Resource.objects.get(slug="homework")
    assert restored.pk == homework.pk and restored.archived_at is None
    assert Progress.objects.get(learner=learner, resource=restored).pk == progress.pk
    assert PointsEntry.objects.filter(learner=learner, resource=restored).count() == 1
    assert Profile.objects.get(user=learner).points_total == 25


def test_positions_follow_list_order(tmp_path):
    load_paths([write(tmp_path, TRACK)])
    swapped = (
        TRACK.replace("slug: route-a\n          title: Route A", "slug: route-x")
        .replace(
            "slug: route-b\n          title: Route B", "slug: route-a\n          title: Route A"
        )
        .replace("slug: route-x", "slug: route-b\n          title: Route B")
    )
    load_paths([write(tmp_path, swapped)])
    assert list(
        Resource.objects.filter(module__slug="two")
        .order_by("position")
        .values_list("slug", flat=True)
    ) == [
        "route-b",
        "route-a",
    ]


def test_dry_run_and_check_write_nothing(tmp_path):
    path = write(tmp_path, TRACK)
    report = load_paths([path], dry_run=True)
    assert Track.objects.count() == 0
    assert report.summary_line() == "created 9, updated 0, archived 0, unchanged 0"
    assert report.plan[:3] == [
        "create track demo",
        "create module demo/one",
        "create module demo/two",
    ]
    assert "create resource demo/intro-video" in report.plan
    check = load_paths([path], check=True)
    assert check.summary_line() == report.summary_line() and Track.objects.count() == 0


def test_track_requires_are_kept_in_sync_and_prune_archives_absent_tracks(tmp_path):
    base = write(tmp_path, TRACK, "demo.yaml")
    advanced = write(
        tmp_path,
        """\
        track:
          slug: advanced
          title: Advanced
          requires: [demo]
          modules:
            - slug: only
              title: Only
        """,
        "advanced.yaml",
    )
    load_paths([base, advanced])
    assert list(Track.objects.get(slug="advanced").requires.values_list("slug", flat=True)) == [
        "demo"
    ]

    # Loading only `advanced` later is fine: `demo` is already in the database.
    assert load_paths([advanced]).summary_line() == "created 0, updated 0, archived 0, unchanged 2"

    without_requires = write(
        tmp_path, Path(advanced).read_text().replace("  requires: [demo]\n", ""), "advanced.yaml"
    )
    report = load_paths([without_requires])
    assert report.plan == ["update track advanced (requires)"]
    assert not Track.objects.get(slug="advanced").requires.exists()

    report = load_paths([without_requires], prune=True)
    assert report.plan == ["archive track demo"] and report.archived == 1
    demo = Track.objects.get(slug="demo")
    assert demo.archived_at is not None
    report = load_paths([base, without_requires])
    assert report.plan == ["restore track demo"]
    assert Track.objects.get(slug="demo").pk == demo.pk


def test_folder_loads_every_yaml_file_and_records_each_source(tmp_path):
    write(tmp_path, TRACK, "a.yaml")
    write(tmp_path, TRACK.replace("slug: demo", "slug: other"), "b.yml")
    (tmp_path / "README.txt").write_text("not a track")
    report = load_paths([str(tmp_path)])
    assert report.created == 18
    assert dict(Track.objects.values_list("slug", "source_path")) == {
        "demo": str(tmp_path / "a.yaml"),
        "other": str(tmp_path / "b.yml"),
    }


def test_loading_from_another_file_path_is_not_an_update(tmp_path):
    load_paths([write(tmp_path, TRACK, "demo.yaml")])
    report = load_paths([write(tmp_path, TRACK, "copy.yaml")])
    assert report.summary_line() == "created 0, updated 0, archived 0, unchanged 9"
    assert Track.objects.get(slug="demo").source_path == str(tmp_path / "copy.yaml")


def test_large_track_loads_and_reloads_quickly(tmp_path):
    import time

    from bench.curriculum import write_track

    path = write_track(tmp_path / "big.yaml", index=0, slug="big", modules=40, per_module=50)
    started = time.perf_counter()
    assert load_paths([str(path)]).created == 1 + 40 + 2000 + 1  # and one capstone
    first = time.perf_counter() - started
    started = time.perf_counter()
    assert (
        load_paths([str(path)]).summary_line() == "created 0, updated 0, archived 0, unchanged 2042"
    )
    again = time.perf_counter() - started
    assert first < 10 and again < 3, (first, again)
