"""A visitor presses "Log in to join" on a cohort invite, logs in, and lands in the cohort as a
member; a plain log-in joins nobody, and an invite that stopped working meanwhile says why
(tracker/enrol_intent.py, cohorts/views/join.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cohorts import services
from cohorts.models import CohortMembership
from tests.factories import UserFactory
from tracker import enrol_intent
from tracker.models import Enrolment

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"  # the factory users'


@pytest.fixture
def invite(cohort, admin):
    return services.invite_create(by=admin, cohort=cohort)


def log_in(client, user, next_path):
    return client.post(
        f"/accounts/login/?next={next_path}", {"login": user.email, "password": PASSWORD}
    )


def is_member(user, cohort) -> bool:
    return CohortMembership.objects.filter(
        cohort=cohort, user=user, role="member", removed_at__isnull=True
    ).exists()


def test_log_in_to_join_ends_in_the_cohort_joined_and_enrolled(client, cohort, invite, track):
    learner = UserFactory()
    here = f"/join/{invite.code}/"
    response = client.post(here)
    assert response["Location"] == f"/accounts/login/?next=%2Fjoin%2F{invite.code}%2F"
    assert (
        "Log in and you will join Spring cohort."
        in client.get(response["Location"]).content.decode()
    )

    response = log_in(client, learner, here)
    assert response.status_code == 302 and response["Location"] == f"/cohorts/{cohort.slug}/home/"
    assert is_member(learner, cohort)
    assert Enrolment.objects.filter(learner=learner, track=track, left_at__isnull=True).exists()
    assert "Welcome to Spring cohort!" in client.get(response["Location"]).content.decode()


def test_a_plain_log_in_on_the_invite_joins_nobody(client, cohort, invite):
    learner = UserFactory()
    here = f"/join/{invite.code}/"
    response = log_in(client, learner, here)  # the header's "Log in" from the invite page
    assert response["Location"] == here
    assert not is_member(learner, cohort)
    assert "Join Spring cohort" in client.get(here).content.decode()


def test_the_press_is_forgotten_after_its_lifetime(client, cohort, invite):
    learner = UserFactory()
    here = f"/join/{invite.code}/"
    client.post(here)
    with time_machine.travel(timezone.now() + enrol_intent.LIFETIME + timedelta(minutes=1)):
        response = log_in(client, learner, here)
    assert response["Location"] == here
    assert not is_member(learner, cohort)


def test_an_invite_revoked_before_the_log_in_says_why_and_joins_nobody(
    client, cohort, invite, admin
):
    learner = UserFactory()
    here = f"/join/{invite.code}/"
    client.post(here)
    services.invite_revoke(by=admin, invite=invite)
    response = log_in(client, learner, here)
    assert response["Location"] == here
    assert not is_member(learner, cohort)
    page = client.get(here)
    assert page.status_code == 410 and "This invite was withdrawn" in page.content.decode()


def test_a_press_on_an_invite_that_no_longer_works_shows_the_invite(client, cohort, invite, admin):
    services.invite_revoke(by=admin, invite=invite)
    here = f"/join/{invite.code}/"
    response = client.post(here, {"account": "new"})
    assert response["Location"] == here
    assert enrol_intent.SESSION_KEY not in client.session


def test_an_admin_of_the_cohort_who_logs_in_to_join_is_told_they_run_it(
    client, cohort, invite, admin
):
    here = f"/join/{invite.code}/"
    client.post(here)
    response = log_in(client, admin, here)
    assert response["Location"] == here
    assert not is_member(admin, cohort)
    page = client.get(here).content.decode()
    assert "admins are not members" in page and "You run Spring cohort" in page
