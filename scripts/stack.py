"""A private Waymark stack for load and fault runs: its own PostgreSQL cluster (or a SQLite
file), its own Redis, and gunicorn instances on free loopback ports, all in production mode
(DEBUG=0) behind a pretend TLS proxy, as measured.md describes.

    with Stack(database="postgres") as stack:
        stack.prepare(learners=50)          # migrate, load seeds/, create learners
        web = stack.gunicorn(workers=4)     # web.url
        ...
        stack.manage("check_points")
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from scripts.private_services import PrivatePostgres, PrivateRedis, free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
PYTHON = os.environ.get("WAYMARK_PYTHON") or (
    str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
)
PASSWORD = "load-test-Passphrase-42"
SECRET_KEY = "reliability-run-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


@dataclass
class Web:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Stack:
    database: str = "postgres"  # or "sqlite"
    redis: bool = True
    debug: bool = False  # production mode unless a test asks for less set-up
    dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="waymark-stack-")))
    pg: PrivatePostgres | None = None
    redis_server: PrivateRedis | None = None
    webs: list[Web] = field(default_factory=list)

    # --- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> Stack:
        if self.database == "postgres":
            self.pg = PrivatePostgres()
            self.pg.__enter__()
            self.pg.createdb("waymark")
        if self.redis:
            self.redis_server = PrivateRedis().start()
        return self

    def __exit__(self, *exc) -> None:
        for web in self.webs:
            web.stop()
        if self.redis_server:
            self.redis_server.__exit__()
        if self.pg:
            self.pg.__exit__()
        if os.environ.get("WAYMARK_KEEP_STACK"):  # its logs, for a run to look into
            print(f"kept the stack's files in {self.dir}", flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def database_url(self) -> str:
        if self.database == "postgres":
            assert self.pg is not None
            return self.pg.url("waymark")
        return f"sqlite:///{self.dir / 'waymark.sqlite3'}"

    def env(self, **extra: str) -> dict[str, str]:
        keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PG_BIN"}
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DEBUG="1" if self.debug else "0",
            SECRET_KEY=SECRET_KEY,
            SITE_URL="https://127.0.0.1",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            BEHIND_TLS_PROXY="1",
            TRUSTED_PROXY_COUNT="1",
            DATABASE_URL=self.database_url,
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        if self.redis_server:
            env["REDIS_URL"] = self.redis_server.url
        env.update(extra)
        return env

    # --- Django --------------------------------------------------------------------------
    def manage(self, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def python(self, code: str, **env: str) -> str:
        """Run Python with Django set up in this stack's environment; return its stdout."""
        script = "import django\ndjango.setup()\n" + code
        result = subprocess.run(
            [PYTHON, "-c", script],
            cwd=ROOT,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise RuntimeError(f"python failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def prepare(
        self, *, learners: int = 50, track: str = "fastai-part1", seeds: str = "seeds/"
    ) -> list[dict]:
        """Migrate, collect static files (production mode), load `seeds`, and create
        `learners` learners with confirmed addresses, each enrolled in `track`. Returns their
        emails and the track's resources."""
        self.manage("migrate", "--noinput")
        if not self.debug:
            self.manage("collectstatic", "--noinput")
        self.manage("load_curriculum", seeds)
        out = self.python(
            f"""
import json
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from curriculum.models import Resource, Track
from tracker import services
User = get_user_model()
track = Track.objects.get(slug={track!r})
hashed = make_password({PASSWORD!r})
users = User.objects.bulk_create(
    [User(username=f"load{{i}}", email=f"load{{i}}@example.com", password=hashed)
     for i in range({learners})]
)
EmailAddress.objects.bulk_create(
    [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users]
)
for user in users:
    services.enrolment_join(learner=user, track=track)
resources = list(Resource.objects.filter(track=track, archived_at__isnull=True)
                 .exclude(kind="track").values_list("slug", flat=True))
print(json.dumps({{"emails": [u.email for u in users], "resources": resources}}))
"""
        )
        data = json.loads(out.strip().splitlines()[-1])
        return [
            {"email": email, "track": track, "resources": data["resources"]}
            for email in data["emails"]
        ]

    def check_points(self) -> dict:
        result = self.manage("check_points", "--json", check=False)
        return json.loads(result.stdout.strip().splitlines()[-1])

    def check_totals(self) -> dict:
        """`repair_totals --check`: every enrolment's totals and points total against a
        recomputation from progress, submissions and the ledger (changes nothing)."""
        result = self.manage("repair_totals", "--check", "--json", check=False)
        return json.loads(result.stdout.strip().splitlines()[-1])

    # --- web -----------------------------------------------------------------------------
    def gunicorn(self, *, workers: int = 4, threads: int = 1, **env: str) -> Web:
        port = free_port()
        log = self.dir / f"gunicorn-{port}.log"
        process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
                "--access-logfile",
                "-",
                "--access-logformat",
                "%(s)s %(m)s %(U)s %(M)sms",
            ],
            cwd=ROOT,
            env=self.env(**env),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        wait_for_port(port, timeout=30)
        web = Web(process=process, port=port, log=log)
        self._wait_healthy(web)
        self.webs.append(web)
        return web

    @staticmethod
    def _wait_healthy(web: Web, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        request = urllib.request.Request(
            web.url + "/healthz", headers={"X-Forwarded-Proto": "https"}
        )
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn on {web.url} is not healthy:\n{web.log_text()[-3000:]}")
