"""One test per class of bad input: the exact `PATH:LINE:COLUMN: message` line, and nothing
written even though a valid file of the same run (loaded first) wanted changes."""

from __future__ import annotations

import textwrap

import pytest
from django.db import connection
from django.test import override_settings

from curriculum.loader import CurriculumInvalid, load_paths
from curriculum.models import Capstone, Module, Resource, Track

pytestmark = pytest.mark.django_db

ALPHA = """\
track:
  slug: alpha
  title: Alpha
  modules:
    - slug: start
      title: Start
      resources:
        - slug: welcome
          title: Welcome
          kind: video
"""
# The valid file of the failing run: it changes alpha and adds to it.
ALPHA_CHANGED = (
    ALPHA.replace("title: Alpha", "title: Alpha, revised")
    + """\
        - slug: extra
          title: Extra
          kind: article
"""
)

# The bad file starts from this and breaks one thing; line numbers below refer to it.
GOOD = """\
track:
  slug: bad
  title: Bad
  requires: [alpha]
  modules:
    - slug: first
      title: First
      resources:
        - slug: video
          title: Video
          kind: video
          url: https://example.com/v
          minutes: 30
          points: 10
          optional: false
    - slug: second
      title: Second
      requires: [first]
      capstones:
        - slug: project
          title: Project
          brief: Build it.
          points: 100
          review: lead
"""


def snapshot() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM curriculum_track_requires")
        track_requires = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM curriculum_module_requires")
        module_requires = cursor.fetchone()[0]
    return {
        "rows": [model.objects.count() for model in (Track, Module, Resource, Capstone)],
        "requires": (track_requires, module_requires),
        "titles": sorted(Track.objects.values_list("slug", "title", "updated_at")),
    }


@pytest.fixture
def run(tmp_path):
    """Load alpha, then run [a-valid.yaml (alpha changed), b-bad.yaml] and return the errors
    with the bad file's path replaced by BAD; assert the database did not change."""
    folder = tmp_path / "run"
    folder.mkdir()
    (tmp_path / "alpha.yaml").write_text(ALPHA)
    load_paths([str(tmp_path / "alpha.yaml")])
    (folder / "a-valid.yaml").write_text(ALPHA_CHANGED)

    def go(text: str | bytes, *, dedent: bool = True) -> list[str]:
        bad = folder / "b-bad.yaml"
        if isinstance(text, bytes):
            bad.write_bytes(text)
        else:
            bad.write_text(textwrap.dedent(text) if dedent else text, encoding="utf-8")
        before = snapshot()
        with pytest.raises(CurriculumInvalid) as caught:
            load_paths([str(folder)])
        assert snapshot() == before
        assert Track.objects.get(slug="alpha").title == "Alpha"
        return [line.replace(str(bad), "BAD") for line in caught.value.errors]

    return go


def test_the_good_file_really_is_good(tmp_path):
    (tmp_path / "alpha.yaml").write_text(ALPHA)
    (tmp_path / "bad.yaml").write_text(GOOD)
    assert load_paths([str(tmp_path)]).created == 3 + 5  # alpha: 1+1+1; bad: 1+2+1+1


def test_unknown_key(run):
    assert run(GOOD.replace("          title: Video", "          titel: Video")) == [
        "BAD:9:11: track.modules[0].resources[0]: missing required key 'title'",
        "BAD:10:11: track.modules[0].resources[0].titel: unknown key 'titel' (did you mean 'title'? "
        "expected one of slug, title, kind, track, url, minutes, points, optional, filled_in, choice, notes)",
    ]


def test_unknown_top_level_key(run):
    assert run(GOOD + "extra: 1\n") == [
        "BAD:25:1: extra: unknown key 'extra' (expected one of track)",
    ]


def test_missing_required_key_points_at_the_mapping(run):
    assert run(GOOD.replace("          brief: Build it.\n", "")) == [
        "BAD:20:11: track.modules[1].capstones[0]: missing required key 'brief'",
    ]


def test_wrong_type(run):
    assert run(
        GOOD.replace("title: Bad", "title: [Bad]").replace("minutes: 30", "minutes: half an hour")
    ) == [
        "BAD:3:10: track.title: expected text, got a list",
        "BAD:13:20: track.modules[0].resources[0].minutes: expected a whole number from 0 to 10000, "
        "got text 'half an hour'",
    ]


