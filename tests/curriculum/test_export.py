"""`export_curriculum`: the YAML a track lead gets back, and the export → load round trip."""

from __future__ import annotations

import io
import string

import pytest
import yaml
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curriculum.exporter import track_export_yaml
from curriculum.loader import load_paths
from curriculum.models import Level, ResourceKind, ReviewMode

pytestmark = pytest.mark.django_db

TRACK = """\
track:
  slug: demo
  title: Demo
  summary: |
    Two paragraphs.

    The *second*.
  level: advanced
  tags: [vision]
  modules:
    - slug: one
      title: One
      weeks: 1
      resources:
        - slug: a
          title: "yes"
          kind: video
          minutes: 30
          optional: false
        - slug: gone
          title: Gone
          kind: quiz
    - slug: two
      title: Two
      requires: [one]
      weeks: 0
      resources:
        - {slug: b, title: B, kind: book, choice: pick, points: 5, url: "https://example.com/b"}
        - {slug: c, title: C, kind: talk, choice: pick}
      capstones:
        - slug: cap
          title: Cap
          brief: Do it.
          points: 100
          review: self
"""


def export(slug: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("export_curriculum", slug, stdout=out, stderr=err)
        return 0, out.getvalue(), err.getvalue()
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()


def test_export_writes_documented_order_without_defaults_or_archived_items(tmp_path):
    (tmp_path / "demo.yaml").write_text(TRACK)
    load_paths([str(tmp_path / "demo.yaml")])
    (tmp_path / "demo.yaml").write_text(
        TRACK.replace("        - slug: gone\n          title: Gone\n          kind: quiz\n", "")
    )
    load_paths([str(tmp_path / "demo.yaml")])  # archives "gone"

    code, out, err = export("demo")
    assert (code, err) == (0, "")
    assert out == (
        "track:\n"
        "  slug: demo\n"
        "  title: Demo\n"
        "  summary: |\n"
        "    Two paragraphs.\n"
        "\n"
        "    The *second*.\n"
        "  level: advanced\n"
        "  tags:\n"
        "    - vision\n"
        "  modules:\n"
        "    - slug: one\n"
        "      title: One\n"
        "      resources:\n"
        "        - slug: a\n"
        "          title: 'yes'\n"
        "          kind: video\n"
        "          minutes: 30\n"
        "    - slug: two\n"
        "      title: Two\n"
        "      requires:\n"
        "        - one\n"
        "      weeks: 0\n"
        "      resources:\n"
        "        - slug: b\n"
        "          title: B\n"
        "          kind: book\n"
        "          url: https://example.com/b\n"
        "          points: 5\n"
        "          choice: pick\n"
        "        - slug: c\n"
        "          title: C\n"
        "          kind: talk\n"
        "          choice: pick\n"
        "      capstones:\n"
        "        - slug: cap\n"
        "          title: Cap\n"
        "          brief: Do it.\n"
        "          review: self\n"
    )
    (tmp_path / "exported.yaml").write_text(out)
    report = load_paths([str(tmp_path / "exported.yaml")])
    assert report.summary_line() == "created 0, updated 0, archived 0, unchanged 7"


def test_unknown_or_archived_track_is_a_clear_error(tmp_path):
    code, out, err = export("nope")
    assert (code, out, err) == (1, "", "unknown track 'nope' (known: none)\n")
    (tmp_path / "demo.yaml").write_text(TRACK)
    (tmp_path / "other.yaml").write_text(TRACK.replace("slug: demo", "slug: other"))
    load_paths([str(tmp_path / "demo.yaml"), str(tmp_path / "other.yaml")])
    assert export("nope")[2] == "unknown track 'nope' (known: demo, other)\n"
    load_paths([str(tmp_path / "other.yaml")], prune=True)
    assert export("demo") == (1, "", "track 'demo' is archived; only active tracks are exported\n")


# --- property: generated tracks survive export → load unchanged -----------------------------

slugs = st.from_regex(r"[a-z0-9][a-z0-9-]{0,11}", fullmatch=True)
# The track that generated resources of kind track name, loaded in the same run.
BASE_SLUG = "base-track"
BASE_TRACK = f"""\
track:
  slug: {BASE_SLUG}
  title: Base
  modules:
    - slug: only
      title: Only
      resources:
        - {{slug: a, title: A, kind: video}}
"""
# Printable text, as a person types it (YAML cannot carry most control characters anyway).
words = st.text(
    alphabet=st.characters(
        categories=("L", "N", "P", "S", "Zs"), exclude_characters="\x85\u2028\u2029\ufeff"
    ),
    min_size=1,
    max_size=30,
).filter(str.strip)
markdown = st.lists(words, min_size=1, max_size=4).map(lambda lines: "\n".join(lines))
optional_text = st.one_of(st.none(), words, markdown)


@st.composite
def resources(draw, prefix: str):
    count = draw(st.integers(0, 4))
    items = []
    for n in range(count):
        item = {
            "slug": f"{prefix}-r{n}",
            "title": draw(words),
            "kind": draw(st.sampled_from(ResourceKind.values)),
        }
        if item["kind"] == ResourceKind.TRACK:  # format 1.1: another track (loaded beside it)
            item["track"] = BASE_SLUG
        for key, strategy in (
            ("url", st.sampled_from(["https://example.com/x", "http://example.org/a?b=1#c"])),
            ("minutes", st.integers(0, 10_000)),
            ("points", st.integers(0, 10_000)),
            ("optional", st.booleans()),
            ("notes", optional_text),
        ):
            value = draw(st.one_of(st.none(), strategy))
            if value is not None and not (key == "url" and "track" in item):
                item[key] = value
        items.append(item)
    choose = {}
    if count >= 2 and draw(st.booleans()):  # a choice group of the first two or more
        members = draw(st.integers(2, count))
        for item in items[:members]:
            item["choice"] = "pick"
            item.pop("optional", None)
        if draw(st.booleans()):  # format 1.1: finish N of them
            choose["pick"] = draw(st.integers(1, members))
    return items, choose


@st.composite
def capstones(draw, prefix: str):
    items = []
    for n in range(draw(st.integers(0, 2))):
        item = {"slug": f"{prefix}-c{n}", "title": draw(words), "brief": draw(markdown)}
        if draw(st.booleans()):
            item["constraints"] = draw(st.lists(words, max_size=3))
        if draw(st.booleans()):
            item["points"] = draw(st.integers(0, 10_000))
        if draw(st.booleans()):
            item["review"] = draw(st.sampled_from(ReviewMode.values))
        if draw(st.booleans()):
            item["optional"] = draw(st.booleans())
        if draw(st.booleans()):  # a team capstone (cohorts)
            item["team"] = draw(st.booleans())
        items.append(item)
    return items


@st.composite
def tracks(draw):
    module_slugs = draw(st.lists(slugs, min_size=1, max_size=4, unique=True))
    modules = []
    for index, slug in enumerate(module_slugs):
        module = {"slug": slug, "title": draw(words)}
        if draw(st.booleans()):
            module["summary"] = draw(markdown)
        if index and draw(st.booleans()):  # only earlier modules: never a cycle
            module["requires"] = draw(
                st.lists(st.sampled_from(module_slugs[:index]), min_size=1, unique=True)
            )
        pacing = draw(st.sampled_from(["none", "weeks", "days"]))
        if pacing == "weeks":
            module["weeks"] = draw(st.integers(0, 520))
        elif pacing == "days":
            module["days"] = draw(st.integers(0, 3640))
        module["resources"], choose = draw(resources(f"m{index}"))
        if choose:
            module["choose"] = choose
        module["capstones"] = draw(capstones(f"m{index}"))
        modules.append(module)
    track = {"slug": draw(slugs.filter(lambda slug: slug != BASE_SLUG)), "title": draw(words)}
    if draw(st.booleans()):
        track["summary"] = draw(markdown)
    if draw(st.booleans()):
        track["prerequisites"] = draw(markdown)
    if draw(st.booleans()):
        track["level"] = draw(st.sampled_from(Level.values))
    if draw(st.booleans()):
        track["tags"] = draw(
            st.lists(
                st.text(string.ascii_lowercase + "- ", min_size=1, max_size=12).filter(str.strip),
                max_size=3,
            )
        )
    track["modules"] = modules
    return {"track": track}


class _Rollback(Exception):
    pass


@pytest.mark.django_db
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=tracks())
def test_export_then_load_round_trips(tmp_path, document):
    source = tmp_path / "generated.yaml"
    source.write_text(
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    base = tmp_path / "base.yaml"
    base.write_text(BASE_TRACK, encoding="utf-8")
    slug = document["track"]["slug"]
    try:
        with transaction.atomic():  # each example starts from an empty curriculum
            first = load_paths([str(base), str(source)])
            assert first.updated == first.archived == first.unchanged == 0
            first.created -= 3  # the base track, its module and its resource
            exported = track_export_yaml(slug=slug)
            (tmp_path / "exported.yaml").write_text(exported, encoding="utf-8")
            again = load_paths([str(tmp_path / "exported.yaml")])
            assert (again.created, again.updated, again.archived) == (0, 0, 0)
            assert again.unchanged == first.created
            assert track_export_yaml(slug=slug) == exported
            raise _Rollback
    except _Rollback:
        pass
