"""`minutes` on a capstone: loads, exports and reloads unchanged, is refused out of range, and
counts in a learner's time left and pace plan until the capstone passes (a capstone without
one is still listed there as work without an estimate)."""

from __future__ import annotations

import pytest

from curriculum.exporter import track_export_yaml
from curriculum.loader import load_paths
from curriculum.models import Capstone
from tests.curriculum.test_loader_errors import ALPHA, GOOD, run  # noqa: F401
from tests.factories import CapstoneFactory, ModuleFactory, ResourceFactory, UserFactory
from tracker import services
from tracker.completion import module_progress

pytestmark = pytest.mark.django_db

ESTIMATED = GOOD.replace(
    "          points: 100\n", "          minutes: 600\n          points: 100\n"
)


def test_minutes_load_export_and_reload_unchanged(tmp_path, client):
    (tmp_path / "alpha.yaml").write_text(ALPHA)
    load_paths([str(tmp_path / "alpha.yaml")])
    path = tmp_path / "good.yaml"
    path.write_text(ESTIMATED)
    load_paths([str(path)])
    capstone = Capstone.objects.get()
    assert (capstone.minutes, capstone.points) == (600, 100)  # points do not follow minutes

    exported = track_export_yaml(slug="bad")
    assert "minutes: 600" in exported
    path.write_text(exported)
    report = load_paths([str(path)])
    assert report.updated == report.created == 0
    body = client.get("/tracks/bad/").content.decode()
    assert "600 min · 100 pts · Track lead review" in body

    path.write_text(GOOD)  # left out: no estimate again
    load_paths([str(path)])
    assert Capstone.objects.get().minutes is None
    assert "minutes:" not in track_export_yaml(slug="bad").split("capstones:")[1]


def test_minutes_out_of_range_are_refused(run):  # noqa: F811
    assert run(ESTIMATED.replace("minutes: 600", "minutes: 10001")) == [
        "BAD:23:20: module 2 (`second`), capstone 1 (`project`): `minutes` must be from 0 to "
        "10000, not 10001",
    ]


def test_an_estimated_capstone_counts_in_minutes_left_until_it_passes():
    module = ModuleFactory()
    resource = ResourceFactory(module=module, minutes=30)
    estimated = CapstoneFactory(module=module, minutes=600)
    unestimated = CapstoneFactory(module=module)
    CapstoneFactory(module=module, minutes=900, optional=True)  # optional: never counted

    def left(passed):
        progress = module_progress(
            module=module, done_resource_ids={resource.pk}, passed_capstone_ids=passed
        )
        return progress.minutes_left, progress.open_capstones

    assert left(set()) == (600, 1)
    assert left({estimated.pk}) == (0, 1)
    assert left({estimated.pk, unestimated.pk}) == (0, 0)


def test_time_left_and_the_pace_page_count_the_estimate(client):
    learner = UserFactory()
    module = ModuleFactory(track__slug="vision", weeks=2)
    ResourceFactory(module=module, minutes=60)
    CapstoneFactory(module=module, minutes=120, title="Build a classifier")
    services.enrolment_join(learner=learner, track=module.track)
    client.force_login(learner)
    dashboard = client.get("/me/").content.decode()
    assert 'data-testid="hours-left-total">3.0 h<' in dashboard  # 60 + 120 minutes
    plan = client.get("/tracks/vision/plan/").content.decode()
    assert "180 min" in plan and "capstone (not estimated)" not in plan
    capstone = Capstone.objects.get(title="Build a classifier")
    page = client.get(f"/tracks/vision/capstones/{capstone.slug}/").content.decode()
    assert 'data-testid="capstone-minutes">about 120 min of work<' in page


def test_the_pace_headline_names_the_capstones_its_date_leaves_out(client):
    learner = UserFactory()
    module = ModuleFactory(track__slug="vision", weeks=2)
    ResourceFactory(module=module, minutes=60)
    CapstoneFactory(module=module, title="Build a classifier")  # no estimate
    services.enrolment_join(learner=learner, track=module.track)
    client.force_login(learner)
    plan = client.get("/tracks/vision/plan/").content.decode()
    assert (
        "about 60 minutes of work left, plus 1 capstone without an estimate, which this date "
        "leaves out)" in plan
    )
