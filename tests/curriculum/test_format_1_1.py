"""Format 1.1 (docs/curriculum-format.md): optional capstones, choice groups that ask for more
than one, resources of kind track, `days`, track `prerequisites` and the raised points cap.
Each addition loads, exports and reports its errors as `PATH:LINE:COLUMN: message`; a file
written for format 1.0 loads exactly as before."""

from __future__ import annotations

import textwrap

import pytest
from django.conf import settings

from curriculum.exporter import track_export_yaml
from curriculum.loader import CurriculumInvalid, load_paths
from curriculum.models import MAX_POINTS, Capstone, Module, Resource, ResourceKind, Track
from tests.curriculum.test_loader_errors import ALPHA, ALPHA_CHANGED, GOOD, run  # noqa: F401

pytestmark = pytest.mark.django_db

BASE = """\
track:
  slug: base
  title: Base
  modules:
    - slug: only
      title: Only
      resources:
        - {slug: a, title: A, kind: video}
"""

FULL = """\
track:
  slug: full
  title: Full
  summary: Everything format 1.1 adds.
  prerequisites: |
    Python, and **high-school** maths.
  modules:
    - slug: workshop
      title: Workshop
      days: 1
      resources:
        - slug: first-course
          title: The base course
          kind: track
          track: base
          minutes: 4800
    - slug: deep-dive
      title: Deep dive
      weeks: 8
      choose:
        route: 2
      resources:
        - {slug: mooc, title: MOOC, kind: course, minutes: 4800, choice: route}
        - {slug: book, title: Book, kind: book, choice: route}
        - {slug: lectures, title: Lectures, kind: course, choice: route}
      capstones:
        - slug: assessment
          title: Assessment
          brief: Optional, for a certificate.
          points: 200
          optional: true
"""


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def test_every_addition_lands_in_the_database(tmp_path):
    report = load_paths([write(tmp_path, "base.yaml", BASE), write(tmp_path, "full.yaml", FULL)])
    assert report.summary_line() == "created 11, updated 0, archived 0, unchanged 0"
    full = Track.objects.get(slug="full")
    assert full.prerequisites_html == "<p>Python, and <strong>high-school</strong> maths.</p>"
    workshop, deep_dive = Module.objects.filter(track=full).order_by("position")
    assert (workshop.days, workshop.weeks, workshop.hint_days) == (1, 0, 1)
    assert (deep_dive.days, deep_dive.weeks, deep_dive.hint_days) == (None, 8, 56)
    assert deep_dive.choices_required == {"route": 2}
    assert deep_dive.required_in_group("route") == 2 and deep_dive.required_in_group("x") == 1
    course = Resource.objects.get(slug="first-course")
    assert (course.kind, course.linked_track.slug, course.url) == (ResourceKind.TRACK, "base", "")
    # Points follow minutes all the way up: a 4,800-minute item is worth 4,800 points.
    assert course.points == 4800 == Resource.objects.get(slug="mooc").points
    assert Capstone.objects.get(slug="assessment").optional is True


def test_reloading_and_exporting_change_nothing(tmp_path):
    paths = [write(tmp_path, "base.yaml", BASE), write(tmp_path, "full.yaml", FULL)]
    load_paths(paths)
    assert load_paths(paths).summary_line() == "created 0, updated 0, archived 0, unchanged 11"
    exported = track_export_yaml(slug="full")
    assert exported == (
        "track:\n"
        "  slug: full\n"
        "  title: Full\n"
        "  summary: Everything format 1.1 adds.\n"
        "  prerequisites: |\n"
        "    Python, and **high-school** maths.\n"
        "  modules:\n"
        "    - slug: workshop\n"
        "      title: Workshop\n"
        "      days: 1\n"
        "      resources:\n"
        "        - slug: first-course\n"
        "          title: The base course\n"
        "          kind: track\n"
        "          track: base\n"
        "          minutes: 4800\n"
        "    - slug: deep-dive\n"
        "      title: Deep dive\n"
        "      weeks: 8\n"
        "      choose:\n"
        "        route: 2\n"
        "      resources:\n"
        "        - slug: mooc\n"
        "          title: MOOC\n"
        "          kind: course\n"
        "          minutes: 4800\n"
        "          choice: route\n"
        "        - slug: book\n"
        "          title: Book\n"
        "          kind: book\n"
        "          choice: route\n"
        "        - slug: lectures\n"
        "          title: Lectures\n"
        "          kind: course\n"
        "          choice: route\n"
        "      capstones:\n"
        "        - slug: assessment\n"
        "          title: Assessment\n"
        "          brief: Optional, for a certificate.\n"
        "          points: 200\n"
        "          optional: true\n"
    )
    again = load_paths([write(tmp_path, "exported.yaml", exported)])
    assert (again.created, again.updated, again.archived) == (0, 0, 0)


