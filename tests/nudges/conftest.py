"""Real components for the nudge tests: an SMTP server on loopback (aiosmtpd, in a thread),
Celery worker processes started from the test (and always killed, with their children),
a listener that accepts connections and never answers (a hung broker), and learners who are
due at a given instant."""

from __future__ import annotations

import asyncio
import contextlib
import email
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from tests.conftest import missing_service
from tests.factories import ModuleFactory, ResourceFactory, TrackFactory, UserFactory
from tracker import services as tracker_services

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")


# --- SMTP -----------------------------------------------------------------------------------


class Recorder:
    """aiosmtpd handler that keeps every message, and answers chosen recipients with a
    chosen reply ("550 5.1.1 No such user", "451 Try again later"), or the message itself
    (`data_reply`). It offers PIPELINING (RFC 2920) like most mail servers, unless told not
    to (aiosmtpd reads pipelined commands in order; it just does not say so by itself)."""

    def __init__(self, *, pipelining: bool = True):
        self.messages: list[email.message.EmailMessage] = []
        self.rcpt_replies: dict[str, str] = {}
        self.data_reply = ""
        self.delay = 0.0
        self.pipelining = pipelining

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.data_reply:
            return self.data_reply
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings, request):
    """A real SMTP server on loopback; Django's SMTP backend in this process points at it.
    Indirect parametrisation with False gives one without PIPELINING."""
    from aiosmtpd.controller import Controller

    recorder = Recorder(pipelining=getattr(request, "param", True))
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    recorder.port = controller.port
    yield recorder
    controller.stop()


# --- brokers that fail ----------------------------------------------------------------------


@pytest.fixture
def hung_broker_url():
    """A listener that accepts connections (the kernel's backlog does) and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    listener.close()


@pytest.fixture
def closed_broker_url():
    return f"redis://127.0.0.1:{free_port()}/0"


# --- Celery workers -------------------------------------------------------------------------


class Workers:
    """Celery worker processes for one test, each in its own process group so that SIGKILL
    takes the pool's children too; every one is killed at the end of the test."""

    def __init__(self, env: dict, log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen] = []

    def start(self, *, concurrency: int = 2, timeout: float = 60) -> subprocess.Popen:
        log = self.log_dir / f"worker-{len(self.processes)}.log"
        process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "config",
                "worker",
                "--pool=prefork",
                f"--concurrency={concurrency}",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=nudge-test-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log = log
        self.processes.append(process)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"The Celery worker exited:\n{log.read_text()[-3000:]}")
            if b" ready." in log.read_bytes():
                return process
            time.sleep(0.2)
        self.kill(process)
        pytest.fail(f"The Celery worker did not start:\n{log.read_text()[-3000:]}")

    def kill(self, process: subprocess.Popen) -> None:
        if process.poll() is None or _group_alive(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def kill_all(self) -> None:
        for process in self.processes:
            self.kill(process)

    def logs(self) -> str:
        return "\n".join(p.log.read_text(errors="replace")[-4000:] for p in self.processes)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


# Celery's keys in its Redis database: the default queue (and its priority lists), kombu's
# bindings, unacknowledged messages and replies.
CELERY_KEY_PATTERNS = ("celery*", "_kombu.*", "unacked*", "*.reply.celery.pidbox")


def broker_key(name: str) -> str:
    """A broker key as Celery writes it (with this test process's prefix under `pytest -n`)."""
    return f"{settings.BROKER_KEY_PREFIX}{name}"


def purge_celery_keys(client) -> None:
    """Old task messages out of the broker, and nothing else: the cache shares this Redis
    database (sessions, rate limits), with the tests of the other xdist process and with an
    engineer's running server. FLUSHDB here emptied the other process's cached sessions
    mid-test, and its query counts then read one more query."""
    for pattern in CELERY_KEY_PATTERNS:
        for key in client.scan_iter(match=broker_key(pattern), count=1000):
            client.delete(key)


@pytest.fixture
def broker(redis_client):
    """The real Redis broker (this engineer's or CI's db number), emptied of old task
    messages."""
    purge_celery_keys(redis_client)
    yield redis_client
    purge_celery_keys(redis_client)


@pytest.fixture
def workers(transactional_db, broker, smtp_server, settings, tmp_path):
    """Start real Celery workers against the test database, the real broker and the test's
    SMTP server. Needs PostgreSQL: the worker processes share the test database."""
    if connection.vendor != "postgresql":
        missing_service("the Celery worker tests need PostgreSQL (set DATABASE_URL=postgres://...)")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port),
        "EMAIL_USE_TLS": "0",
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "SITE_URL": settings.SITE_URL,
        "NUDGE_LEASE_SECONDS": str(settings.NUDGE_LEASE_SECONDS),
        "NUDGE_RETRY_BASE_SECONDS": str(settings.NUDGE_RETRY_BASE_SECONDS),
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    if db.get("PASSWORD"):
        env["DATABASE_URL"] = env["DATABASE_URL"].replace(
            f"//{db['USER']}@", f"//{db['USER']}:{db['PASSWORD']}@"
        )
    pool = Workers(env, tmp_path)
    yield pool
    pool.kill_all()


# --- learners -------------------------------------------------------------------------------


def wall(zone: str, instant: datetime) -> tuple[int, int]:
    """(weekday, hour) that `instant` shows on the clocks of `zone`."""
    local = instant.astimezone(__import__("zoneinfo").ZoneInfo(zone))
    return local.weekday(), local.hour


def make_learner(*, zone: str = "UTC", weekday: int = 0, hour: int = 9, track=None, **user):
    learner = UserFactory(**user)
    tracker_services.profile_update(
        user=learner,
        display_name=f"Learner {learner.pk}",
        time_zone=zone,
        nudge_enabled=True,
        nudge_weekday=weekday,
        nudge_hour=hour,
    )
    if track is not None:
        tracker_services.enrolment_join(
            learner=learner, track=track, now=timezone.now() - timedelta(days=30)
        )
    return learner


def make_due_learner(instant: datetime, *, zone: str = "UTC", track=None, **user):
    weekday, hour = wall(zone, instant)
    return make_learner(zone=zone, weekday=weekday, hour=hour, track=track, **user)


@pytest.fixture
def small_track(db):
    track = TrackFactory(title="Deep Learning Basics", slug="dl-basics")
    first = ModuleFactory(track=track, title="Start", slug="start", position=0, weeks=2)
    second = ModuleFactory(track=track, title="Next", slug="next", position=1, weeks=2)
    for position, slug in enumerate(["intro-video", "first-notebook", "first-exercise", "reading"]):
        ResourceFactory(module=first, slug=slug, title=f"Item {slug}", position=position)
    ResourceFactory(module=second, slug="second-video", title="Item second-video", position=0)
    return track


def top_of_hour(now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0)


def wait_for(condition, *, timeout: float, interval: float = 0.2, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(message or "timed out")
