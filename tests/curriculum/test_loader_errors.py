"""One test per class of bad input: the exact `PATH:LINE:COLUMN: message` line (the item named
by its place, counted from 1, and its slug; what to change), and nothing written even though a
valid file of the same run (loaded first) wanted changes."""

from __future__ import annotations

import textwrap

import pytest
from django.db import connection
from django.test import override_settings

from curriculum.loader import CurriculumInvalid, load_paths
from curriculum.models import Capstone, Module, Resource, Track

pytestmark = pytest.mark.django_db

TOO_DEEP = (
    "the file nests deeper than 32 levels: a curriculum needs far fewer, so check the indentation"
)

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
        "BAD:9:11: module 1 (`first`), resource 1 (`video`): `title` is missing: add a `title:` "
        "line (every resource needs one)",
        "BAD:10:11: module 1 (`first`), resource 1 (`video`): `titel` is not a key of a resource: "
        "did you mean `title`? (its keys: slug, title, kind, track, url, minutes, points, "
        "optional, filled_in, choice, notes)",
    ]


def test_unknown_top_level_key(run):
    assert run(GOOD + "extra: 1\n") == [
        "BAD:25:1: `extra` cannot be at the top of the file, which holds only `track:`: indent "
        "it if it belongs to the track, or remove it",
    ]


def test_missing_required_key_points_at_the_mapping(run):
    assert run(GOOD.replace("          brief: Build it.\n", "")) == [
        "BAD:20:11: module 2 (`second`), capstone 1 (`project`): `brief` is missing: add a "
        "`brief:` line (every capstone needs one)",
    ]


def test_wrong_type(run):
    assert run(
        GOOD.replace("title: Bad", "title: [Bad]").replace("minutes: 30", "minutes: half an hour")
    ) == [
        "BAD:3:10: track (`bad`): `title` must be text, not a list",
        "BAD:13:20: module 1 (`first`), resource 1 (`video`): `minutes` must be a whole number "
        "from 0 to 10000, not text 'half an hour'",
    ]


def test_number_where_text_is_expected(run):
    assert run(GOOD.replace("title: First", "title: 1984")) == [
        "BAD:7:14: module 1 (`first`): `title` must be text, not the number 1984: put it in "
        'quotes ("1984")',
    ]


def test_boolean_must_be_a_real_boolean(run):
    assert run(GOOD.replace("optional: false", 'optional: "yes"')) == [
        "BAD:15:21: module 1 (`first`), resource 1 (`video`): `optional` must be true or "
        "false, not text 'yes'",
    ]
    assert run(GOOD.replace("optional: false", "optional: no")) == [
        "BAD:15:21: module 1 (`first`), resource 1 (`video`): `optional` must be true or "
        "false, not text 'no'",
    ]


def test_bad_slug(run):
    assert run(GOOD.replace("slug: first", "slug: First_Steps")) == [
        "BAD:6:13: module 1: `slug` must use only lowercase letters a-z, digits and hyphens: "
        "write 'first-steps' instead of 'First_Steps'",
    ]


def test_unknown_kind(run):
    assert run(GOOD.replace("kind: video", "kind: vid")) == [
        "BAD:11:17: module 1 (`first`), resource 1 (`video`): `kind` must be one of video, "
        "course, chapter, article, paper, book, notebook, exercise, talk, quiz, other, track, "
        "not 'vid' (did you mean 'video'?)",
    ]


def test_unknown_level_and_review(run):
    assert run(
        GOOD.replace("title: Bad\n", "title: Bad\n  level: expert\n").replace(
            "review: lead", "review: mentor"
        )
    ) == [
        "BAD:4:10: track (`bad`): `level` must be one of beginner, intermediate, advanced, "
        "not 'expert'",
        "BAD:25:19: module 2 (`second`), capstone 1 (`project`): `review` must be one of lead, "
        "peer, self, not 'mentor'",
    ]


