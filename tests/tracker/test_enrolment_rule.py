"""The "must be enrolled" rule lives in the services: whoever calls them (a view, a command,
a task, the admin) cannot log progress, keep notes, flag, submit or claim in a track the learner
is not enrolled in, and nothing is written when they try."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import CapstoneFactory, ModuleFactory, ResourceFactory, UserFactory, enrol
from tests.tracker.test_capstones import GOOD
from tracker import services
from tracker.models import CapstoneSubmission, PointsEntry, Progress, ResourceNote

pytestmark = pytest.mark.django_db


@pytest.fixture
def items():
    module = ModuleFactory()
    resource = ResourceFactory(module=module)
    capstone = CapstoneFactory(module=module, constraints=list(GOOD["constraints_met"]))
    return module.track, resource, capstone


def writes(track, resource, capstone):
    return {
        "progress": lambda u: services.progress_set_status(
            learner=u, resource=resource, status="done"
        ),
        "note": lambda u: services.note_save(learner=u, resource=resource, body="mine"),
        "revisit": lambda u: services.note_set_revisit(learner=u, resource=resource, revisit=True),
        "draft": lambda u: services.capstone_submission_save(learner=u, capstone=capstone, **GOOD),
        "submit": lambda u: services.capstone_submit(learner=u, capstone=capstone, **GOOD),
        "certificate": lambda u: services.certificate_claim(learner=u, track=track),
        "pace": lambda u: services.pace_plan_set(
            learner=u, track=track, hours_per_week="3", target_date=None, today=date(2030, 1, 1)
        ),
    }


def nothing_written():
    return not (
        Progress.objects.exists()
        or ResourceNote.objects.exists()
        or CapstoneSubmission.objects.exists()
        or PointsEntry.objects.exists()
    )


@pytest.mark.parametrize(
    "write", ["progress", "note", "revisit", "draft", "submit", "certificate", "pace"]
)
@pytest.mark.parametrize("who", ["never enrolled", "left the track"])
def test_every_learner_write_refuses_a_learner_who_is_not_enrolled(items, write, who):
    track, resource, capstone = items
    learner = UserFactory()
    if who == "left the track":
        enrol(learner, track)
        services.enrolment_leave(learner=learner, track=track)
    with pytest.raises(services.ServiceError, match=f"Enrol in {track.title}"):
        writes(track, resource, capstone)[write](learner)
    assert nothing_written()


def test_the_same_writes_work_once_enrolled(items):
    track, resource, capstone = items
    learner = enrol(UserFactory(), track)
    for write in writes(track, resource, capstone).values():
        write(learner)
    assert Progress.objects.filter(learner=learner, status="done").exists()
    assert ResourceNote.objects.get(learner=learner).body == "mine"
    assert CapstoneSubmission.objects.get(learner=learner).status == "submitted"


def test_taking_a_revisit_flag_off_works_after_leaving(items):
    track, resource, _ = items
    learner = enrol(UserFactory(), track)
    services.note_set_revisit(learner=learner, resource=resource, revisit=True)
    services.enrolment_leave(learner=learner, track=track)
    note = services.note_set_revisit(learner=learner, resource=resource, revisit=False)
    assert note.revisit is False


def test_the_refusal_is_not_enrolled_so_views_can_offer_to_enrol(items):
    track, resource, _ = items
    with pytest.raises(services.NotEnrolled) as caught:
        services.progress_set_status(learner=UserFactory(), resource=resource, status="done")
    assert caught.value.track == track
    assert str(caught.value) == f"Enrol in {track.title} to log your progress."
