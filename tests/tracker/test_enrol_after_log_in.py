"""A visitor presses "Log in to enrol" (or "Sign up and enrol") on a track page, logs in or signs
up, and lands back on the track page enrolled; nobody else, and nothing later, is enrolled by
that press (tracker/enrol_intent.py)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from curriculum.curation.services import track_set_archived
from tests.factories import ModuleFactory, ResourceFactory, TrackFactory, UserFactory
from tracker import enrol_intent, services
from tracker.models import Enrolment

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"  # the factory users'
TRACK = "/tracks/rl/"
LOG_IN = "/accounts/login/?next=%2Ftracks%2Frl%2F"
SIGN_UP = "/accounts/signup/?next=%2Ftracks%2Frl%2F"


@pytest.fixture
def newcomer_email():
    """An address of this test's own: allauth sends one confirmation mail per address per three
    minutes, counted in the cache, which under CI is Redis and outlives a test."""
    return f"newcomer-{uuid.uuid4().hex[:10]}@example.com"


def new_account(email: str) -> dict:
    return {
        "email": email,
        "display_name": "Newcomer",
        "password1": "a-long-Passphrase-42",
        "password2": "a-long-Passphrase-42",
    }


@pytest.fixture
def track():
    track = TrackFactory(slug="rl", title="Reinforcement Learning")
    ResourceFactory(module=ModuleFactory(track=track), slug="bandits")
    return track


def enrolled(user) -> bool:
    return Enrolment.objects.filter(learner=user, left_at__isnull=True).exists()


def press(client, **data):
    """The visitor's call to action on the track page: a form post to its enrol address."""
    page = client.get(TRACK).content.decode()
    assert 'action="/tracks/rl/enrol"' in page and "Log in to enrol" in page
    assert 'name="account" value="new"' in page and "Sign up and enrol" in page
    return client.post("/tracks/rl/enrol", data)


def log_in(client, user, path=LOG_IN):
    return client.post(path, {"login": user.email, "password": PASSWORD})


def test_log_in_to_enrol_lands_on_the_track_page_enrolled(client, track):
    learner = UserFactory()
    response = press(client)
    assert response.status_code == 302 and response["Location"] == LOG_IN
    assert "Log in and you will be enrolled in Reinforcement Learning" in (
        client.get(LOG_IN).content.decode()
    )
    assert not enrolled(learner)

    response = log_in(client, learner)
    assert response.status_code == 302 and response["Location"] == TRACK
    assert enrolled(learner)
    page = client.get(TRACK).content.decode()
    assert "You are enrolled in Reinforcement Learning" in page
    assert 'id="track-progress"' in page and 'name="status"' in page


def test_a_learner_who_had_left_is_enrolled_again(client, track):
    learner = UserFactory()
    services.enrolment_join(learner=learner, track=track)
    services.enrolment_leave(learner=learner, track=track)
    press(client)
    assert log_in(client, learner)["Location"] == TRACK
    assert enrolled(learner) and Enrolment.objects.filter(learner=learner).count() == 1


def test_sign_up_and_enrol_confirms_the_address_then_lands_enrolled(client, track, newcomer_email):
    response = press(client, account="new")
    assert response.status_code == 302 and response["Location"] == SIGN_UP
    hint = client.get(SIGN_UP).content.decode()
    assert "confirm your email address" in hint and "be enrolled in Reinforcement Learning" in hint

    response = client.post(SIGN_UP, new_account(newcomer_email))
    assert response["Location"] == "/accounts/confirm-email/"
    newcomer = get_user_model().objects.get(email=newcomer_email)
    assert not enrolled(newcomer)  # not before the address is confirmed

    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[-1].body).group(0)
    response = client.post("/" + link.split("://", 1)[1].split("/", 1)[1])
    assert response.status_code == 302 and response["Location"] == TRACK
    assert enrolled(newcomer)
    page = client.get(TRACK).content.decode()
    assert "You are enrolled in Reinforcement Learning" in page and 'id="track-progress"' in page


@override_settings(ACCOUNT_EMAIL_VERIFICATION="none")
def test_sign_up_without_verification_lands_enrolled_at_once(client, track, newcomer_email):
    assert (
        "confirm your" not in client.get(press(client, account="new")["Location"]).content.decode()
    )
    response = client.post(SIGN_UP, new_account(newcomer_email))
    assert response.status_code == 302 and response["Location"] == TRACK
    assert enrolled(get_user_model().objects.get(email=newcomer_email))
    assert "You are enrolled in Reinforcement Learning" in client.get(TRACK).content.decode()


def test_confirming_in_another_browser_does_not_enrol_there(client, track, newcomer_email):
    """The press lives in the sign-up's session; the mail app's browser has none of it."""
    press(client, account="new")
    client.post(SIGN_UP, new_account(newcomer_email))
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[-1].body).group(0)
    phone = Client()
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    phone.post(path.split("?", 1)[0], {"next": TRACK})
    assert not enrolled(get_user_model().objects.get(email=newcomer_email))


def test_logging_in_from_the_plain_link_enrols_nobody(client, track):
    learner = UserFactory()
    assert log_in(client, learner, "/accounts/login/")["Location"] == "/me/"
    client.post("/accounts/logout/")
    # Even with the track page as `next`, a log-in without the press does not enrol.
    assert log_in(client, learner)["Location"] == TRACK
    assert not enrolled(learner)
    assert ">Enrol<" in client.get(TRACK).content.decode()


def test_someone_else_logging_in_later_on_the_same_browser_is_not_enrolled(client, track):
    press(client)  # the visitor walks away without logging in
    assert enrol_intent.SESSION_KEY in client.session
    other = UserFactory()
    assert log_in(client, other, "/accounts/login/")["Location"] == "/me/"
    assert not enrolled(other)
    # That log-in cleared the press (Django keeps an anonymous session's data at log-in), so
    # the next one, even back to the track page, enrols nobody.
    assert enrol_intent.SESSION_KEY not in client.session
    client.post("/accounts/logout/")
    assert log_in(client, other)["Location"] == TRACK
    assert not enrolled(other)


def test_a_press_enrols_at_most_once(client, track):
    learner = UserFactory()
    press(client)
    log_in(client, learner)
    services.enrolment_leave(learner=learner, track=track)
    client.post("/accounts/logout/")
    log_in(client, learner)
    assert not enrolled(learner)


def test_a_stale_press_enrols_nobody(client, track):
    learner = UserFactory()
    press(client)
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert log_in(client, learner)["Location"] == TRACK
    assert not enrolled(learner)


def test_a_track_archived_before_the_log_in_says_so(client, track):
    learner = UserFactory()
    press(client)
    track_set_archived(user=UserFactory(is_staff=True), track=track, archived=True)
    response = log_in(client, learner)
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Reinforcement Learning&#x27; is archived and takes no new learners" in (
        home.content.decode()
    )
    assert not Enrolment.objects.exists()


def test_pressing_on_an_archived_track_says_so(client, track):
    client.get(TRACK)  # the page was open before the track was archived
    track_set_archived(user=UserFactory(is_staff=True), track=track, archived=True)
    response = client.post("/tracks/rl/enrol", follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert "archived and takes no new learners" in response.content.decode()
    learner = UserFactory()
    log_in(client, learner, "/accounts/login/")
    assert not Enrolment.objects.exists()
