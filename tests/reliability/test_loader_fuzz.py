"""Fuzzing the curriculum loader: whatever text a file holds, loading it either succeeds or
raises `CurriculumInvalid` with file:line:column messages, never anything else, and each file
takes well under a second. Three kinds of input: arbitrary text, YAML built from the format's
own keys with hostile values, and real seed files with random edits."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from curriculum.loader import CurriculumInvalid, load_paths

pytestmark = pytest.mark.django_db
# `track.modules[1]`, `resources[0]`...: how messages named items before they used words.
DATA_PATH = re.compile(
    r"track\.(modules|requires|tags|leads|source)|(modules|resources|capstones)\["
)
SEEDS = sorted((Path(__file__).resolve().parents[2] / "seeds").glob("*.yaml"))
SEED_TEXTS = [path.read_text(encoding="utf-8") for path in SEEDS]
KEYS = [
    "track",
    "slug",
    "title",
    "level",
    "tags",
    "summary",
    "modules",
    "module",
    "resources",
    "kind",
    "url",
    "minutes",
    "points",
    "requires",
    "prerequisites",
    "weeks",
    "days",
    "notes",
    "optional",
    "choice",
    "choose",
    "capstones",
    "brief",
    "constraints",
    "review",
    "item",
    "leads",
    "format",
    "text",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=80),
    st.sampled_from(
        [
            "video",
            "paper",
            "notebook",
            "exercise",
            "course",
            "track",
            "beginner",
            "lead",
            "self",
            "peer",
            "https://example.com/x",
            "javascript:alert(1)",
            "a\x00b",
            "\ud800",
            "x" * 5000,
            "-",
            "../../etc/passwd",
            "<script>alert(1)</script>",
            "2024-02-30",
        ]
    ),
)
TREE = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=12)), children, max_size=8
        ),
    ),
    max_leaves=60,
)
HANDCRAFTED = [
    "",
    "\x00",
    "track: &a [*a]",
    'a: &a ["lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n'
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
    "!!python/object/apply:os.system ['echo pwned']",
    'track: {slug: "a\\0b", title: "T\\0", modules: []}',
    # Valid in every way but a NUL written as an escape: PostgreSQL would refuse the row.
    "track:\n  slug: ok\n  title: T\n  modules:\n    - slug: m\n      title: M\n"
    "      resources:\n        - {slug: r, title: \"x\\0\", kind: video, url: 'https://example.com/'}\n",
    'track:\n  slug: ok\n  title: "\\ud800"\n',
    "[" * 10_000,
    "a:\n" + "  " * 2000 + "b: 1",
    "\ufeff" + "track: x",
]


def mutated_seed() -> st.SearchStrategy[str]:
    """A seed file with a few random deletions, insertions or replacements."""

    @st.composite
    def build(draw) -> str:
        text = draw(st.sampled_from(SEED_TEXTS))
        for _ in range(draw(st.integers(min_value=1, max_value=5))):
            at = draw(st.integers(min_value=0, max_value=max(len(text) - 1, 0)))
            span = draw(st.integers(min_value=0, max_value=40))
            insert = draw(
                st.text(max_size=20) | st.sampled_from(["\n", ": ", "- ", "  ", "&a", "*a", "\\0"])
            )
            text = text[:at] + insert + text[at + span :]
        return text

    return build()


def yaml_tree() -> st.SearchStrategy[str]:
    return TREE.map(lambda tree: yaml.safe_dump({"track": tree}, allow_unicode=True))


def load_once(tmp_path: Path, text: str) -> None:
    """Load one file for real (writes and all), then roll the writes back."""
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    started, cpu_started = time.perf_counter(), time.thread_time()
    try:
        with transaction.atomic():
            load_paths([str(path)])
            transaction.set_rollback(True)
    except CurriculumInvalid as invalid:
        assert invalid.errors and all(":" in line for line in invalid.errors)
        # Items are named by place and slug ("module 2 (`intro`)"), never by a data path.
        assert not any(DATA_PATH.search(line) for line in invalid.errors), invalid.errors
    # The budget is the loader's own work: a second of this thread's CPU. The wall clock also
    # counts waiting for a machine shared with other test runs, so it only guards against hangs.
    cpu = time.thread_time() - cpu_started
    elapsed = time.perf_counter() - started
    assert cpu < 1.0, f"{cpu:.2f} s of CPU"
    assert elapsed < 5.0, f"{elapsed:.2f} s"


FUZZ = settings(
    max_examples=120,
    deadline=None,  # load_once asserts the one-second budget itself
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("text", HANDCRAFTED, ids=range(len(HANDCRAFTED)))
def test_hostile_files_are_refused_with_messages(tmp_path, text):
    load_once(tmp_path, text)


@FUZZ
@given(text=st.text(max_size=2000))
@example(text="track:\n  slug: a\n  title: \u202e")
def test_arbitrary_text(tmp_path, text):
    load_once(tmp_path, text)


@FUZZ
@given(text=yaml_tree())
def test_yaml_made_of_the_formats_keys(tmp_path, text):
    load_once(tmp_path, text)


@FUZZ
@given(text=mutated_seed())
def test_seed_files_with_random_edits(tmp_path, text):
    load_once(tmp_path, text)


def test_the_seeds_themselves_load(tmp_path):
    """The fuzz starts from files that are valid: mutations near valid input reach deep."""
    for text in SEED_TEXTS[:1]:
        path = tmp_path / "seed.yaml"
        path.write_text(text, encoding="utf-8")
        with transaction.atomic():
            report = load_paths([str(path)])
            transaction.set_rollback(True)
        assert report.tracks == 1