def test_choose_one_is_the_default_and_is_not_stored(tmp_path):
    load_paths([write(tmp_path, "base.yaml", BASE), write(tmp_path, "full.yaml", FULL)])
    report = load_paths(
        [
            write(tmp_path, "full.yaml", FULL.replace("route: 2", "route: 1")),
            str(tmp_path / "base.yaml"),
        ]
    )
    assert report.plan == ["update module full/deep-dive (choices_required)"]
    assert Module.objects.get(slug="deep-dive").choices_required == {}
    assert "choose" not in track_export_yaml(slug="full")


def test_edits_to_format_1_1_fields_are_updates_named_in_the_dry_run(tmp_path):
    base2 = BASE.replace("slug: base", "slug: base-2").replace("title: Base", "title: Base 2")
    paths = [
        write(tmp_path, "base.yaml", BASE),
        write(tmp_path, "base2.yaml", base2),
        write(tmp_path, "full.yaml", FULL),
    ]
    load_paths(paths)
    edited = (
        FULL.replace("track: base\n", "track: base-2\n")
        .replace("days: 1", "days: 2")
        .replace("optional: true", "optional: false")
        .replace("**high-school**", "school")
    )
    write(tmp_path, "full.yaml", edited)
    report = load_paths(paths, dry_run=True)
    assert report.plan == [
        "update track full (prerequisites)",
        "update module full/workshop (days)",
        "update resource full/first-course (track)",
        "update capstone full/assessment (optional)",
    ]
    load_paths(paths)
    assert Resource.objects.get(slug="first-course").linked_track.slug == "base-2"
    assert Track.objects.get(slug="full").prerequisites_html == "<p>Python, and school maths.</p>"


def test_a_track_resource_may_name_a_track_already_loaded(tmp_path):
    load_paths([write(tmp_path, "base.yaml", BASE)])
    load_paths([write(tmp_path, "full.yaml", FULL)])
    assert Resource.objects.get(slug="first-course").linked_track.slug == "base"


def test_the_documented_example_loads_and_exports_to_itself(tmp_path):
    doc = (settings.BASE_DIR / "docs" / "curriculum-format.md").read_text("utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    stubs = [
        BASE.replace("slug: base", f"slug: {slug}").replace("title: Base", f"title: {slug}")
        for slug in ("python-basics", "git-basics")
    ]
    paths = [write(tmp_path, f"stub{n}.yaml", text) for n, text in enumerate(stubs)]
    report = load_paths([*paths, write(tmp_path, "example.yaml", example)])
    assert report.created == 6 + 14  # the example: a track, 3 modules, 8 resources, 2 capstones
    exported = track_export_yaml(slug="fastai-part1")
    again = load_paths([write(tmp_path, "exported.yaml", exported)])
    assert (again.created, again.updated, again.archived) == (0, 0, 0)


def test_format_1_0_files_load_unchanged_with_their_old_defaults(tmp_path):
    load_paths([write(tmp_path, "alpha.yaml", ALPHA)])
    module = Module.objects.get(slug="start")
    assert (module.weeks, module.days, module.choices_required) == (1, None, {})
    assert Track.objects.get(slug="alpha").prerequisites_html == ""
    assert "days" not in track_export_yaml(slug="alpha")
    assert MAX_POINTS == 10_000


# --- errors -----------------------------------------------------------------------------------


def test_days_and_weeks_together(run):  # noqa: F811
    text = GOOD.replace(
        "      requires: [first]", "      weeks: 1\n      days: 2\n      requires: [first]"
    )
    assert run(text) == [
        "BAD:19:13: module 2 (`second`): give either `weeks` or `days`, not both: remove one "
        "(days are for modules shorter than a week)",
    ]


def test_days_out_of_range(run):  # noqa: F811
    assert run(
        GOOD.replace("      requires: [first]", "      days: -1\n      requires: [first]")
    ) == [
        "BAD:18:13: module 2 (`second`): `days` must be from 0 to 3640, not -1",
    ]


PICK = """\
          optional: false
        - {slug: b, title: B, kind: book, choice: pick}
        - {slug: c, title: C, kind: book, choice: pick}
        - {slug: d, title: D, kind: book, choice: pick}
"""


def test_a_group_asking_for_more_members_than_it_has(run):  # noqa: F811
    text = GOOD.replace("      title: First\n", "      title: First\n      choose: {pick: 4}\n")
    text = text.replace("          optional: false\n", PICK)
    assert run(text) == [
        "BAD:8:22: module 1 (`first`): `choose` asks for 4 resources of the choice group "
        "`pick`, which has only 3 in this module: ask for at most 3, or add resources to the group",
    ]