def test_out_of_range_numbers(run):
    text = (
        GOOD.replace("minutes: 30", "minutes: 10001")
        .replace("points: 10\n", "points: -1\n")
        .replace("points: 100", "points: 10001")
        .replace("      requires: [first]", "      weeks: -2\n      requires: [first]")
    )
    assert run(text) == [
        "BAD:13:20: module 1 (`first`), resource 1 (`video`): `minutes` must be from 0 to "
        "10000, not 10001",
        "BAD:14:19: module 1 (`first`), resource 1 (`video`): `points` must be from 0 to 10000, "
        "not -1",
        "BAD:18:14: module 2 (`second`): `weeks` must be from 0 to 520, not -2",
        "BAD:24:19: module 2 (`second`), capstone 1 (`project`): `points` must be from 0 to "
        "10000, not 10001",
    ]


def test_bad_url_scheme(run):
    assert run(GOOD.replace("https://example.com/v", "javascript:alert(1)")) == [
        "BAD:12:16: module 1 (`first`), resource 1 (`video`): `url` must start with http:// or "
        "https://, and 'javascript:alert(1)' does not",
    ]
    assert run(GOOD.replace("https://example.com/v", "https://")) == [
        "BAD:12:16: module 1 (`first`), resource 1 (`video`): `url` must be a working link, "
        "and 'https://' is not one: check it for spaces and typos",
    ]


def test_duplicate_slug_in_track(run):
    text = GOOD.replace("        - slug: project", "        - slug: video")
    assert run(text) == [
        "BAD:20:17: module 2 (`second`), capstone 1 (`video`): `video` is already the slug of "
        "module 1 (`first`), resource 1 (`video`), at line 9: give this capstone another slug "
        "(each of a track's resources and capstones needs its own)",
    ]
    assert run(GOOD.replace("slug: second", "slug: first")) == [
        "BAD:16:13: module 2 (`first`): `first` is already the slug of module 1 (`first`), at "
        "line 6: give this module another slug (each of a track's modules needs its own)",
        "BAD:18:18: module 2 (`first`): `requires` goes round in a circle (first -> first): "
        "remove one of these requirements",
    ]


def test_duplicate_track_slug_names_the_other_file(tmp_path):
    (tmp_path / "one.yaml").write_text(ALPHA)
    (tmp_path / "two.yaml").write_text(ALPHA)
    with pytest.raises(CurriculumInvalid) as caught:
        load_paths([str(tmp_path)])
    assert caught.value.errors == [
        f"{tmp_path}/two.yaml:2:9: track (`alpha`): `alpha` is also the slug of the track in "
        f"{tmp_path}/one.yaml (line 2): give one of the two tracks another slug, or load only "
        "one of the files"
    ]
    assert Track.objects.count() == 0


def test_duplicate_key(run):
    assert run(
        GOOD.replace("          minutes: 30\n", "          minutes: 30\n          minutes: 40\n")
    ) == [
        "BAD:14:11: `minutes` is given twice here (first at line 13): keep one of them",
    ]


def test_dangling_track_requires(run):
    assert run(GOOD.replace("requires: [alpha]", "requires: [alpha, omega]")) == [
        "BAD:4:21: track (`bad`): `requires` names the track `omega`, which is neither in this "
        "run's files nor loaded: fix the slug, or load that track's file too",
    ]


def test_dangling_module_requires(run):
    assert run(GOOD.replace("requires: [first]", "requires: [zeroth]")) == [
        "BAD:18:18: module 2 (`second`): `requires` names `zeroth`, which is not a module of "
        "this track (its modules: first, second): fix the slug, or remove it",
    ]


def test_cyclic_module_requires(run):
    text = GOOD.replace("      title: First\n", "      title: First\n      requires: [second]\n")
    assert run(text) == [
        "BAD:8:18: module 1 (`first`): `requires` goes round in a circle (first -> second -> "
        "first): remove one of these requirements",
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
        f"{tmp_path}/run/a-valid.yaml:4:14: track (`alpha`): `requires` goes round in a circle "
        "(alpha -> bad -> alpha): remove one of these requirements"
    ]