def test_number_where_text_is_expected(run):
    assert run(GOOD.replace("title: First", "title: 1984")) == [
        "BAD:7:14: track.modules[0].title: expected text, got the number 1984 (put it in quotes)",
    ]


def test_boolean_must_be_a_real_boolean(run):
    assert run(GOOD.replace("optional: false", 'optional: "yes"')) == [
        "BAD:15:21: track.modules[0].resources[0].optional: expected true or false, got text 'yes'",
    ]
    assert run(GOOD.replace("optional: false", "optional: no")) == [
        "BAD:15:21: track.modules[0].resources[0].optional: expected true or false, got text 'no'",
    ]


def test_bad_slug(run):
    assert run(GOOD.replace("slug: first", "slug: First_Steps")) == [
        "BAD:6:13: track.modules[0].slug: 'First_Steps' is not a slug "
        "(expected lowercase letters a-z, digits and hyphens)",
    ]


def test_unknown_kind(run):
    assert run(GOOD.replace("kind: video", "kind: vid")) == [
        "BAD:11:17: track.modules[0].resources[0].kind: unknown kind 'vid' (expected one of video, course, "
        "chapter, article, paper, book, notebook, exercise, talk, quiz, other, track)",
    ]


def test_unknown_level_and_review(run):
    assert run(
        GOOD.replace("title: Bad\n", "title: Bad\n  level: expert\n").replace(
            "review: lead", "review: mentor"
        )
    ) == [
        "BAD:4:10: track.level: unknown level 'expert' (expected one of beginner, intermediate, advanced)",
        "BAD:25:19: track.modules[1].capstones[0].review: unknown review mode 'mentor' "
        "(expected one of lead, peer, self)",
    ]


def test_out_of_range_numbers(run):
    text = (
        GOOD.replace("minutes: 30", "minutes: 10001")
        .replace("points: 10\n", "points: -1\n")
        .replace("points: 100", "points: 10001")
        .replace("      requires: [first]", "      weeks: -2\n      requires: [first]")
    )
    assert run(text) == [
        "BAD:13:20: track.modules[0].resources[0].minutes: 10001 is out of range (expected 0 to 10000)",
        "BAD:14:19: track.modules[0].resources[0].points: -1 is out of range (expected 0 to 10000)",
        "BAD:18:14: track.modules[1].weeks: -2 is out of range (expected 0 to 520)",
        "BAD:24:19: track.modules[1].capstones[0].points: 10001 is out of range (expected 0 to 10000)",
    ]


def test_bad_url_scheme(run):
    assert run(GOOD.replace("https://example.com/v", "javascript:alert(1)")) == [
        "BAD:12:16: track.modules[0].resources[0].url: 'javascript:alert(1)' is not an http:// or https:// URL",
    ]
    assert run(GOOD.replace("https://example.com/v", "https://")) == [
        "BAD:12:16: track.modules[0].resources[0].url: 'https://' is not a valid URL",
    ]


def test_duplicate_slug_in_track(run):
    text = GOOD.replace("        - slug: project", "        - slug: video")
    assert run(text) == [
        "BAD:20:17: track.modules[1].capstones[0].slug: duplicate item slug 'video' (already used at line 9)",
    ]
    assert run(GOOD.replace("slug: second", "slug: first")) == [
        "BAD:16:13: track.modules[1].slug: duplicate module slug 'first' (already used at line 6)",
        "BAD:18:18: track.modules[1].requires[0]: cyclic requires: first -> first",
    ]


def test_duplicate_track_slug_names_the_other_file(tmp_path):
    (tmp_path / "one.yaml").write_text(ALPHA)
    (tmp_path / "two.yaml").write_text(ALPHA)
    with pytest.raises(CurriculumInvalid) as caught:
        load_paths([str(tmp_path)])
    assert caught.value.errors == [
        f"{tmp_path}/two.yaml:2:9: track.slug: duplicate track slug 'alpha' (also defined in {tmp_path}/one.yaml:2:9)"
    ]
    assert Track.objects.count() == 0


def test_duplicate_key(run):
    assert run(
        GOOD.replace("          minutes: 30\n", "          minutes: 30\n          minutes: 40\n")
    ) == [
        "BAD:14:11: duplicate key 'minutes' (first at line 13)",
    ]


