"""The five seed tracks in `seeds/` load cleanly and keep to their posts (issue 11): the
structure each post states (modules and their order, what is optional, which capstones exist
and how their constraints read), nothing shown to learners as fact that the post does not
say, and what a seed fills in presented as Waymark's: each seed names its post (`source`) and
tags the items the post does not name (`filled_in`)."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

from curriculum.exporter import track_export_yaml
from curriculum.loader import load_paths
from curriculum.models import Capstone, Module, Resource, ResourceKind, Track
from tests.factories import UserFactory
from tracker import services
from tracker.models import Certificate, Progress, ProgressStatus

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


def flat(text: str) -> str:
    """Text with its line breaks and runs of spaces as single spaces (YAML blocks wrap)."""
    return " ".join(text.split())


def modules_of(slug: str) -> list[Module]:
    return list(
        Module.objects.active()
        .filter(track__slug=slug)
        .order_by("position")
        .prefetch_related("resources", "capstones", "requires")
    )


def capstones_of(slug: str) -> list[Capstone]:
    return list(
        Capstone.objects.active().filter(track__slug=slug).order_by("module__position", "position")
    )


def learner_visible_text(slug: str) -> str:
    """Everything of a track a learner can read on its pages."""
    track = Track.objects.get(slug=slug)
    parts = [track.title, track.summary, track.prerequisites]
    for module in modules_of(slug):
        parts += [module.title, module.summary]
        for resource in module.resources.all():
            parts += [resource.title, resource.notes]
        for capstone in module.capstones.all():
            parts += [capstone.title, capstone.brief, *capstone.constraints]
    return "\n".join(parts)


# --- every seed -------------------------------------------------------------------------------


def test_the_five_seed_tracks_load(seeded):
    assert set(Track.objects.active().values_list("slug", flat=True)) == SEED_SLUGS
    assert sorted(path.name for path in SEEDS.glob("*.yaml")) == sorted(
        f"{slug}.yaml" for slug in SEED_SLUGS
    )


def test_loading_the_seeds_again_changes_nothing(seeded):
    out = StringIO()
    call_command("load_curriculum", str(SEEDS), stdout=out)
    last_line = out.getvalue().strip().splitlines()[-1]
    assert last_line.startswith("created 0, updated 0, archived 0, unchanged ")
    assert last_line != "created 0, updated 0, archived 0, unchanged 0"


@pytest.mark.parametrize("slug", sorted(SEED_SLUGS))
def test_exporting_a_seed_and_loading_it_back_changes_nothing(seeded, tmp_path, slug):
    (tmp_path / f"{slug}.yaml").write_text(track_export_yaml(slug=slug), encoding="utf-8")
    report = load_paths([str(tmp_path / f"{slug}.yaml")])
    assert (report.created, report.updated, report.archived) == (0, 0, 0)


def test_module_titles_carry_no_number_of_their_own(seeded):
    """The track page numbers modules ("1. A Practical Encounter"): a title that numbers
    itself would read "1. 1. A Practical Encounter"."""
    numbered = re.compile(r"^\s*(\d|(lesson|stage|part|module|step|week)\s*\d)", re.IGNORECASE)
    titles = Module.objects.active().values_list("track__slug", "title")
    assert [(slug, title) for slug, title in titles if numbered.match(title)] == []


@pytest.mark.parametrize("slug", sorted(SEED_SLUGS))
def test_each_seed_says_what_is_waymarks_and_its_yaml_says_why(seeded, slug):
    summary = Track.objects.get(slug=slug).summary
    assert "**What is Waymark's here.**" in summary or "**Which edition.**" in summary
    assert "Waymark" in summary
    comments = [
        line
        for line in (SEEDS / f"{slug}.yaml").read_text("utf-8").splitlines()
        if line.lstrip().startswith("#")
    ]
    assert any("Reconstructed" in line for line in comments), slug
    assert any("What the post states" in line for line in comments), slug


def test_no_seed_claims_a_points_rate(seeded):
    for slug in SEED_SLUGS:
        assert "per minute" not in learner_visible_text(slug).lower(), slug


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


# --- post 000: TechLabs Berlin, the AI track -----------------------------------------------------

TECHLABS_TOPICS = [
    ("nn-and-deep-learning-overview", "Neural networks and deep learning overview"),
    ("image-classification-and-segmentation", "Image classification and segmentation"),
    ("training-neural-networks", "Training neural networks"),
    ("cnn-theory", "Theory behind convolutional neural networks"),
    ("object-detection", "Object detection"),
    ("nlp", "Natural language processing"),
    ("collaborative-filtering-and-embeddings", "Collaborative filtering and embeddings"),
    ("rnns", "Recurrent neural networks"),
    ("generative-networks", "Generative (adversarial) networks"),
    ("ml-strategy", "ML strategy"),
]


def test_techlabs_has_the_posts_ten_topics_in_order_then_the_project_phase(seeded):
    modules = modules_of("techlabs-ai")
    assert [(m.slug, m.title) for m in modules[:-1]] == TECHLABS_TOPICS
    assert modules[-1].slug == "project-phase"
    # The post lists the topics without chaining them; only the project phase comes after.
    assert all(not m.requires.exists() for m in modules[:-1])
    assert {m.slug for m in modules[-1].requires.all()} == {slug for slug, _ in TECHLABS_TOPICS}
    # "A couple of weeks" of learning in all: the topics are paced in days.
    assert all(m.days is not None and m.weeks == 0 for m in modules[:-1])


def test_techlabs_papers_are_optional_one_or_two_a_topic_and_each_topic_has_its_rhythm(seeded):
    for module in modules_of("techlabs-ai")[:-1]:
        resources = list(module.resources.all())
        papers = [r for r in resources if r.kind == ResourceKind.PAPER]
        assert 1 <= len(papers) <= 2 and all(r.optional for r in papers), module.slug
        assert any(r.kind == ResourceKind.EXERCISE and not r.optional for r in resources)
        assert any(r.kind in (ResourceKind.VIDEO, ResourceKind.COURSE) for r in resources)


def test_techlabs_points_claim_no_platform_rate(seeded):
    resources = Resource.objects.active().filter(track__slug="techlabs-ai")
    assert not resources.filter(points_override__isnull=False).exists()
    summary = flat(Track.objects.get(slug="techlabs-ai").summary)
    assert "awarded points for every finished task without the post saying how many" in summary
    prerequisites = flat(Track.objects.get(slug="techlabs-ai").prerequisites)
    assert "the only TechLabs track that required previous knowledge" in prerequisites


def test_techlabs_ends_in_a_required_team_project(seeded):
    [capstone] = capstones_of("techlabs-ai")
    assert (capstone.slug, capstone.optional, capstone.module.slug) == (
        "team-project",
        False,
        "project-phase",
    )
    assert capstone.constraints == [
        "Built together with people from other TechLabs tracks",
        "Delivers a tech product",
        "Waymark's suggestion: the deep-learning part is your own work, in the team's repository",
    ]


# --- post 001: TensorFlow for Deep Learning --------------------------------------------------------


def test_tensorflow_follows_the_course_notebooks_in_order(seeded):
    assert [m.slug for m in modules_of("tensorflow-deep-learning")] == [
        "tensorflow-fundamentals",
        "neural-network-regression",
        "neural-network-classification",
        "convolutional-neural-networks",
        "transfer-learning-feature-extraction",
        "transfer-learning-fine-tuning",
        "transfer-learning-scaling-up",
        "food-vision-milestone",
        "natural-language-processing",
        "skimlit-milestone",
        "time-series-forecasting",
        "tensorflow-developer-certificate",
    ]
    summary = flat(Track.objects.get(slug="tensorflow-deep-learning").summary)
    assert "couldn't remember the exact order" in summary


def test_tensorflow_certificate_exam_is_optional_as_the_author_is_lukewarm(seeded):
    final = modules_of("tensorflow-deep-learning")[-1]
    resources = list(final.resources.all())
    assert any("Certificate exam" in r.title for r in resources)
    assert all(r.optional for r in resources)
    assert "not a big fan of certificates" in flat(final.summary)
    assert "the track is complete without it" in flat(final.summary)


def test_tensorflow_exercises_and_capstone_are_waymarks_and_optional(seeded):
    exercises = Resource.objects.active().filter(
        track__slug="tensorflow-deep-learning", kind=ResourceKind.EXERCISE
    )
    assert exercises.count() == 10
    assert all(r.optional and "(Waymark's suggestion)" in r.title for r in exercises)
    [capstone] = capstones_of("tensorflow-deep-learning")
    assert (capstone.slug, capstone.optional, capstone.review) == ("food-vision-big", True, "self")
    assert capstone.brief.startswith("*Waymark's suggested capstone, optional:*")
    assert capstone.constraints == [
        "TensorFlow with Keras; transfer learning from a pretrained image model is expected",
        "Input pipeline with tf.data: map, batch and prefetch",
        "Top-1 accuracy on the Food101 test split above 77.4%",
    ]


def test_tensorflow_says_where_the_posts_theory_link_leads(seeded):
    video = Resource.objects.get(slug="mit-intro-to-deep-learning-lecture")
    assert video.title.startswith("The theory video the post links")
    assert video.url == "https://www.youtube.com/watch?v=njKP3FqW3Sk"
    assert "browser-check page" in flat(video.notes)


# --- post 002: the NVIDIA DLI workshop ----------------------------------------------------------


def test_nvidia_is_a_one_day_workshop_with_an_optional_assessment(seeded):
    modules = modules_of("nvidia-dli-cv")
    assert [m.slug for m in modules] == ["before-the-day", "workshop-day"]
    day = modules[1]
    assert (day.days, day.weeks, day.hint_label) == (1, 0, "1 day")
    [capstone] = capstones_of("nvidia-dli-cv")
    assert (capstone.slug, capstone.optional, capstone.review) == ("dli-assessment", True, "lead")
    assert capstone.constraints == [
        "Waymark's suggestion, after the workshop's order of attack: start from an existing "
        "network (use, retrain or modify it) rather than design one from scratch",
        "Waymark's suggestion: include training and validation results, not only the final model",
    ]
    prerequisites = flat(Track.objects.get(slug="nvidia-dli-cv").prerequisites)
    assert "**Python** is useful but not essential" in prerequisites
    assert "**Chrome**" in prerequisites


def test_nvidia_completes_without_the_optional_assessment(seeded):
    learner = UserFactory()
    track = Track.objects.get(slug="nvidia-dli-cv")
    services.enrolment_join(learner=learner, track=track)
    for resource in Resource.objects.active().filter(track=track, optional=False):
        services.progress_set_status(learner=learner, resource=resource, status="done")
    assert Certificate.objects.filter(learner=learner, track=track).exists()


# --- post 003: fast.ai Practical Deep Learning for Coders, Part 1 (2018/19) -------------------------


def test_fastai_has_seven_chained_lessons_with_the_posts_homework(seeded):
    lessons = modules_of("fastai-part1")
    assert [m.slug for m in lessons] == [f"lesson-{n}" for n in range(1, 8)]
    assert [m.title for m in lessons] == [
        "Image classification",
        "Computer vision, deeper applications",
        "Multi-label, segmentation, image regression and more",
        "NLP, tabular data and collaborative filtering",
        "Foundations of neural networks",
        "Regularisation and CNNs",
        "ResNets, U-Nets, GANs and RNNs",
    ]
    for number, lesson in enumerate(lessons, start=1):
        assert lesson.summary.startswith(f"Lesson {number}")
        kinds = [r.kind for r in lesson.resources.all()]
        assert ResourceKind.VIDEO in kinds and ResourceKind.NOTEBOOK in kinds, lesson.slug
        [exercise] = [r for r in lesson.resources.all() if r.kind == ResourceKind.EXERCISE]
        if number <= 4:  # the post gives homework for lessons 1 to 4
            assert exercise.title.startswith("Homework") and not exercise.optional
        else:  # and none after: Waymark's suggestion, optional
            assert "(Waymark's suggestion)" in exercise.title and exercise.optional
        expected_requires = [] if number == 1 else [f"lesson-{number - 1}"]
        assert [m.slug for m in lesson.requires.all()] == expected_requires
    assert capstones_of("fastai-part1") == []


def test_fastai_names_its_edition_and_its_lost_links(seeded):
    track = Track.objects.get(slug="fastai-part1")
    assert "2018/19" in track.title and "course19.fast.ai" in track.summary
    videos = Resource.objects.active().filter(track=track, kind=ResourceKind.VIDEO)
    assert videos.count() == 7
    assert all(v.url.startswith("https://course19.fast.ai/") for v in videos)
    notes = Resource.objects.active().filter(track=track, slug__endswith="-notes")
    assert notes.count() == 7
    assert all("did not survive" in flat(r.notes) and r.optional for r in notes)
    assert "**high-school maths**" in flat(track.prerequisites)
    assert "GPU" in track.prerequisites


# --- post 004: Learning Deep Learning -----------------------------------------------------------


def test_learning_deep_learning_has_the_six_stages_in_order(seeded):
    assert [(m.slug, m.title) for m in modules_of("learning-deep-learning")] == [
        ("practical-encounter", "A Practical Encounter"),
        ("mathematical-foundations", "Mathematical Foundations"),
        ("deep-dive", "Deep Dive"),
        ("capstone-project-1", "Capstone Project I"),
        ("deep-reinforcement-learning", "Deep Reinforcement Learning"),
        ("capstone-project-2", "Capstone Project II"),
    ]


def test_the_first_stage_is_the_fastai_track(seeded):
    stage = modules_of("learning-deep-learning")[0]
    course = stage.resources.get(kind=ResourceKind.TRACK)
    assert course.linked_track.slug == "fastai-part1" and not course.optional
    assert course.url == ""
    lost = stage.resources.filter(slug__in=["google-deep-learning-talk", "isikdogan-mini-course"])
    assert all(r.optional and not r.url and "link" in r.title and "lost" in r.title for r in lost)


def test_the_deep_dive_routes_can_and_should_be_combined_and_one_completes(seeded):
    deep_dive = modules_of("learning-deep-learning")[2]
    routes = [r for r in deep_dive.resources.all() if r.choice]
    assert {r.choice for r in routes} == {"deep-dive-route"} and len(routes) == 3
    assert deep_dive.required_in_group("deep-dive-route") == 1
    assert "could, and should, be used together" in flat(deep_dive.summary)
    assert "Finishing **one** completes this stage here" in flat(deep_dive.summary)
    specialization = deep_dive.resources.get(slug="deeplearning-ai-specialization")
    assert "**It has a tuition fee.**" in flat(specialization.notes)  # the author's caveat
    rl = modules_of("learning-deep-learning")[4]
    assert {r.choice for r in rl.resources.all() if r.choice} == {"deep-rl-course"}
    assert "**at least one** of three courses" in flat(rl.summary)
    assert rl.resources.get(slug="sutton-barto-book").optional


def test_learning_deep_learning_has_its_two_required_capstones_with_the_posts_rules(seeded):
    capstones = capstones_of("learning-deep-learning")
    assert [(c.slug, c.module.slug, c.optional) for c in capstones] == [
        ("capstone-1", "capstone-project-1", False),
        ("capstone-2", "capstone-project-2", False),
    ]
    assert capstones[0].constraints == [
        FRAMEWORK_RULE,
        "A Jupyter notebook that explains every step and why it is needed",
        "Supervised learning on a problem of your choice",
        "Published online as a portfolio project",
    ]
    assert capstones[1].constraints == [
        FRAMEWORK_RULE,
        "A Jupyter notebook that explains every step and why it is needed",
        "The agent learns by deep reinforcement learning",
        "Published online as a portfolio project",
    ]
    assert all("list of project ideas did not survive" in flat(c.brief) for c in capstones)


def test_finishing_the_fastai_track_completes_the_first_stage(seeded):
    learner = UserFactory()
    fastai = Track.objects.get(slug="fastai-part1")
    services.enrolment_join(learner=learner, track=Track.objects.get(slug="learning-deep-learning"))
    services.enrolment_join(learner=learner, track=fastai)
    for resource in Resource.objects.active().filter(track=fastai, optional=False):
        services.progress_set_status(learner=learner, resource=resource, status="done")
    stage = Resource.objects.get(slug="fastai-part1-track")
    assert Progress.objects.get(learner=learner, resource=stage).status == ProgressStatus.DONE


# --- the post each seed follows, and the items it fills in -----------------------------------

SOURCES = {
    # Post 000's front matter (title, date) and its sign-off, "-Merlin".
    "techlabs-ai": {
        "title": "Techlabs Berlin - Part One: The AI track",
        "author": "Merlin",
        "published": "2020-08-25",
    },
    # Post 001's front matter; the post names no author.
    "tensorflow-deep-learning": {"title": "Deep learning course", "published": "2022-04-25"},
    # Post 002's front matter; the post names no author.
    "nvidia-dli-cv": {"title": "Dabbling with Deep Learning", "published": "2018-01-29"},
    # Post 003: its heading and "20 Dec 2018 by dzlab".
    "fastai-part1": {
        "title": "fastai's Practical Deep Learning For Coders, Part 1",
        "author": "dzlab",
        "published": "2018-12-20",
    },
    # Post 004: its title only; the copy we have gives no author and no date.
    "learning-deep-learning": {"title": "Learning Deep Learning"},
}


def test_every_seed_names_the_post_it_follows_and_invents_no_address(seeded):
    for slug in SEED_SLUGS:
        source = Track.objects.get(slug=slug).source
        assert source.get("title"), slug
        assert "url" not in source, slug  # no post's own address is known for certain
    assert {slug: Track.objects.get(slug=slug).source for slug in SEED_SLUGS} == SOURCES


def test_a_seed_page_says_which_post_it_follows(seeded, client):
    page = client.get("/tracks/techlabs-ai/").content.decode()
    assert (
        "This track follows “Techlabs Berlin - Part One: The AI track” by Merlin (25 August 2020)"
    ) in page
    page = client.get("/tracks/learning-deep-learning/").content.decode()
    assert "This track follows “Learning Deep Learning”. Items tagged" in page


def _item(track: str, slug: str) -> Resource | Capstone:
    found = Resource.objects.active().filter(track__slug=track, slug=slug).first()
    return found or Capstone.objects.active().get(track__slug=track, slug=slug)


# Items each post does not name (Waymark's pick), spot-checked: tagged `filled_in`.
FILLED_IN = {
    "techlabs-ai": [
        "fastai-lesson-2-video",  # the post names the course, not which lecture goes with a topic
        "ng-convolutional-neural-networks",
        "paper-resnet",  # "papers ... such as ResNets": a topic, no paper named
        "challenge-error-analysis",
    ],
    "tensorflow-deep-learning": [
        "regression-exercise",
        "certificate-preparation-guide",
        "food-vision-big",
    ],
    "nvidia-dli-cv": [],  # every item is one the post names; what is Waymark's is in the prose
    "fastai-part1": [
        "lesson-2-download-notebook",  # the post mentions no notebook for the teddy bears
        "lesson-6-pets-more-notebook",
        "lesson-5-homework",  # "Exercise (Waymark's suggestion)": no homework in the post
    ],
    "learning-deep-learning": [
        "stanford-linear-algebra-refresher",  # for "Stanford has some great refreshers"
        "alphago-zero-paper",
        "dqn-atari-paper",
    ],
}

# Items each post names (with or without a link), spot-checked: not tagged.
NAMED = {
    "techlabs-ai": [
        # "The edyoucated track and Jeremy Howard encourage you to take your new knowledge and
        # apply it to whatever you find interesting. As an exercise, I tried ..."
        "challenge-your-own-images",
        # "a project phase, which let individuals from different tracks team-up to work on and
        # deliver a tech product"
        "team-project",
    ],
    "tensorflow-deep-learning": [
        # "At the second, there was the feature extraction." under "## Feature extraction notebook"
        "feature-extraction-notebook",
        # "check this for the [details]( https://poloclub.github.io/cnn-explainer/)"
        "cnn-explainer",
        # "A certificate about deep learning models (well, TensorFlow)."
        "tensorflow-developer-certificate-exam",
    ],
    "nvidia-dli-cv": [
        # "at the end there is an optional assessment, which is well worth doing"
        "dli-assessment",
        # "with stretch goals to keep the more experienced busy"
        "stretch-goals",
        # "you will use and train an object recognition network, to support an ‘intelligent
        # Dog Door’"
        "dog-door-lab",
    ],
    "fastai-part1": [
        # "#### Lesson 1" ... "The course videos are ... freely available on youtube."
        "lesson-1-video",
        # "It also presents a couple of jupyter notebooks ...: - CamVid dataset (segmentation)"
        "lesson-3-camvid-notebook",
        # "Here is some nicely writing lecture notes, kindly shared by Hiromi Suenaga"
        "lesson-2-notes",
        # "The homework for this lesson is to build an image classification model and deploy it
        # on a web app."
        "lesson-2-homework",
    ],
    "learning-deep-learning": [
        # "When done it’s a good idea to watch the following great talk by Google"
        "google-deep-learning-talk",
        # "you might find Part 1 of the Deep Learning Book helpful"
        "deep-learning-book-part-1",
        # "OpenAIs “SpinningUp AI” course is another great resource"
        "openai-spinning-up",
        # "In our first Capstone project we’ll demonstrate that we fully understand ..."
        "capstone-1",
    ],
}


@pytest.mark.parametrize("slug", sorted(SEED_SLUGS))
def test_what_a_seed_fills_in_is_tagged_and_what_its_post_names_is_not(seeded, slug):
    assert [s for s in FILLED_IN[slug] if not _item(slug, s).filled_in] == []
    assert [s for s in NAMED[slug] if _item(slug, s).filled_in] == []
