"""The five seed tracks in `seeds/` load cleanly and keep the promises of issue 2 ("Seed tracks"):
what a learner browsing them would notice is there, in the right order, with the right rules."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

from curriculum.loader import load_paths
from curriculum.models import Capstone, Module, Resource, ResourceKind, Track

SEEDS = Path(settings.BASE_DIR) / "seeds"
SEED_SLUGS = {
    "techlabs-ai",
    "fastai-part1",
    "tensorflow-deep-learning",
    "nvidia-dli-cv",
    "learning-deep-learning",
}
FRAMEWORK_RULE = "Only PyTorch, TensorFlow or MXNet; no fastai or Keras"

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):
    load_paths([str(SEEDS)])


def modules_of(slug: str) -> list[Module]:
    return list(
        Module.objects.active()
        .filter(track__slug=slug)
        .order_by("position")
        .prefetch_related("resources", "capstones", "requires")
    )


def test_the_five_seed_tracks_load(seeded):
    assert set(Track.objects.active().values_list("slug", flat=True)) == SEED_SLUGS
    assert sorted(path.name for path in SEEDS.glob("*.yaml")) == sorted(
        f"{slug}.yaml" for slug in SEED_SLUGS
    )


def test_fastai_has_seven_chained_lessons_each_with_homework(seeded):
    lessons = modules_of("fastai-part1")
    assert [m.slug for m in lessons] == [f"lesson-{n}" for n in range(1, 8)]
    for number, lesson in enumerate(lessons, start=1):
        kinds = [r.kind for r in lesson.resources.all()]
        assert ResourceKind.VIDEO in kinds and ResourceKind.NOTEBOOK in kinds, lesson.slug
        homework = [r for r in lesson.resources.all() if r.kind == ResourceKind.EXERCISE]
        assert len(homework) == 1 and not homework[0].optional, lesson.slug
        expected_requires = [] if number == 1 else [f"lesson-{number - 1}"]
        assert [m.slug for m in lesson.requires.all()] == expected_requires


def test_learning_deep_learning_has_six_stages_one_deep_dive_choice_and_two_capstones(seeded):
    stages = modules_of("learning-deep-learning")
    assert len(stages) == 6
    assert stages[0].title.endswith("A Practical Encounter")
    assert stages[2].title.endswith("Deep Dive")

    deep_dive = [r for r in stages[2].resources.all() if r.choice]
    assert {r.choice for r in deep_dive} == {"deep-dive-route"}
    titles = " | ".join(r.title for r in deep_dive)
    assert len(deep_dive) == 3
    assert (
        "Deep Learning Specialization" in titles
        and "Dive into Deep Learning" in titles
        and "6.S191" in titles
    )

    capstones = (
        Capstone.objects.active()
        .filter(track__slug="learning-deep-learning")
        .order_by("module__position")
    )
    assert [c.module.slug for c in capstones] == [stages[3].slug, stages[5].slug]
    for capstone in capstones:
        assert FRAMEWORK_RULE in capstone.constraints
        assert any("Jupyter notebook" in rule for rule in capstone.constraints)


def test_techlabs_covers_the_topic_list_with_explicit_points_and_ends_in_a_team_project(seeded):
    modules = modules_of("techlabs-ai")
    assert len(modules) >= 10
    resources = Resource.objects.active().filter(track__slug="techlabs-ai")
    assert resources.filter(points_override__isnull=True).count() == 0
    # The platform awarded a point per minute of work.
    assert all(r.points == r.minutes for r in resources)
    assert resources.filter(kind=ResourceKind.PAPER, optional=False).count() == 0
    assert {
        ResourceKind.VIDEO,
        ResourceKind.COURSE,
        ResourceKind.PAPER,
        ResourceKind.EXERCISE,
    } <= set(resources.values_list("kind", flat=True))
    assert [c.slug for c in modules[-1].capstones.all()] == ["team-project"]


def test_tensorflow_has_a_milestone_capstone_and_ends_with_the_certificate(seeded):
    modules = modules_of("tensorflow-deep-learning")
    assert Capstone.objects.active().filter(track__slug="tensorflow-deep-learning").exists()
    final = list(modules[-1].resources.all())
    assert any("Certificate" in r.title and not r.optional for r in final)
    assert modules[-1].capstones.count() == 0


def test_nvidia_is_a_one_day_workshop_ending_with_a_lead_reviewed_assessment(seeded):
    modules = modules_of("nvidia-dli-cv")
    assert {m.weeks for m in modules} == {0}
    assert [c.review for c in modules[-1].capstones.all()] == ["lead"]
    assert all(m.capstones.count() == 0 for m in modules[:-1])


def test_loading_the_seeds_again_changes_nothing(seeded):
    out = StringIO()
    call_command("load_curriculum", str(SEEDS), stdout=out)
    last_line = out.getvalue().strip().splitlines()[-1]
    assert last_line.startswith("created 0, updated 0, archived 0, unchanged ")
    assert last_line != "created 0, updated 0, archived 0, unchanged 0"


def _urls(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "url":
                yield value
            yield from _urls(value)
    elif isinstance(node, list):
        for item in node:
            yield from _urls(item)


def test_every_url_in_the_seeds_is_https():
    texts = [path.read_text("utf-8") for path in SEEDS.glob("*.yaml")]
    urls = [url for text in texts for url in _urls(yaml.safe_load(text))]
    markdown_links = [url for text in texts for url in re.findall(r"\]\((\w+:[^)\s]*)\)", text)]
    assert len(urls) > 50 and markdown_links
    assert [url for url in urls + markdown_links if not url.startswith("https://")] == []
