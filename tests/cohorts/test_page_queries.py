"""The management pages ask the database the same number of times whatever the number of
cohorts, members, invites, teams and modules (ten times more of each: the same count)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cohorts import services
from tests.factories import (
    CohortInviteFactory,
    CohortMembershipFactory,
    ModuleFactory,
    TeamFactory,
    TeamMembershipFactory,
    TrackFactory,
    UserFactory,
    enrol,
)

from .conftest import make_cohort

pytestmark = pytest.mark.django_db


def grow(cohort, track, n: int) -> None:
    """n members (each enrolled in the track, every other one in a team), n invites, n
    modules, n / 2 teams."""
    for _ in range(n):
        ModuleFactory(track=track)
        CohortInviteFactory(cohort=cohort)
    teams = [TeamFactory(cohort=cohort) for _ in range(max(1, n // 2))]
    for i in range(n):
        membership = CohortMembershipFactory(cohort=cohort)
        enrol(membership.user, track)
        if i % 2:
            TeamMembershipFactory(team=teams[i // 2 % len(teams)], user=membership.user)


def count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", ["settings", "invites", "members", "teams"])
def test_admin_pages_cost_the_same_at_ten_times_the_size(client, staff, page):
    small_track, large_track = TrackFactory(), TrackFactory()
    small = make_cohort(by=staff, tracks=[small_track], slug="small")
    large = make_cohort(by=staff, tracks=[large_track], slug="large")
    grow(small, small_track, 3)
    grow(large, large_track, 30)
    services.cohort_targets_reset(by=staff, cohort=small)
    services.cohort_targets_reset(by=staff, cohort=large)
    client.force_login(staff)
    client.get(reverse("cohorts:list"))  # sessions and the like settle first
    assert count(client, reverse(f"cohorts:{page}", args=["large"])) == count(
        client, reverse(f"cohorts:{page}", args=["small"])
    )


def test_the_list_and_the_join_page_cost_the_same_at_ten_times_the_size(client, staff):
    def world(n: int, prefix: str):
        track = TrackFactory()
        cohorts = [make_cohort(by=staff, tracks=[track], slug=f"{prefix}-{i}") for i in range(n)]
        for cohort in cohorts:
            grow(cohort, track, 2)
        return cohorts

    client.force_login(staff)
    client.get(reverse("cohorts:list"))  # sessions and the like settle first
    small = world(1, "small")
    small_list = count(client, reverse("cohorts:list"))
    small_join = count(client, services.invite_create(by=staff, cohort=small[0]).get_absolute_url())
    large = world(10, "large")
    large_list = count(client, reverse("cohorts:list"))
    large_join = count(client, services.invite_create(by=staff, cohort=large[0]).get_absolute_url())
    assert (large_list, large_join) == (small_list, small_join)


def test_members_see_the_list_for_a_constant_count(client, staff):
    learner = UserFactory()
    track = TrackFactory()
    for i in range(10):
        cohort = make_cohort(by=staff, tracks=[track], slug=f"c-{i}")
        CohortMembershipFactory(cohort=cohort, user=learner)
        if i == 0:
            client.force_login(learner)
            client.get(reverse("cohorts:list"))  # sessions and the like settle first
            one = count(client, reverse("cohorts:list"))
    assert count(client, reverse("cohorts:list")) == one