def test_track_requiring_itself(run):
    assert run(GOOD.replace("requires: [alpha]", "requires: [bad]")) == [
        "BAD:4:14: track (`bad`): `requires` goes round in a circle (bad -> bad): remove one of "
        "these requirements",
    ]


def test_single_member_choice_group(run):
    assert run(GOOD.replace("          optional: false\n", "          choice: deep-dive\n")) == [
        "BAD:15:19: module 1 (`first`), resource 1 (`video`): no other resource of this module "
        "is in the choice group `deep-dive`, and a group needs at least 2: give another resource "
        "of the module `choice: deep-dive`, or leave `choice` out",
    ]


def test_tabs_in_indentation(run):
    assert run(GOOD.replace("      title: First\n", "\t  title: First\n"), dedent=False) == [
        "BAD:7:1: a tab is used for indentation: indent with spaces (YAML does not allow tabs)",
    ]


def test_non_utf8(run):
    data = GOOD.replace("title: Video", "title: Vid\xe9o").encode("latin-1")
    assert run(data) == ["BAD:10:21: the file is not UTF-8 (byte 0xe9 here): save it as UTF-8"]


@override_settings(CURRICULUM_MAX_FILE_BYTES=500)
def test_too_big(run):
    text = GOOD + "# " + "x" * 600 + "\n"
    assert run(text) == [
        f"BAD:1:1: the file is {len(text.encode()):,} bytes, and the limit is 500 "
        "(CURRICULUM_MAX_FILE_BYTES): shorten its texts, or split the track",
    ]