def test_dangling_track_requires(run):
    assert run(GOOD.replace("requires: [alpha]", "requires: [alpha, omega]")) == [
        "BAD:4:21: track.requires[1]: unknown track 'omega' (it must be in this run's files or already loaded)",
    ]


def test_dangling_module_requires(run):
    assert run(GOOD.replace("requires: [first]", "requires: [zeroth]")) == [
        "BAD:18:18: track.modules[1].requires[0]: unknown module 'zeroth' "
        "(expected a module of this track: first, second)",
    ]


def test_cyclic_module_requires(run):
    text = GOOD.replace("      title: First\n", "      title: First\n      requires: [second]\n")
    assert run(text) == [
        "BAD:8:18: track.modules[0].requires[0]: cyclic requires: first -> second -> first",
    ]


def test_cyclic_track_requires_across_files(run, tmp_path):
    # alpha (already in the database, and in this run's valid file) requires nothing; make the
    # run's alpha require bad while bad requires alpha.
    (tmp_path / "run" / "a-valid.yaml").write_text(
        ALPHA_CHANGED.replace(
            "  title: Alpha, revised\n", "  title: Alpha, revised\n  requires: [bad]\n"
        )
    )
    errors = run(GOOD)
    assert errors == [
        f"{tmp_path}/run/a-valid.yaml:4:14: track.requires[0]: cyclic requires: alpha -> bad -> alpha"
    ]


def test_track_requiring_itself(run):
    assert run(GOOD.replace("requires: [alpha]", "requires: [bad]")) == [
        "BAD:4:14: track.requires[0]: cyclic requires: bad -> bad",
    ]


def test_single_member_choice_group(run):
    assert run(GOOD.replace("          optional: false\n", "          choice: deep-dive\n")) == [
        "BAD:15:19: track.modules[0].resources[0].choice: choice group 'deep-dive' has only one resource "
        "in module 'first' (a group needs at least 2 alternatives)",
    ]


def test_tabs_in_indentation(run):
    assert run(GOOD.replace("      title: First\n", "\t  title: First\n"), dedent=False) == [
        "BAD:7:1: tab character used for indentation (YAML indents with spaces)",
    ]


def test_non_utf8(run):
    data = GOOD.replace("title: Video", "title: Vid\xe9o").encode("latin-1")
    assert run(data) == ["BAD:10:21: not valid UTF-8 (byte 0xe9); save the file as UTF-8"]


@override_settings(CURRICULUM_MAX_FILE_BYTES=500)
def test_too_big(run):
    text = GOOD + "# " + "x" * 600 + "\n"
    assert run(text) == [
        f"BAD:1:1: file is {len(text.encode()):,} bytes; the limit is 500 (CURRICULUM_MAX_FILE_BYTES)",
    ]


