"""The email data of a chunk is worked out the fast way (cached track structures, the rule run
only where a learner progressed, streaks walked back week by week in SQL); each figure must
equal what the learner's own pages show, computed the plain way."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curriculum.structure import track_structure
from nudges import schedule, selectors, services, streaks
from tests.factories import CapstoneFactory, ModuleFactory, ResourceFactory, TrackFactory
from tracker import services as tracker_services
from tracker.completion import track_progress
from tracker.models import Enrolment
from tracker.selectors import dashboard_for, pace_plan_state

from .conftest import make_learner

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 9, 9, 0, 5, tzinfo=UTC)  # Monday of 2026-W11, 09:00 UTC
WEEK = "2026-W11"


def done(learner, resource, when):
    tracker_services.progress_set_status(
        learner=learner, resource=resource, status="done", now=when
    )


def undone(learner, resource, when):
    tracker_services.progress_set_status(
        learner=learner, resource=resource, status="in_progress", now=when
    )


@pytest.fixture
def learners_with_histories(small_track):
    """Learners in several zones whose streaks end in different ways, some of them at the
    edge of a week in their own zone."""
    r = list(small_track.resources.order_by("module__position", "position"))
    made = {}

    made["four in a row, this week too"] = learner = make_learner(
        zone="Europe/Berlin", track=small_track
    )
    for weeks_ago, resource in enumerate(r[:4]):
        done(learner, resource, NOW - timedelta(weeks=weeks_ago, hours=2))

    made["nothing yet this week, two before"] = learner = make_learner(
        zone="America/New_York", track=small_track
    )
    done(learner, r[0], NOW - timedelta(weeks=1))
    done(learner, r[1], NOW - timedelta(weeks=2))
    done(learner, r[2], NOW - timedelta(weeks=4))  # after a gap: not counted

    made["a gap last week"] = learner = make_learner(zone="Asia/Tokyo", track=small_track)
    done(learner, r[0], NOW - timedelta(weeks=2))

    made["undone: that week no longer counts"] = learner = make_learner(track=small_track)
    done(learner, r[0], NOW - timedelta(weeks=1))
    undone(learner, r[0], NOW - timedelta(days=1))

    # 2026-03-08 23:30 in Auckland is Sunday of W10 there, Sunday 10:30 UTC; 2026-03-09 00:30
    # there is Monday of W11, but still Sunday (W10) in UTC.
    made["edges of the week in Auckland"] = learner = make_learner(
        zone="Pacific/Auckland", track=small_track
    )
    done(learner, r[0], datetime(2026, 3, 8, 10, 30, tzinfo=UTC))
    done(learner, r[1], datetime(2026, 3, 8, 11, 30, tzinfo=UTC))

    made["never did anything"] = make_learner(zone="America/Los_Angeles", track=small_track)
    return made


def test_streaks_walked_back_in_sql_equal_the_dashboards(learners_with_histories):
    learners = list(learners_with_histories.values())
    zones = {x.pk: x.profile.time_zone for x in learners}
    today = {
        x.pk: NOW.astimezone(schedule.zone_or_utc(x.profile.time_zone)).date() for x in learners
    }
    walked = streaks.streaks(zones=zones, today=today)
    grouped = streaks.grouped_streaks(zones=zones, today=today)
    shown = {x.pk: dashboard_for(learner=x, profile=x.profile, now=NOW).streak for x in learners}
    assert walked == grouped == shown
    by_name = {name: walked[x.pk] for name, x in learners_with_histories.items()}
    assert by_name == {
        "four in a row, this week too": 4,
        "nothing yet this week, two before": 2,
        "a gap last week": 0,
        "undone: that week no longer counts": 0,
        "edges of the week in Auckland": 2,
        "never did anything": 0,
    }
    batch = selectors.nudge_batch(learner_ids=list(zones), week=WEEK, now=NOW)
    assert {pk: data.streak for pk, data in batch.items()} == shown


@pytest.fixture
def shaped_track(db):
    """Every shape the completion rule knows: required, optional, a choose-2-of-3 group, a
    required and an optional capstone, a module of capstones only."""
    track = TrackFactory(slug="shapes")
    first = ModuleFactory(track=track, position=0, choices_required={"pick": 2})
    for position in range(3):
        ResourceFactory(module=first, position=position, minutes=10 + position)
    ResourceFactory(module=first, position=3, optional=True)
    for position in range(3):
        ResourceFactory(module=first, position=4 + position, choice="pick", minutes=5 * position)
    second = ModuleFactory(track=track, position=1)
    ResourceFactory(module=second, position=0, minutes=None)
    ResourceFactory(module=second, position=1)
    CapstoneFactory(module=second, position=0)
    third = ModuleFactory(track=track, position=2)
    CapstoneFactory(module=third, position=0, optional=True)
    CapstoneFactory(module=third, position=1)
    return track_structure(track.pk)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_learners_progress_equals_the_completion_rule(shaped_track, data):
    resource_ids = sorted(shaped_track._resources)
    capstone_ids = sorted(c.id for m in shaped_track.modules for c in m.capstones)
    done_ids = set(data.draw(st.lists(st.sampled_from(resource_ids), unique=True)))
    passed = set(data.draw(st.lists(st.sampled_from(capstone_ids), unique=True)))
    plan = selectors._TrackPlan(shaped_track)
    assert plan.progress(done_ids, passed) == track_progress(
        track=shaped_track, done_resource_ids=done_ids, passed_capstone_ids=passed
    )


def test_the_pace_in_the_email_equals_the_pace_page(small_track):
    learner = make_learner(zone="Europe/Berlin")
    enrolled = NOW - timedelta(days=20)
    tracker_services.enrolment_join(learner=learner, track=small_track, now=enrolled)
    r = list(small_track.resources.order_by("module__position", "position"))
    done(learner, r[0], enrolled - timedelta(days=3))  # before enrolling: the pace leaves it out
    caught_up = ResourceFactory(module=r[4].module, position=1, minutes=45)
    done(learner, caught_up, enrolled + timedelta(hours=20))  # catching up on day one: left out
    done(learner, r[1], NOW - timedelta(days=10))
    done(learner, r[3], NOW - timedelta(days=1))
    tracker_services.progress_set_status(learner=learner, resource=r[2], status="skipped", now=NOW)
    # Passed capstones with an estimate count when handed in (the day-one one is catching up).
    for minutes, handed_in in ((90, NOW - timedelta(days=5)), (600, enrolled + timedelta(hours=2))):
        tracker_services.capstone_submit(
            learner=learner,
            capstone=CapstoneFactory(
                module=r[4].module, minutes=minutes, review="self", constraints=[]
            ),
            title="Mine",
            link="https://example.com/mine",
            writeup="",
            constraints_met=[],
            now=handed_in,
        )

    [track] = selectors.nudge_batch(learner_ids=[learner.pk], week=WEEK, now=NOW)[learner.pk].tracks
    page = pace_plan_state(
        enrolment=Enrolment.objects.get(learner=learner), profile=learner.profile, now=NOW
    )
    assert page.done_minutes == 2 * 20 + 90  # r[1], r[3] and the capstone of five days ago
    assert page.projection.basis == "actual"
    assert track.projection == page.projection
    assert track.completion == page.completion
    # Skipped items come last among the next ones.
    assert [item.resource.id for item in track.next_items] == [r[4].pk, r[2].pk]


def test_with_only_a_capstone_left_the_email_names_it_as_next():
    from nudges import emails

    track = TrackFactory(slug="dl-caps", title="Capstone track")
    lessons = ModuleFactory(track=track, position=0)
    lesson = ResourceFactory(module=lessons, title="The only lesson")
    project = ModuleFactory(track=track, position=1)
    CapstoneFactory(module=project, slug="final", title="Final project")
    CapstoneFactory(module=project, slug="extra", title="Extra project", optional=True)
    learner = make_learner()
    tracker_services.enrolment_join(learner=learner, track=track, now=NOW - timedelta(days=9))
    done(learner, lesson, NOW - timedelta(days=2))

    data = selectors.nudge_batch(learner_ids=[learner.pk], week=WEEK, now=NOW)[learner.pk]
    [nudge] = data.tracks
    assert nudge.next_items == [] and [c.title for c in nudge.capstones_next] == ["Final project"]
    email = emails.render_nudge(data)
    assert "1. Capstone: Final project" in email.text
    assert (
        "/tracks/dl-caps/capstones/final/" in email.text and "Capstone: Final project" in email.html
    )
    assert "Extra project" not in email.text  # optional: never the next step


def test_a_chunk_pauses_the_cycle_collector_and_always_turns_it_back_on(small_track, smtp_server):
    collector_on_while_sending = []
    receive = smtp_server.handle_DATA

    async def handle_data(server, session, envelope):  # the server runs in this process
        collector_on_while_sending.append(gc.isenabled())
        return await receive(server, session, envelope)

    smtp_server.handle_DATA = handle_data
    learner = make_learner(track=small_track)
    services._create_rows([selectors.Due(learner.pk, WEEK, NOW)], now=NOW)
    assert gc.isenabled()
    assert services.nudge_send_chunk(learner_ids=[learner.pk], week=WEEK, now=NOW).sent == 1
    assert collector_on_while_sending == [False] and gc.isenabled()
    with pytest.raises(schedule.BadWeek):
        services.nudge_send_chunk(learner_ids=[learner.pk], week="2026-W99", now=NOW)
    assert gc.isenabled()


def test_a_stage_standing_for_another_track_counts_its_real_time_left_as_the_page_does():
    from curriculum.models import ResourceKind

    base = ModuleFactory(track=TrackFactory(slug="base-course"))
    first = ResourceFactory(module=base, minutes=10)
    ResourceFactory(module=base, minutes=15)
    outer = ModuleFactory(track=TrackFactory(slug="outer-path"))
    ResourceFactory(
        module=outer, kind=ResourceKind.TRACK, linked_track=base.track, url="", minutes=300
    )
    ResourceFactory(module=outer, minutes=5)
    learner = make_learner()
    for track in (outer.track, base.track):
        tracker_services.enrolment_join(learner=learner, track=track, now=NOW - timedelta(days=9))
    done(learner, first, NOW - timedelta(days=2))

    nudge = selectors.nudge_batch(learner_ids=[learner.pk], week=WEEK, now=NOW)[learner.pk]
    by_track = {t.track.id: t for t in nudge.tracks}
    for track in (outer.track, base.track):
        page = pace_plan_state(
            enrolment=Enrolment.objects.get(learner=learner, track=track),
            profile=learner.profile,
            now=NOW,
        )
        assert by_track[track.pk].completion == page.completion
        assert by_track[track.pk].projection == page.projection
    assert by_track[outer.track.pk].projection.minutes_left == 15 + 5  # not the stage's 300
