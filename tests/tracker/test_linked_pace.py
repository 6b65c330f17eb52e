"""Actual pace where a resource stands for another track (kind track): while the learner
follows that track, its work counts in this track's pace as it is done, instead of the stage's
own estimate when the stage completes. Learning Deep Learning's pace read "no pace yet" (then
behind) for weeks of work on its fast.ai stage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from curriculum.models import ResourceKind, ReviewMode
from nudges import selectors as nudge_selectors
from tests.factories import CapstoneFactory, ModuleFactory, ResourceFactory, TrackFactory
from tests.nudges.conftest import make_learner
from tracker import pace, services
from tracker.models import Enrolment
from tracker.selectors import pace_plan_state

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
WEEK = "2026-W48"


@pytest.fixture
def tracks():
    """`base` (60- and 90-minute resources, a 120-minute capstone) and `outer`: a stage standing
    for base, estimated at 300 minutes, then a 30-minute resource."""
    base = ModuleFactory(track=TrackFactory(slug="base", title="Base course"))
    first = ResourceFactory(module=base, minutes=60)
    second = ResourceFactory(module=base, minutes=90)
    capstone = CapstoneFactory(module=base, minutes=120, review=ReviewMode.SELF, constraints=[])
    outer = ModuleFactory(track=TrackFactory(slug="outer", title="Outer path"))
    stage = ResourceFactory(
        module=outer, kind=ResourceKind.TRACK, linked_track=base.track, url="", minutes=300
    )
    own = ResourceFactory(module=outer, minutes=30)
    return {
        "base": base.track,
        "outer": outer.track,
        "first": first,
        "second": second,
        "capstone": capstone,
        "stage": stage,
        "own": own,
    }


def join(learner, track, days_ago):
    services.enrolment_join(learner=learner, track=track, now=NOW - timedelta(days=days_ago))


def done(learner, resource, days_ago):
    services.progress_set_status(
        learner=learner, resource=resource, status="done", now=NOW - timedelta(days=days_ago)
    )


def pass_capstone(learner, capstone, days_ago):
    services.capstone_submit(  # a self-review capstone passes when handed in
        learner=learner,
        capstone=capstone,
        title="My project",
        link="https://example.com/project",
        writeup="",
        constraints_met=[],
        now=NOW - timedelta(days=days_ago),
    )


def following_both(tracks, *, second_done_days_ago: int):
    """A learner who enrolled in outer 21 days ago and in base 14 days ago, then did base's
    first resource 10 days ago and its second `second_done_days_ago`."""
    learner = make_learner()
    join(learner, tracks["outer"], 21)
    join(learner, tracks["base"], 14)
    done(learner, tracks["first"], 10)
    done(learner, tracks["second"], second_done_days_ago)
    return learner


def outer_plan(learner):
    return pace_plan_state(
        enrolment=Enrolment.objects.get(learner=learner, track__slug="outer"),
        profile=learner.profile,
        now=NOW,
    )


def nudge_projection(learner, track):
    nudge = nudge_selectors.nudge_batch(learner_ids=[learner.pk], week=WEEK, now=NOW)
    return {t.track.id: t for t in nudge[learner.pk].tracks}[track.pk].projection


def test_work_in_the_followed_track_counts_in_the_pace_as_it_is_done(tracks):
    learner = following_both(tracks, second_done_days_ago=3)

    state = outer_plan(learner)
    assert state.done_minutes == 60 + 90
    assert state.projection.basis == pace.BASIS_ACTUAL
    assert state.projection.actual_minutes_per_week == 150 / 3  # over the 3 weeks since enrolling
    assert nudge_projection(learner, tracks["outer"]) == state.projection


def test_the_stage_s_estimate_is_not_counted_on_top_when_the_followed_track_completes(tracks):
    learner = following_both(tracks, second_done_days_ago=3)
    pass_capstone(learner, tracks["capstone"], days_ago=2)
    assert tracks["stage"].progress.get(learner=learner).status == "done"

    state = outer_plan(learner)
    assert state.done_minutes == 60 + 90 + 120  # the base course's own work, not its 300
    assert nudge_projection(learner, tracks["outer"]) == state.projection


def test_work_before_enrolling_here_or_on_the_first_day_there_is_catching_up(tracks):
    learner = make_learner()
    join(learner, tracks["base"], 30)
    done(learner, tracks["first"], 20)  # before enrolling in outer
    join(learner, tracks["outer"], 14)
    done(learner, tracks["second"], 7)

    state = outer_plan(learner)
    assert state.done_minutes == 90
    assert nudge_projection(learner, tracks["outer"]) == state.projection

    other = make_learner()
    join(other, tracks["outer"], 21)
    join(other, tracks["base"], 14)
    done(other, tracks["first"], 14)  # base's first day: ticking off what was done before
    done(other, tracks["second"], 7)
    state = outer_plan(other)
    assert state.done_minutes == 90
    assert nudge_projection(other, tracks["outer"]) == state.projection


def test_after_leaving_the_linked_track_the_stage_counts_its_own_estimate(tracks):
    learner = following_both(tracks, second_done_days_ago=8)
    pass_capstone(learner, tracks["capstone"], days_ago=7)  # the stage is done from then
    services.enrolment_leave(learner=learner, track=tracks["base"])

    state = outer_plan(learner)
    assert state.done_minutes == 300
    assert nudge_projection(learner, tracks["outer"]) == state.projection
