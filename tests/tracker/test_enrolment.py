"""Enrolling in a track, leaving it, and coming back."""

import pytest
from django.utils import timezone

from tests.factories import ModuleFactory, ResourceFactory, TrackFactory, UserFactory
from tracker.models import Enrolment, Profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def resource():
    track = TrackFactory(slug="rl", title="Reinforcement Learning")
    return ResourceFactory(module=ModuleFactory(track=track), slug="bandits", minutes=35)


def test_enrol_then_leave_then_enrol_again_keeps_progress_and_points(client, user, resource):
    client.force_login(user)
    response = client.post("/tracks/rl/enrol")
    assert response.status_code == 302 and response["Location"] == "/tracks/rl/"
    page = client.get("/tracks/rl/").content.decode()
    assert "You are enrolled in Reinforcement Learning" in page and 'name="status"' in page

    client.post("/tracks/rl/items/bandits/status", {"status": "done"})
    assert Profile.objects.get(user=user).points_total == 35

    response = client.post("/tracks/rl/leave")
    assert response["Location"] == "/tracks/rl/"
    page = client.get("/tracks/rl/").content.decode()
    assert "You left Reinforcement Learning" in page
    assert 'name="status"' not in page and ">Enrol again<" in page
    assert Enrolment.objects.get(learner=user).left_at is not None
    # Having left, the status control is refused.
    client.post("/tracks/rl/items/bandits/status", {"status": "not_started"})
    assert Profile.objects.get(user=user).points_total == 35

    client.post("/tracks/rl/enrol")
    page = client.get("/tracks/rl/").content.decode()
    assert Enrolment.objects.get(learner=user).left_at is None
    assert 'value="done" class="status-done" aria-pressed="true"' in page
    assert "1 of 1 done · 100%" in page
    assert Profile.objects.get(user=user).points_total == 35


def test_enrolling_twice_keeps_one_enrolment(client, user, resource):
    client.force_login(user)
    client.post("/tracks/rl/enrol")
    client.post("/tracks/rl/enrol")
    assert Enrolment.objects.filter(learner=user).count() == 1


def test_archived_track_refuses_new_learners(client, user):
    TrackFactory(slug="old", title="Old Track", archived_at=timezone.now())
    client.force_login(user)
    response = client.post("/tracks/old/enrol", follow=True)
    assert "archived and takes no new learners" in response.content.decode()
    assert not Enrolment.objects.exists()


def test_enrol_and_leave_need_login_and_post(client, resource):
    assert client.post("/tracks/rl/enrol")["Location"].startswith("/accounts/login/")
    client.force_login(UserFactory())
    assert client.get("/tracks/rl/enrol").status_code == 405
    assert client.get("/tracks/rl/leave").status_code == 405
    assert client.post("/tracks/nope/enrol").status_code == 404
    assert not Enrolment.objects.exists()


def test_enrolling_from_a_capstone_page_returns_there_but_never_off_site(client, user, resource):
    client.force_login(user)
    back = "/tracks/rl/capstones/final/"
    response = client.post("/tracks/rl/enrol", {"next": back})
    assert response["Location"] == back
    client.post("/tracks/rl/leave")
    for elsewhere in ["https://evil.example/", "//evil.example/", "/\\evil.example/"]:
        response = client.post("/tracks/rl/enrol", {"next": elsewhere})
        assert response["Location"] == "/tracks/rl/", elsewhere