def test_alias_bomb_is_refused_quickly(run):
    import time

    lines = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 9)]
    started = time.perf_counter()
    errors = run("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 2
    # stopped at the alias that crosses the cap: the third *a4 on line 6
    assert errors == ["BAD:6:22: aliases expand this file past 250,000 values (an alias bomb?)"]


def test_too_many_aliases(run):
    text = "x: &x 1\nitems:\n" + "".join("  - *x\n" for _ in range(51))
    assert run(text) == ["BAD:53:5: too many aliases (more than 50 in one file)"]


def test_too_deep(run):
    text = "".join("  " * depth + f"k{depth}:\n" for depth in range(40)) + "  " * 40 + "end\n"
    assert run(text, dedent=False) == ["BAD:33:65: nested deeper than 32 levels"]


def test_python_tag(run):
    text = GOOD.replace("title: Bad", "title: !!python/object/apply:os.system ['echo pwned']")
    assert run(text) == [
        "BAD:3:10: Python tags are not allowed (!!python/object/apply:os.system): curriculum files hold plain data only",
    ]


def test_yaml_syntax_error(run):
    assert run(GOOD.replace("requires: [alpha]", "requires: [alpha")) == [
        "BAD:5:10: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence",
    ]


def test_empty_file_second_document_and_not_a_mapping(run):
    assert run("") == ["BAD:1:1: the file is empty (expected a 'track:' mapping)"]
    assert run("- a\n- b\n") == [
        "BAD:1:1: expected a mapping with the key 'track' (key: value lines), got a list"
    ]
    assert run("track: [1]\n") == [
        "BAD:1:8: track: expected a mapping (key: value lines), got a list"
    ]
    assert run(GOOD + "---\ntrack: {}\n") == [
        "BAD:25:1: only one YAML document per file (remove the second '---')"
    ]


def test_every_error_of_every_file_is_reported_in_order(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD.replace("kind: video", "kind: vid"))
    (tmp_path / "b.yaml").write_text(
        GOOD.replace("slug: bad", "slug: Bad").replace("minutes: 30", "minutes: 1.5")
    )
    with pytest.raises(CurriculumInvalid) as caught:
        load_paths([str(tmp_path / "b.yaml"), str(tmp_path / "a.yaml")])
    assert [line.split(": ", 1)[0] for line in caught.value.errors] == [
        f"{tmp_path}/a.yaml:11:17",
        f"{tmp_path}/b.yaml:2:9",
        f"{tmp_path}/b.yaml:13:20",
    ]


def test_missing_paths_and_empty_folders_are_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CurriculumInvalid) as caught:
        load_paths([str(tmp_path / "nope.yaml"), str(tmp_path / "empty")])
    assert caught.value.errors == [
        f"{tmp_path}/empty:1:1: no .yaml or .yml files in this folder",
        f"{tmp_path}/nope.yaml:1:1: no such file or folder",
    ]


def test_smaller_rules(run):
    assert run(
        GOOD.replace("title: Bad", 'title: "  "').replace(
            "requires: [first]", "requires: [first, first]"
        )
    ) == [
        "BAD:3:10: track.title: must not be empty",
        "BAD:18:25: track.modules[1].requires[1]: 'first' is listed twice",
    ]
    assert run("track:\n  slug: bad\n  title: Bad\n  modules: []\n") == [
        "BAD:4:12: track.modules: a track needs at least one module",
    ]
    assert run(GOOD.replace("title: Video", "title: " + "v" * 301)) == [
        "BAD:10:18: track.modules[0].resources[0].title: is 301 characters long; the limit is 300",
    ]
    assert run(GOOD.replace("title: Video", "title: Vid\x01eo")) == [
        "BAD:10:21: character U+0001 is not allowed in YAML",
    ]
    assert run(GOOD.replace("optional: false", "optional: true\n          choice: pick")) == [
        "BAD:15:21: track.modules[0].resources[0].optional: a resource in a choice group cannot "
        "also be optional (the group is the choice)",
        "BAD:16:19: track.modules[0].resources[0].choice: choice group 'pick' has only one resource "
        "in module 'first' (a group needs at least 2 alternatives)",
    ]


def test_requiring_an_archived_track(run, tmp_path):
    (tmp_path / "old.yaml").write_text(ALPHA.replace("slug: alpha", "slug: old"))
    load_paths([str(tmp_path / "old.yaml")])
    load_paths([str(tmp_path / "alpha.yaml")], prune=True)
    assert run(GOOD.replace("requires: [alpha]", "requires: [old]")) == [
        "BAD:4:14: track.requires[0]: track 'old' is archived (load its file in this run to restore it)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "track:\n  slug: x\n\ttitle: y\n",
            "BAD:3:1: tab character used for indentation (YAML indents with spaces)",
        ),
        ("a: b\x01c\n", "BAD:1:5: character U+0001 is not allowed in YAML"),
        (
            "a: !!python/name:os.system\n",
            "BAD:1:4: Python tags are not allowed (!!python/name:os.system): "
            "curriculum files hold plain data only",
        ),
        ("[" * 5000 + "]" * 5000, "BAD:1:33: nested deeper than 32 levels"),
        ("a: 1\na: 2\n", "BAD:2:1: duplicate key 'a' (first at line 1)"),
    ],
)
def test_the_pure_python_parser_gives_the_same_errors(run, monkeypatch, text, expected):
    """Where libyaml is missing, PyYAML's SafeLoader is used: same checks, same positions."""
    import yaml

    from curriculum.loader import parse

    monkeypatch.setattr(parse, "Loader", yaml.SafeLoader)
    assert run(text, dedent=False) == [expected]
