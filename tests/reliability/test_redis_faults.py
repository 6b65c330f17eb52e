"""Redis down or hung: learners still log in and log progress, every request answers within a
second, rate limits still hold, and nothing stale comes back when Redis does.

Each test runs its own Redis (stopped, or paused with SIGSTOP so it hangs with its data) or a
listener that accepts and never answers; the shared Redis is never touched."""

from __future__ import annotations

import time

import pytest
from django.core.cache import caches

from ops.cache import circuit_for
from tests.factories import ResourceFactory, UserFactory
from tracker.models import PointsEntry, Progress

from .conftest import RETRY_AFTER

pytestmark = [pytest.mark.django_db, pytest.mark.services]
PASSWORD = "correct horse battery staple"
BUDGET_SECONDS = 1.0


def timed(call, *args, **kwargs):
    started = time.perf_counter()
    response = call(*args, **kwargs)
    elapsed = time.perf_counter() - started
    assert elapsed < BUDGET_SECONDS, f"{args[0]} took {elapsed:.2f} s"
    return response


def log_in_and_mark_done(client) -> None:
    learner = UserFactory(email="ada@example.com")
    resource = ResourceFactory(points=7)
    track = resource.track.slug
    response = timed(
        client.post, "/accounts/login/", {"login": learner.email, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert timed(client.get, "/me/").status_code == 200
    assert timed(client.post, f"/tracks/{track}/enrol").status_code == 302
    url = f"/tracks/{track}/items/{resource.slug}/status"
    assert timed(client.post, url, {"status": "done"}, HTTP_HX_REQUEST="true").status_code == 200
    assert Progress.objects.get(learner=learner, resource=resource).status == "done"
    assert PointsEntry.objects.filter(learner=learner).count() == 1
    assert timed(client.post, url, {"status": "in_progress"}).status_code == 302
    assert Progress.objects.get(learner=learner, resource=resource).status == "in_progress"


def test_with_redis_stopped_learners_log_in_and_log_progress(client, private_redis, cache_on):
    cache_on(private_redis.url)
    private_redis.stop()
    log_in_and_mark_done(client)
    assert circuit_for("redis").is_open


def test_with_redis_hung_every_request_answers_within_a_second(client, hung_redis, cache_on):
    cache_on(hung_redis.url)
    log_in_and_mark_done(client)
    assert circuit_for("redis").is_open


def test_with_redis_paused_mid_session_progress_goes_on(client, private_redis, cache_on):
    """Logged in while Redis answered; then Redis hangs (SIGSTOP keeps its data)."""
    cache_on(private_redis.url)
    learner = UserFactory()
    resource = ResourceFactory()
    client.post("/accounts/login/", {"login": learner.email, "password": PASSWORD})
    client.post(f"/tracks/{resource.track.slug}/enrol")
    private_redis.pause()
    try:
        url = f"/tracks/{resource.track.slug}/items/{resource.slug}/status"
        assert timed(client.post, url, {"status": "done"}).status_code == 302
        assert timed(client.get, "/me/").status_code == 200
    finally:
        private_redis.resume()
    assert Progress.objects.get(learner=learner, resource=resource).status == "done"


def test_a_log_out_during_the_outage_stays_a_log_out_when_redis_returns(
    client, private_redis, cache_on
):
    cache_on(private_redis.url)
    learner = UserFactory()
    client.post("/accounts/login/", {"login": learner.email, "password": PASSWORD})
    assert client.get("/me/").status_code == 200  # the session is now cached in Redis
    stolen_cookie = client.cookies["sessionid"].value

    private_redis.pause()
    try:
        assert timed(client.post, "/accounts/logout/").status_code == 302
    finally:
        private_redis.resume()
    time.sleep(RETRY_AFTER + 0.1)

    client.cookies["sessionid"] = stolen_cookie
    response = client.get("/me/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not circuit_for("redis").is_open  # back on Redis


def test_failed_log_ins_are_still_counted_while_redis_is_down(client, private_redis, cache_on):
    cache_on(private_redis.url)
    private_redis.stop()
    learner = UserFactory()
    for _ in range(5):
        client.post("/accounts/login/", {"login": learner.email, "password": "wrong guess"})
    response = timed(
        client.post, "/accounts/login/", {"login": learner.email, "password": PASSWORD}
    )
    assert "Too many failed login attempts" in response.content.decode()
    assert client.get("/me/").status_code == 302


def test_the_cache_returns_to_redis_and_forgets_what_it_missed(private_redis, cache_on):
    cache_on(private_redis.url)
    cache = caches["default"]
    cache.set("greeting", "before")
    assert caches["redis"].get("greeting") == "before"

    private_redis.pause()
    try:
        cache.set("greeting", "during")  # Redis missed this
        assert cache.get("greeting") == "during"  # from the database cache
    finally:
        private_redis.resume()
    time.sleep(RETRY_AFTER + 0.1)

    assert cache.get("greeting") is None  # Redis's stale "before" was purged, not served
    cache.set("greeting", "after")
    assert caches["redis"].get("greeting") == "after"
    assert caches["database"].get("greeting") != "after"