def test_choose_names_a_group_of_its_module_with_a_count_from_one(run):  # noqa: F811
    text = GOOD.replace(
        "      title: First\n",
        "      title: First\n      choose:\n        pik: 2\n        pick: 0\n",
    )
    assert run(text.replace("          optional: false\n", PICK)) == [
        "BAD:9:9: module 1 (`first`): `choose` names `pik`, which is not a choice group of this "
        "module (its groups: pick): fix the name, or remove the line",
        "BAD:10:15: module 1 (`first`): `pick` under `choose` must be from 1 to 100, not 0",
    ]
    assert run(
        GOOD.replace("      title: First\n", "      title: First\n      choose: [pick]\n")
    ) == [
        "BAD:8:15: module 1 (`first`): `choose` must name each choice group with how many of it "
        "to finish, one a line (`deep-dive: 2`), not a list",
    ]


def test_capstone_optional_must_be_a_boolean(run):  # noqa: F811
    assert run(GOOD.replace("review: lead", "review: lead\n          optional: maybe")) == [
        "BAD:25:21: module 2 (`second`), capstone 1 (`project`): `optional` must be true or "
        "false, not text 'maybe'",
    ]


TRACK_ITEM = """\
          optional: false
        - slug: the-alpha-track
          title: The alpha track
          kind: track
          track: alpha
"""


def test_kind_track_needs_its_track_and_no_url(run):  # noqa: F811
    text = GOOD.replace("          optional: false\n", TRACK_ITEM)
    assert run(text.replace("          track: alpha\n", "")) == [
        "BAD:16:11: module 1 (`first`), resource 2 (`the-alpha-track`): `track` is missing: a "
        "resource of kind track names the track whose completion makes it done, so add a "
        "`track:` line with that track's slug",
    ]
    assert run(text.replace("track: alpha\n", "track: alpha\n          url: https://x.org/\n")) == [
        "BAD:20:16: module 1 (`first`), resource 2 (`the-alpha-track`): a resource of kind "
        "track links to its track's page: remove `url`",
    ]
    assert run(GOOD.replace("          optional: false\n", "          track: alpha\n")) == [
        "BAD:15:18: module 1 (`first`), resource 1 (`video`): `track` is only for resources of "
        "kind track, and this one is kind 'video': remove `track`, or change `kind` to track",
    ]


def test_kind_track_naming_an_unknown_track(run):  # noqa: F811
    text = GOOD.replace(
        "          optional: false\n", TRACK_ITEM.replace("track: alpha", "track: omega")
    )
    assert run(text) == [
        "BAD:19:18: module 1 (`first`), resource 2 (`the-alpha-track`): `track` names the "
        "track `omega`, which is neither in this run's files nor loaded: fix the slug, or load "
        "that track's file too",
    ]


def test_kind_track_cycle_across_files(run, tmp_path):  # noqa: F811
    # bad's resource is the track alpha, and (in the run's valid file) alpha's is the track bad.
    (tmp_path / "run" / "a-valid.yaml").write_text(
        ALPHA_CHANGED + "        - {slug: bad-track, title: Bad, kind: track, track: bad}\n"
    )
    text = GOOD.replace("  requires: [alpha]\n", "").replace(
        "          optional: false\n", TRACK_ITEM
    )
    assert run(text) == [
        f"{tmp_path}/run/a-valid.yaml:14:61: module 1 (`start`), resource 3 (`bad-track`): "
        "`track` makes a track contain itself (alpha -> bad -> alpha), so it could never be "
        "finished: remove one of these links",
    ]


def test_kind_track_and_requires_closing_a_cycle(run):  # noqa: F811
    # bad requires alpha (in the database); alpha's new resource is the track bad.
    text = GOOD.replace(
        "          optional: false\n", TRACK_ITEM.replace("track: alpha", "track: bad")
    )
    assert run(text) == [
        "BAD:19:18: module 1 (`first`), resource 2 (`the-alpha-track`): `track` makes a track "
        "contain itself (bad -> bad), so it could never be finished: remove one of these links",
    ]


def test_kind_track_naming_a_track_prune_would_archive(tmp_path):
    load_paths([write(tmp_path, "base.yaml", BASE)])
    with pytest.raises(CurriculumInvalid) as caught:
        load_paths([write(tmp_path, "full.yaml", FULL)], prune=True)
    assert caught.value.errors == [
        f"{tmp_path}/full.yaml:15:18: module 1 (`workshop`), resource 1 (`first-course`): "
        "`track` names the track `base`, which is not in the files given, so --prune would "
        "archive it: add its file to this run, or remove it from here",
    ]