def test_alias_bomb_is_refused_quickly(run):
    import time

    lines = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 9)]
    started = time.perf_counter()
    errors = run("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 2
    # stopped at the alias that crosses the cap: the third *a4 on line 6
    assert errors == [
        "BAD:6:22: aliases expand this file past 250,000 values (an alias bomb?): write the "
        "repeated parts out instead"
    ]


def test_too_many_aliases(run):
    text = "x: &x 1\nitems:\n" + "".join("  - *x\n" for _ in range(51))
    assert run(text) == [
        "BAD:53:5: the file uses more than 50 aliases (*name): write the repeated parts out instead"
    ]


def test_too_deep(run):
    text = "".join("  " * depth + f"k{depth}:\n" for depth in range(40)) + "  " * 40 + "end\n"
    assert run(text, dedent=False) == [f"BAD:33:65: {TOO_DEEP}"]


def test_python_tag(run):
    text = GOOD.replace("title: Bad", "title: !!python/object/apply:os.system ['echo pwned']")
    assert run(text) == [
        "BAD:3:10: Python tags are not allowed (!!python/object/apply:os.system): curriculum "
        "files hold plain data only; remove the tag",
    ]


def test_yaml_syntax_error(run):
    assert run(GOOD.replace("requires: [alpha]", "requires: [alpha")) == [
        "BAD:5:10: the file is not valid YAML here (did not find expected ',' or ']' while "
        "parsing a flow sequence): check this line and the one before it for a missing quote, "
        "bracket or colon, or a slip in the indentation",
    ]


def test_empty_file_second_document_and_not_a_mapping(run):
    assert run("") == [
        "BAD:1:1: the file is empty: start it with `track:` and put the track's keys under it"
    ]
    assert run("- a\n- b\n") == [
        "BAD:1:1: the file must start with `track:` and hold the track's keys under it, not a list"
    ]
    assert run("track: [1]\n") == [
        "BAD:1:8: track: write the track as key: value lines (`slug: ...`, `title: ...` and so "
        "on), not a list"
    ]
    assert run(GOOD + "---\ntrack: {}\n") == [
        "BAD:25:1: a file holds one track: remove the second '---' and what follows it, or move "
        "that to a file of its own"
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
        f"{tmp_path}/empty:1:1: this folder has no .yaml or .yml files: name the files "
        "themselves, or the folder that holds them",
        f"{tmp_path}/nope.yaml:1:1: no such file or folder: check the path",
    ]


def test_smaller_rules(run):
    assert run(
        GOOD.replace("title: Bad", 'title: "  "').replace(
            "requires: [first]", "requires: [first, first]"
        )
    ) == [
        "BAD:3:10: track (`bad`): `title` is empty: fill it in",
        "BAD:18:25: module 2 (`second`): `requires` lists `first` twice: remove one of them",
    ]
    assert run("track:\n  slug: bad\n  title: Bad\n  modules: []\n") == [
        "BAD:4:12: track (`bad`): `modules` lists no module: add at least one (a track needs one)",
    ]
    assert run(GOOD.replace("title: Video", "title: " + "v" * 301)) == [
        "BAD:10:18: module 1 (`first`), resource 1 (`video`): `title` is 301 characters long: "
        "shorten it to at most 300",
    ]
    assert run(GOOD.replace("title: Video", "title: Vid\x01eo")) == [
        "BAD:10:21: the character U+0001 is not allowed in YAML: remove it",
    ]
    assert run(GOOD.replace("optional: false", "optional: true\n          choice: pick")) == [
        "BAD:15:21: module 1 (`first`), resource 1 (`video`): a resource in a choice group "
        "cannot also be optional (the group is the choice): remove `optional: true`, or leave "
        "`choice` out",
        "BAD:16:19: module 1 (`first`), resource 1 (`video`): no other resource of this module "
        "is in the choice group `pick`, and a group needs at least 2: give another resource of "
        "the module `choice: pick`, or leave `choice` out",
    ]


def test_requiring_an_archived_track(run, tmp_path):
    (tmp_path / "old.yaml").write_text(ALPHA.replace("slug: alpha", "slug: old"))
    load_paths([str(tmp_path / "old.yaml")])
    load_paths([str(tmp_path / "alpha.yaml")], prune=True)
    assert run(GOOD.replace("requires: [alpha]", "requires: [old]")) == [
        "BAD:4:14: track (`bad`): `requires` names the track `old`, which is archived: load its "
        "file in this run to restore it, or remove it from here",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "track:\n  slug: x\n\ttitle: y\n",
            "BAD:3:1: a tab is used for indentation: indent with spaces (YAML does not allow tabs)",
        ),
        ("a: b\x01c\n", "BAD:1:5: the character U+0001 is not allowed in YAML: remove it"),
        (
            "a: !!python/name:os.system\n",
            "BAD:1:4: Python tags are not allowed (!!python/name:os.system): "
            "curriculum files hold plain data only; remove the tag",
        ),
        ("[" * 5000 + "]" * 5000, f"BAD:1:33: {TOO_DEEP}"),
        ("a: 1\na: 2\n", "BAD:2:1: `a` is given twice here (first at line 1): keep one of them"),
    ],
)
def test_the_pure_python_parser_gives_the_same_errors(run, monkeypatch, text, expected):
    """Where libyaml is missing, PyYAML's SafeLoader is used: same checks, same positions."""
    import yaml

    from curriculum.loader import parse

    monkeypatch.setattr(parse, "Loader", yaml.SafeLoader)
    assert run(text, dedent=False) == [expected]


def test_an_unquoted_colon_in_text_says_to_quote_it(run, monkeypatch):
    """libyaml said "mapping values are not allowed in this context"; the pure-Python parser
    says "... here". Both read as the one thing a lead did: a title with ": " in it."""
    import yaml

    from curriculum.loader import parse

    text = GOOD.replace("title: First", "title: Lesson 1: first")
    expected = [
        "BAD:7:22: a colon followed by a space starts a new key here: put the text in quotes if "
        'it holds ": " (title: "Lesson 1: intro")'
    ]
    assert run(text) == expected
    monkeypatch.setattr(parse, "Loader", yaml.SafeLoader)
    assert run(text) == expected
