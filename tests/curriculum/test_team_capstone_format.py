"""`team: true` on a capstone: loads into `Capstone.team`, exports and reloads unchanged, and a
value that is not a boolean is refused at its `PATH:LINE:COLUMN`."""

from __future__ import annotations

import pytest

from curriculum.exporter import track_export_yaml
from curriculum.loader import load_paths
from curriculum.models import Capstone
from tests.curriculum.test_loader_errors import ALPHA, GOOD, run  # noqa: F401

pytestmark = pytest.mark.django_db


def test_team_loads_exports_and_reloads_unchanged(tmp_path):
    (tmp_path / "alpha.yaml").write_text(ALPHA)  # the track it requires
    load_paths([str(tmp_path / "alpha.yaml")])
    path = tmp_path / "good.yaml"
    path.write_text(GOOD.replace("review: lead", "review: lead\n          team: true"))
    load_paths([str(path)])
    capstone = Capstone.objects.get()
    assert capstone.team is True

    slug = capstone.track.slug
    exported = track_export_yaml(slug=slug)
    assert "team: true" in exported
    path.write_text(exported)
    report = load_paths([str(path)])
    assert report.updated == report.created == 0
    assert Capstone.objects.get().team is True

    path.write_text(GOOD)  # left out: an ordinary capstone again
    load_paths([str(path)])
    assert Capstone.objects.get().team is False
    assert "team:" not in track_export_yaml(slug=slug)


def test_team_must_be_a_boolean(run):  # noqa: F811
    assert run(GOOD.replace("review: lead", "review: lead\n          team: everyone")) == [
        "BAD:25:17: module 2 (`second`), capstone 1 (`project`): `team` must be true or false, "
        "not text 'everyone'",
    ]
