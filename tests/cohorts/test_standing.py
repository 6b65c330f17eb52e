"""A member's standing in their cohorts (cohorts/standing.py): phase, next target, pace."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from cohorts.models import CohortRole
from cohorts.pace import PaceStatus
from cohorts.standing import standings_for
from tests.cohorts.member_world import cohort_with, member_of, set_modules_done
from tests.factories import ModuleFactory, ResourceFactory, TrackFactory, UserFactory

pytestmark = pytest.mark.django_db

START = date(2026, 9, 7)  # a Monday; week 1 runs to Sunday 13 September


@pytest.fixture
def plan():
    track = TrackFactory(title="AI Track")
    modules = [ModuleFactory(track=track, title=f"Topic {n}", position=n) for n in range(1, 5)]
    for module in modules:  # a module with nothing required in it is complete from the start
        ResourceFactory(module=module)
    cohort = cohort_with(
        slug="berlin-2026",
        name="TechLabs Berlin 2026",
        tracks=[track],
        starts_on=START,
        weeks=10,
        phases=[("Learning phase", 1, 4), ("Project phase", 5, 10)],
        targets={modules[0]: 1, modules[1]: 2, modules[2]: 2, modules[3]: 4},
    )
    return track, modules, cohort


def standing(user, today, complete=()):
    found = standings_for(
        today_by_learner={user.pk: today}, complete_modules={user.pk: set(complete)}
    )
    return found[user.pk][0] if user.pk in found else None


def test_phase_next_target_and_due_date(plan):
    track, modules, cohort = plan
    user = UserFactory()
    member_of(cohort, user)
    today = START + timedelta(days=8)  # week 2
    found = standing(user, today, complete=[modules[0].pk])
    assert found.cohort == cohort and found.week == 2
    assert found.phase_label == "Learning phase"
    assert found.next_target.label == "Topic 2"
    assert found.next_target.due_on == date(2026, 9, 20) and found.next_target.week == 2


def test_pace_exactly_on_the_target_week_then_behind(plan):
    track, modules, cohort = plan
    user = UserFactory()
    member_of(cohort, user)
    last_day_of_week_1 = START + timedelta(days=6)
    assert standing(user, last_day_of_week_1).pace_label == "On pace"
    first_day_of_week_2 = START + timedelta(days=7)
    assert standing(user, first_day_of_week_2).pace_label == "Behind by 1 module"
    first_day_of_week_3 = START + timedelta(days=14)
    assert standing(user, first_day_of_week_3).pace_label == "Behind by 3 modules"
    set_modules_done(user, track, 3)
    assert standing(user, first_day_of_week_3).pace_label == "On pace"
    set_modules_done(user, track, 4)
    assert standing(user, first_day_of_week_3).pace.status is PaceStatus.AHEAD


def test_next_target_skips_completed_modules_in_due_order(plan):
    track, modules, cohort = plan
    user = UserFactory()
    member_of(cohort, user)
    today = START
    done = [modules[0].pk, modules[2].pk]
    assert standing(user, today, complete=done).next_target.label == "Topic 2"
    every = [m.pk for m in modules]
    assert standing(user, today, complete=every).next_target is None


def test_without_a_plan_there_is_no_pace_status():
    track = TrackFactory()
    cohort = cohort_with(slug="no-plan", tracks=[track], starts_on=START)
    user = UserFactory()
    member_of(cohort, user)
    found = standing(user, START + timedelta(weeks=3))
    assert found.pace.status is PaceStatus.NO_PLAN and found.pace_label == ""
    assert found.next_target is None and found.phase_label == "Between phases"


def test_phase_words_before_between_and_after(plan):
    track, modules, cohort = plan
    user = UserFactory()
    member_of(cohort, user)
    assert standing(user, START - timedelta(days=3)).phase_label == (
        "Learning phase starts on 7 Sep 2026"
    )
    assert standing(user, START + timedelta(weeks=4)).phase_label == "Project phase"
    assert standing(user, cohort.ends_on + timedelta(days=1)).phase_label == (
        "Ended on 15 Nov 2026"
    )


def test_archived_modules_leave_the_plan(plan):
    track, modules, cohort = plan
    user = UserFactory()
    member_of(cohort, user)
    modules[0].archived_at = timezone.now()
    modules[0].save()
    found = standing(user, START + timedelta(days=7))
    assert found.next_target.label == "Topic 2" and found.pace_label == "On pace"


def test_several_tracks_name_the_track_and_sum_modules_done():
    first, second = TrackFactory(title="AI"), TrackFactory(title="Web")
    a, b = ModuleFactory(track=first, title="Vision"), ModuleFactory(track=second, title="HTML")
    ResourceFactory(module=a)
    ResourceFactory(module=b)
    cohort = cohort_with(
        slug="mixed", tracks=[first, second], starts_on=START, targets={a: 1, b: 1}
    )
    user = UserFactory()
    member_of(cohort, user)
    found = standing(user, START + timedelta(days=7))
    assert found.next_target.label == "Vision (AI)"
    assert found.pace_label == "Behind by 2 modules"
    set_modules_done(user, first, 1)
    set_modules_done(user, second, 1)
    assert standing(user, START + timedelta(days=7)).pace_label == "On pace"


def test_only_active_memberships_of_live_cohorts_count(plan):
    track, modules, cohort = plan
    removed, admin, member = UserFactory(), UserFactory(), UserFactory()
    member_of(cohort, removed).__class__.objects.filter(user=removed).update(
        removed_at=timezone.now()
    )
    member_of(cohort, admin, role=CohortRole.ADMIN)
    member_of(cohort, member)
    assert standing(removed, START) is None and standing(admin, START) is None
    assert standing(member, START) is not None
    cohort.archived_at = timezone.now()
    cohort.save()
    assert standing(member, START) is None


def test_running_cohorts_come_first():
    track = TrackFactory()
    user = UserFactory()
    today = START + timedelta(weeks=2)
    ended = cohort_with(slug="ended", tracks=[track], starts_on=START - timedelta(weeks=30))
    upcoming = cohort_with(slug="upcoming", tracks=[track], starts_on=START + timedelta(weeks=8))
    running = cohort_with(slug="running", tracks=[track], starts_on=START)
    for cohort in (ended, upcoming, running):
        member_of(cohort, user)
    found = standings_for(today_by_learner={user.pk: today}, complete_modules={})
    assert [s.cohort.slug for s in found[user.pk]] == ["running", "upcoming", "ended"]
