"""`check_points`: points total = ledger = recomputation from progress, for every learner."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from ops.integrity import points_drift
from tests.factories import CapstoneFactory, ResourceFactory, UserFactory
from tracker import services
from tracker.models import Profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def learners():
    first = ResourceFactory()
    second = ResourceFactory(module=first.module)
    capstone = CapstoneFactory(module=first.module, constraints=[], review="self")
    ada, grace = UserFactory(), UserFactory()
    for learner in (ada, grace):
        services.enrolment_join(learner=learner, track=first.track)
    services.progress_set_status(learner=ada, resource=first, status="done")
    services.progress_set_status(learner=ada, resource=second, status="done")
    services.progress_set_status(learner=ada, resource=second, status="in_progress")
    services.capstone_submit(
        learner=ada,
        capstone=capstone,
        title="Mine",
        link="https://example.com/x",
        writeup="",
        constraints_met=[],
    )
    services.progress_set_status(learner=grace, resource=second, status="skipped")
    return ada, grace


def test_services_keep_every_learner_consistent(learners):
    checked, drift = points_drift()
    assert checked == 2 and drift == []


def test_a_total_out_of_step_is_reported_with_all_three_figures(learners, capsys):
    ada, _ = learners
    Profile.objects.filter(user=ada).update(points_total=1)  # what a bug or a bad restore does
    _, drift = points_drift()
    assert [d.learner_id for d in drift] == [ada.pk]
    assert drift[0].total == 1 and drift[0].ledger == drift[0].recomputed > 1
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_points")
    assert exit_info.value.code == 1
    assert f"learner {ada.pk}: total 1" in capsys.readouterr().out


def test_the_command_says_ok(learners, capsys):
    call_command("check_points")
    assert capsys.readouterr().out.strip() == "ok: 2 learners, 0 drift"
