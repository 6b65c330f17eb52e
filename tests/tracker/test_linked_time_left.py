"""Time left where a resource stands for another track (kind track): while it is open it counts
that track's real time left for the learner, and a total over their tracks counts it once.
Learning Deep Learning's fast.ai stage showed 44 hours of its own estimate on top of fast.ai's
own row: /me/ said 210 hours where about 166 were left."""

from __future__ import annotations

import pytest
from django.urls import reverse

from curriculum.models import ResourceKind
from tests.factories import ModuleFactory, ResourceFactory, TrackFactory, UserFactory, enrol
from tracker import services
from tracker.completion import TrackProgress, with_linked_tracks
from tracker.models import Enrolment, ProgressStatus
from tracker.selectors import dashboard_for, pace_plan_state

pytestmark = pytest.mark.django_db


def stage_for(track, *, into, minutes, title="Stage: the base course"):
    return ResourceFactory(
        module=into,
        kind=ResourceKind.TRACK,
        linked_track=track,
        url="",
        minutes=minutes,
        title=title,
    )


@pytest.fixture
def tracks():
    """`base` (10 and 15 minutes) and `outer`: a stage standing for base (estimated at 300
    minutes) and a 5-minute resource."""
    base_module = ModuleFactory(track=TrackFactory(slug="base", title="Base course"))
    first = ResourceFactory(module=base_module, minutes=10)
    ResourceFactory(module=base_module, minutes=15)
    outer_module = ModuleFactory(track=TrackFactory(slug="outer", title="Outer path"))
    stage_for(base_module.track, into=outer_module, minutes=300)
    ResourceFactory(module=outer_module, minutes=5)
    return {"base": base_module.track, "outer": outer_module.track, "first": first}


def minutes_by_track(user) -> dict[str, int]:
    dashboard = dashboard_for(learner=user, profile=user.profile)
    return {row.track.slug: row.completion.minutes_left for row in dashboard.tracks} | {
        "total": dashboard.minutes_left
    }


def test_the_stage_counts_its_estimate_until_the_learner_follows_that_track(tracks):
    user = enrol(UserFactory(), tracks["outer"])
    assert minutes_by_track(user) == {"outer": 305, "total": 305}

    enrol(user, tracks["base"])
    assert minutes_by_track(user) == {"base": 25, "outer": 30, "total": 30}

    services.progress_set_status(learner=user, resource=tracks["first"], status="done")
    assert minutes_by_track(user) == {"base": 15, "outer": 20, "total": 20}

    services.enrolment_leave(learner=user, track=tracks["base"])
    assert minutes_by_track(user) == {"outer": 305, "total": 305}


def test_me_says_the_total_counts_the_linked_track_once(client, tracks):
    user = enrol(UserFactory(), tracks["outer"])
    client.force_login(user)
    page = client.get(reverse("tracker:dashboard")).content.decode()
    assert "the total counts that time once" not in page

    enrol(user, tracks["base"])
    page = client.get(reverse("tracker:dashboard")).content.decode()
    assert (
        "Outer path includes the time left in another of your tracks that it stands for: "
        "the total counts that time once." in page
    )
    assert '<td data-testid="hours-left-total">0.5 h</td>' in page  # 30 minutes, not 55


def test_the_pace_page_counts_the_linked_track_s_real_time_left(tracks):
    user = enrol(UserFactory(), tracks["outer"], tracks["base"])
    services.progress_set_status(learner=user, resource=tracks["first"], status="done")
    state = pace_plan_state(
        enrolment=Enrolment.objects.get(learner=user, track=tracks["outer"]), profile=user.profile
    )
    assert state.completion.minutes_left == 20
    assert state.projection.minutes_left == 20


def test_a_finished_linked_track_leaves_nothing_in_the_stage(tracks):
    user = enrol(UserFactory(), tracks["outer"], tracks["base"])
    for resource in tracks["base"].resources.all():
        services.progress_set_status(learner=user, resource=resource, status="done")
    stage = tracks["outer"].resources.get(kind=ResourceKind.TRACK)
    assert stage.progress.get(learner=user).status == ProgressStatus.DONE
    assert minutes_by_track(user) == {"base": 0, "outer": 5, "total": 5}


def test_links_nest_and_each_track_s_work_counts_once_in_the_total():
    inner = ModuleFactory(track=TrackFactory(slug="inner"))
    ResourceFactory(module=inner, minutes=10)
    middle = ModuleFactory(track=TrackFactory(slug="middle"))
    stage_for(inner.track, into=middle, minutes=100)
    ResourceFactory(module=middle, minutes=5)
    outer = ModuleFactory(track=TrackFactory(slug="outer"))
    stage_for(middle.track, into=outer, minutes=1000)
    ResourceFactory(module=outer, minutes=1)
    user = enrol(UserFactory(), outer.track, middle.track, inner.track)
    assert minutes_by_track(user) == {"outer": 16, "middle": 15, "inner": 10, "total": 16}


def test_a_cycle_of_links_is_cut_where_it_closes():
    """The loader refuses cycles; the count must still end if one is met."""
    progress = {1: TrackProgress(1), 2: TrackProgress(2)}
    recounted = []

    def recount(track_id, linked):
        recounted.append((track_id, linked))
        return progress[track_id]

    assert with_linked_tracks(progress, links={1: {2}, 2: {1}}, recount=recount) == progress
    assert recounted == [(1, {2: 0})]


def test_me_and_the_pace_page_read_a_linked_track_in_a_fixed_number_of_queries(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def world(slug: str, size: int):
        base = TrackFactory(slug=f"{slug}-base")
        outer = TrackFactory(slug=f"{slug}-outer")
        for _ in range(size):
            module = ModuleFactory(track=base)
            for _ in range(size):
                ResourceFactory(module=module, minutes=10)
        stage_for(base, into=ModuleFactory(track=outer), minutes=300)
        user = enrol(UserFactory(), outer, base)
        for resource in base.resources.all()[: size * size // 2]:
            services.progress_set_status(learner=user, resource=resource, status="done")
        return user, outer

    counts = []
    for slug, size in (("small", 2), ("large", 20)):
        user, outer = world(slug, size)
        client.force_login(user)
        for url in (reverse("tracker:dashboard"), f"/tracks/{outer.slug}/plan/"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.append(len(queries))
    assert counts[:2] == counts[2:]
