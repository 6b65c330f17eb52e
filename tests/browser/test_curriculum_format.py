"""Format 1.1 in a real browser, on the seed tracks: prerequisites before enrolling, module
numbers read once, a resource of kind track (Learning Deep Learning's first stage is the
fastai-part1 track) that follows the learner's progress there, an optional capstone that
never blocks the certificate yet shows on it once passed, and a one-day module in the pace
plan. The kind-track flow runs with JavaScript (HTMX) and without."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from curriculum.loader import load_paths
from curriculum.models import Capstone, Resource, Track
from tests.browser.test_track_page import log_in, real_errors
from tests.factories import UserFactory
from tracker import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def required_resources(slug: str) -> list[Resource]:
    return list(
        Resource.objects.active()
        .filter(track__slug=slug, optional=False)
        .order_by("module__position", "position")
    )


def enrol(page, *, javascript: bool) -> None:
    page.get_by_role("button", name="Enrol", exact=True).click()
    expect(page.get_by_text("You are enrolled in")).to_be_visible()
    if javascript:  # unhidden once htmx and waymark.js have wired the page up
        expect(page.get_by_role("button", name="Keyboard shortcuts")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_the_first_stage_follows_the_fastai_track(request, live_server, javascript):
    page = request.getfixturevalue("page" if javascript else "page_without_js")
    load_paths([str(SEEDS)])
    base = live_server.url

    # A visitor reads what to know first, above the way in, and titles numbered once.
    page.goto(f"{base}/tracks/learning-deep-learning/")
    prerequisites = page.get_by_test_id("prerequisites")
    expect(prerequisites).to_contain_text("High-school maths is usually enough")
    assert (
        prerequisites.bounding_box()["y"] < page.get_by_text("Log in to enrol").bounding_box()["y"]
    )
    headings = page.locator("section.module h2").all_inner_texts()
    assert headings[0] == "1. A Practical Encounter" and headings[2] == "3. Deep Dive"
    stage = page.locator("#resource-fastai-part1-track")
    expect(
        stage.get_by_role("link", name="fast.ai: Practical Deep Learning for Coders")
    ).to_have_attribute("href", "/tracks/fastai-part1/")

    learner = log_in(page, live_server)
    page.goto(f"{base}/tracks/learning-deep-learning/")
    enrol(page, javascript=javascript)
    fastai_units = len(required_resources("fastai-part1"))
    expect(stage.get_by_test_id("linked-progress")).to_have_text(
        f"0 of {fastai_units} done in that track"
    )
    # No status of its own to click: it follows the other track.
    for label in ("Not started", "In progress", "Done", "Skipped"):
        expect(stage.get_by_role("button", name=re.compile(rf"^{label}\b"))).to_have_count(0)

    # Over in the fast.ai track, everything but the last homework is already done...
    stage.get_by_role("link", name="Practical Deep Learning for Coders, Part 1 (2018/19)").click()
    expect(page).to_have_url(f"{base}/tracks/fastai-part1/")
    enrol(page, javascript=javascript)
    *done, last = required_resources("fastai-part1")
    for resource in done:
        services.progress_set_status(learner=learner, resource=resource, status="done")
    page.reload()
    points_before = int(page.get_by_test_id("header-points").inner_text())

    # ...and finishing it in the browser completes the stage in the other track.
    page.locator(f"#resource-{last.slug}").get_by_role(
        "button", name=re.compile(r"^Done\b")
    ).click()
    notice = page.locator(".message").filter(has_text="in Learning Deep Learning is done too")
    expect(notice).to_contain_text("(2640 points earned)")
    expect(page.get_by_test_id("header-points")).to_have_text(
        str(points_before + last.points + 2640)
    )

    page.goto(f"{base}/tracks/learning-deep-learning/")
    expect(stage).to_have_class(re.compile(r"\bis-done\b"))
    expect(stage.get_by_test_id("linked-progress")).to_have_text(
        f"✓ Complete · {fastai_units} of {fastai_units} done in that track"
    )
    page.goto(f"{base}/me/")
    ldl = page.get_by_test_id("track-learning-deep-learning")
    expect(ldl.get_by_test_id("units")).to_contain_text(re.compile(r"^1 of \d+ done"))
    assert real_errors(page) == []


def test_an_optional_capstone_and_a_one_day_module(page, live_server):
    load_paths([str(SEEDS)])
    base = live_server.url
    learner = log_in(page, live_server)
    page.goto(f"{base}/tracks/nvidia-dli-cv/")
    expect(page.get_by_test_id("prerequisites")).to_contain_text("a computer with Chrome")
    enrol(page, javascript=True)
    expect(page.locator("#module-workshop-day .meta").first).to_have_text(re.compile(r"^1 day\s+·"))
    assessment = page.locator("#capstone-dli-assessment")
    expect(assessment).to_contain_text("optional")
    expect(assessment.get_by_test_id("optional-capstone")).to_be_visible()

    # The pace plan counts the workshop as one day.
    page.get_by_role("link", name="Plan your pace").click()
    rows = page.get_by_test_id("module-row")
    expect(rows.nth(1)).to_contain_text("The workshop day")
    expect(rows.nth(1)).to_contain_text("(1 day)")

    # Every required item done, the optional assessment untouched: the certificate comes.
    page.goto(f"{base}/tracks/nvidia-dli-cv/")
    *done, last = required_resources("nvidia-dli-cv")
    for resource in done:
        services.progress_set_status(learner=learner, resource=resource, status="done")
    page.reload()
    page.locator(f"#resource-{last.slug}").get_by_role(
        "button", name=re.compile(r"^Done\b")
    ).click()
    page.locator(".message").get_by_role("link", name="See your certificate").click()
    expect(page.get_by_test_id("certificate-track")).to_have_text(
        "NVIDIA DLI: Fundamentals of Deep Learning for Computer Vision"
    )
    expect(page.get_by_test_id("certificate-capstones")).to_have_count(0)
    certificate_url = page.url

    # Passing the optional assessment later pays its points and puts it on the certificate.
    capstone = Capstone.objects.get(slug="dli-assessment")
    submission = services.capstone_submit(
        learner=learner,
        capstone=capstone,
        title="Door for a heron",
        link="https://example.com/heron",
        writeup="",
        constraints_met=list(capstone.constraints),
    )
    staff = UserFactory(is_staff=True)
    services.capstone_review(
        reviewer=staff,
        submission=submission,
        decision="passed",
        comments="Well done.",
        via="admin",
    )
    page.goto(certificate_url)
    expect(page.get_by_test_id("certificate-capstones")).to_contain_text(
        "DLI assessment: build a new computer-vision system yourself (optional)"
    )
    page.goto(f"{base}/tracks/nvidia-dli-cv/")
    expect(
        page.locator("#capstone-dli-assessment").get_by_test_id("submission-status")
    ).to_have_text("Passed")
    assert Track.objects.get(slug="nvidia-dli-cv").certificates.count() == 1
    assert real_errors(page) == []
