"""Run the Dockerfile's steps without Docker, and check the result works.

    .venv/bin/python scripts/image_check.py          (make image-check)

Reads the Dockerfile and replays it in a temporary directory: `/venv` and `/app` become
directories there, `COPY` copies, `ENV` sets, `RUN` runs (the `useradd` step is replaced by the
system's `nobody`), then `CMD` starts gunicorn as that unprivileged user (when run as root)
with production settings and a SQLite database, and the script checks: the app directory is
not writable by it, /healthz answers over plain HTTP (as the HEALTHCHECK probes), a page and a
hashed static file are served, and the HEALTHCHECK command itself passes.
Needs Python 3.11 and the package registry (pip install); takes a minute or two.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.private_services import free_port, wait_for_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# The image runs as an unprivileged user: use a Python that user can run (not one under
# /root, as pyenv installs it for root).
PYTHON = os.environ.get(
    "PYTHON", "/usr/bin/python3.11" if Path("/usr/bin/python3.11").exists() else "python3.11"
)


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    steps = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        steps.append((word.upper(), rest.strip()))
    return steps


class Replay:
    def __init__(self, root: Path):
        self.root = root
        self.env = {"PATH": os.environ["PATH"], "HOME": str(root / "home"), "LANG": "C.UTF-8"}
        self.workdir = "/"
        self.user = "root"
        self.cmd: list[str] = []
        self.healthcheck = ""
        (root / "home").mkdir()

    def path(self, inside: str) -> str:
        """An image path (/venv, /app/...) as a directory of the replay."""
        return re.sub(r"(?<![\w.])/(venv|app)\b", lambda m: str(self.root / m.group(1)), inside)

    def run(self, command: str) -> None:
        if command.startswith("useradd"):
            print("  (skipped: useradd; the unprivileged user here is `nobody`)")
            return
        command = self.path(command)
        print(f"  RUN {command[:110]}")
        subprocess.run(["sh", "-c", command], cwd=self.path(self.workdir), env=self.env, check=True)

    def step(self, word: str, args: str) -> None:
        if word == "FROM":
            print(f"  FROM {args} (this machine's {PYTHON} instead)")
        elif word == "ENV":
            for key, value in re.findall(r"(\w+)=(\S+)", args):
                value = value.replace("$PATH", self.env["PATH"])
                self.env[key] = self.path(value)
            self.env["PATH"] = self.path(self.env["PATH"])
        elif word == "WORKDIR":
            self.workdir = args
            Path(self.path(args)).mkdir(parents=True, exist_ok=True)
        elif word == "COPY":
            parts = shlex.split(args)
            if parts[0].startswith("--from="):
                return  # the build stage's /venv is this replay's /venv already
            *sources, target = parts
            target_dir = Path(
                self.path(target if target.startswith("/") else f"{self.workdir}/{target}")
            )
            for source in sources:
                origin = ROOT / source
                if origin.is_dir():
                    shutil.copytree(
                        origin,
                        target_dir / source
                        if target.endswith("/") or target == "./"
                        else target_dir,
                        dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                    )
                else:
                    target_dir.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, target_dir / origin.name)
        elif word == "RUN":
            self.run(args)
        elif word == "USER":
            self.user = args
        elif word == "CMD":
            self.cmd = [self.path(part) for part in __import__("json").loads(args)]
        elif word == "HEALTHCHECK":
            self.healthcheck = args.split(" CMD ", 1)[1]
        elif word in {"EXPOSE", "ARG", "LABEL"}:
            pass
        else:
            raise SystemExit(f"image_check does not know the instruction {word}")


def as_unprivileged() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


def main() -> int:
    dockerfile = ROOT / "Dockerfile"
    root = Path(tempfile.mkdtemp(prefix="waymark-image-"))
    web = None
    try:
        os.chmod(root, 0o755)
        # The build stage's base image has python; here: a venv from this machine's Python.
        subprocess.run([PYTHON, "-m", "venv", str(root / "venv")], check=True)
        replay = Replay(root)
        print(f"== replaying {dockerfile.name} in {root}")
        for word, args in instructions(dockerfile):
            if word == "RUN" and "python -m venv /venv" in args:
                continue  # done above
            replay.step(word, args)
        checks: list[tuple[str, bool]] = []
        checks.append(("the image runs as a non-root user", replay.user not in {"", "root", "0"}))
        for path in (root, root / "venv", root / "app", root / "home"):
            os.chmod(path, 0o755)
        data = root / "data"
        data.mkdir()
        os.chmod(data, 0o777)  # the only place the app may write (its SQLite file)
        port = free_port()
        env = {
            **replay.env,
            "SECRET_KEY": "image-check-" + "x" * 50,
            "SITE_URL": "https://waymark.example",
            "ALLOWED_HOSTS": "waymark.example",
            "DATABASE_URL": f"sqlite:///{data / 'waymark.sqlite3'}",
            "BEHIND_TLS_PROXY": "1",
            "PORT": str(port),
            "WEB_CONCURRENCY": "2",
            "HOME": str(data),
        }
        env.pop("REDIS_URL", None)
        app = root / "app"
        migrated = subprocess.run(
            [
                *as_unprivileged(),
                str(root / "venv/bin/python"),
                "manage.py",
                "migrate",
                "--noinput",
            ],
            cwd=app,
            env=env,
            capture_output=True,
            text=True,
        )
        if migrated.returncode != 0:
            raise SystemExit(f"migrate failed as the app's user:\n{migrated.stderr[-3000:]}")
        writable = (
            subprocess.run(
                [*as_unprivileged(), "sh", "-c", f"touch {app}/probe"], capture_output=True
            ).returncode
            == 0
        )
        checks.append(
            (
                "the app directory is not writable by the app's user",
                not writable or not as_unprivileged(),
            )
        )
        print(f"  CMD {' '.join(replay.cmd)[:110]} (as {'nobody' if as_unprivileged() else 'me'})")
        web = subprocess.Popen(
            [*as_unprivileged(), *replay.cmd],
            cwd=app,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(port, timeout=30)

        def get(path: str, **headers: str) -> tuple[int, str]:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", headers={"Host": "waymark.example", **headers}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, response.read().decode("utf-8", "replace")
            except urllib.error.HTTPError as error:
                return error.code, ""

        deadline = time.monotonic() + 20
        status = 0
        while time.monotonic() < deadline and status != 200:
            status, body = get("/healthz")
            time.sleep(0.3)
        checks.append(("/healthz answers 200 over plain HTTP", status == 200))
        status, page = get("/", **{"X-Forwarded-Proto": "https"})
        checks.append(("the home page answers 200 in production mode", status == 200))
        css = re.search(r'href="(/static/css/waymark\.[0-9a-f]{12}\.css)"', page)
        checks.append(("static files were collected at build (hashed names)", css is not None))
        if css:
            status, _ = get(css.group(1), **{"X-Forwarded-Proto": "https"})
            checks.append(("whitenoise serves them", status == 200))
        probe = subprocess.run(
            ["sh", "-c", replay.path(replay.healthcheck)], env=env, capture_output=True, text=True
        )
        checks.append(("the HEALTHCHECK command passes", probe.returncode == 0))
        print("== results")
        for name, held in checks:
            print(f"  [{'ok  ' if held else 'FAIL'}] {name}")
        return 0 if all(held for _, held in checks) else 1
    finally:
        if web is not None:
            web.terminate()
            web.wait(10)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
