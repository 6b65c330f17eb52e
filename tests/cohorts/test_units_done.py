"""The heat map's units per member and module (`selectors.units_done`, read from the units per
module each enrolment keeps) follow the completion rule of the learner's own pages
(`tracker.completion.module_progress`): choice groups count as many as they ask for,
optional and archived resources not at all, a passed required capstone one unit."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cohorts import selectors
from curriculum.structure import track_structure
from tests.factories import (
    CapstoneFactory,
    ModuleFactory,
    ResourceFactory,
    TrackFactory,
    UserFactory,
    cohort_member,
    cohort_with_tracks,
)
from tracker.completion import module_progress
from tracker.models import CapstoneSubmission, SubmissionStatus
from tracker.services.totals import enrolment_totals_refresh

from .dashboard_world import progress_done

pytestmark = pytest.mark.django_db


def _passed(learner, capstone):
    now = timezone.now()
    CapstoneSubmission.objects.create(
        learner=learner,
        capstone=capstone,
        track_id=capstone.track_id,
        title="Mine",
        status=SubmissionStatus.PASSED,
        submitted_at=now,
        reviewed_at=now,
        created_at=now,
        updated_at=now,
    )
    enrolment_totals_refresh(learner_id=learner.pk, track_id=capstone.track_id)


def test_units_follow_the_completion_rule():
    track = TrackFactory()
    module = ModuleFactory(track=track, position=0, choices_required={"pick": 2})
    required = [ResourceFactory(module=module) for _ in range(2)]
    pick = [ResourceFactory(module=module, choice="pick") for _ in range(3)]
    extra = ResourceFactory(module=module, optional=True)
    gone = ResourceFactory(module=module, archived_at=timezone.now())
    capstone = CapstoneFactory(module=module)
    later = ModuleFactory(track=track, position=1)
    later_items = [ResourceFactory(module=later) for _ in range(2)]
    cohort = cohort_with_tracks(track)
    everything, some, nothing = (cohort_member(cohort, UserFactory()) for _ in range(3))
    for resource in [*required, *pick, extra, gone, *later_items]:
        progress_done(everything, resource, when=timezone.now())
    _passed(everything, capstone)
    for resource in [required[0], pick[0], extra, gone, later_items[1]]:
        progress_done(some, resource, when=timezone.now())

    ctx = selectors.cohort_context(slug=cohort.slug, today=timezone.now().date())
    found = selectors.units_done(ctx, learner_ids=[everything.pk, some.pk, nothing.pk])

    # required 2 + "pick" 2 of 3 + the capstone: 5 units in the first module
    assert found[(everything.pk, module.pk)] == 5
    assert found[(some.pk, module.pk)] == 2  # one required, one of the choice
    assert found[(everything.pk, later.pk)] == 2 and found[(some.pk, later.pk)] == 1
    assert not any(learner == nothing.pk for learner, _ in found)
    nodes = {node.id: node for node in track_structure(track.pk).modules}
    for learner, done_ids, passed in [
        (everything, {r.pk for r in [*required, *pick, extra, gone]}, {capstone.pk}),
        (some, {required[0].pk, pick[0].pk, extra.pk, gone.pk}, set()),
    ]:
        rule = module_progress(
            module=nodes[module.pk], done_resource_ids=done_ids, passed_capstone_ids=passed
        )
        assert found[(learner.pk, module.pk)] == rule.done_units
