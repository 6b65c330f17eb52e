"""Load over HTTP: gunicorn (2 sync workers, production settings behind the TLS-proxy setting)
serving the 25-resource track page to 16 logged-in clients with wrk, then the trivial floor
view through the same middleware in the same run; and the workers' memory afterwards."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .environment import FLOOR_PATH
from .timing import require

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
CONNECTIONS = 16
WRK_THREADS = 2

# Each request takes the next client's session, so all 16 sessions are used evenly; any answer
# but 200 (a redirect to the log-in page, say) counts as an error, not as throughput.
WRK_SCRIPT = """
local cookies = {%(cookies)s}
local counter = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_ok = 0
end

function request()
  counter = counter + 1
  local cookie = cookies[(counter %% #cookies) + 1]
  return wrk.format("GET", "%(path)s", {
    ["Cookie"] = "%(cookie_name)s=" .. cookie,
    ["X-Forwarded-Proto"] = "https",
  })
end

function response(status, headers, body)
  if status ~= 200 then not_ok = not_ok + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("not_ok") end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, '
    .. '"socket_errors": %%d, "not_ok": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, bad))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


@dataclass
class Gunicorn:
    port: int
    process: subprocess.Popen
    log: Path

    @classmethod
    def start(cls) -> Gunicorn:
        port = free_port()
        log = Path(tempfile.mkstemp(prefix="bench-gunicorn-", suffix=".log")[1])
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi:application",
            f"--workers={WORKERS}",
            f"--bind=127.0.0.1:{port}",
            "--log-level=warning",
        ]
        with log.open("w") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT
            )
        server = cls(port, process, log)
        server.wait_ready()
        return server

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str, cookie: str | None = None) -> tuple[int, str]:
        from django.conf import settings

        request = urllib.request.Request(self.url(path), headers={"X-Forwarded-Proto": "https"})
        if cookie:
            request.add_header("Cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}")
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            require(self.process.poll() is None, f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                if self.get(FLOOR_PATH)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer in 30 s: {self.log.read_text()[-2000:]}")

    def worker_rss_mb(self) -> float:
        return max(rss_mb(pid) for pid in children(self.process.pid))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def wrk(server: Gunicorn, path: str, cookies: list[str], seconds: int) -> dict:
    from django.conf import settings

    script = Path(tempfile.mkstemp(prefix="bench-", suffix=".lua")[1])
    script.write_text(
        WRK_SCRIPT
        % {
            "cookies": ", ".join(f'"{c}"' for c in cookies),
            "path": path,
            "cookie_name": settings.SESSION_COOKIE_NAME,
        }
    )
    try:
        output = subprocess.run(
            [
                "wrk",
                f"--threads={WRK_THREADS}",
                f"--connections={CONNECTIONS}",
                f"--duration={seconds}s",
                "--timeout=10s",
                f"--script={script}",
                server.url(path),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        script.unlink()
    line = next(line for line in output.splitlines() if line.startswith("WRK "))
    figures = json.loads(line[4:])
    return {
        "rps": figures["requests"] / (figures["duration_us"] / 1e6),
        "p99_ms": figures["p99_us"] / 1000,
        "p50_ms": figures["p50_us"] / 1000,
        "errors": figures["socket_errors"] + figures["not_ok"],
        "requests": figures["requests"],
    }


def require_wrk() -> None:
    require(
        shutil.which("wrk") is not None,
        "wrk is not installed (`make bench` installs Debian's package; or apt-get install wrk)",
    )


def measure_http(*, page_path: str, cookies: list[str], check_page, seconds: int, warmup: int):
    """Load the page, then the floor, on one gunicorn. `check_page(status, html)` must accept
    every client's answer before any load starts."""
    require_wrk()
    server = Gunicorn.start()
    try:
        for cookie in cookies:
            check_page(*server.get(page_path, cookie))
        status, body = server.get(FLOOR_PATH, cookies[0])
        require(status == 200 and body == "ok", f"floor view: HTTP {status}")
        wrk(server, page_path, cookies, warmup)
        page = wrk(server, page_path, cookies, seconds)
        wrk(server, FLOOR_PATH, cookies, warmup)
        floor = wrk(server, FLOOR_PATH, cookies, seconds)
        rss = server.worker_rss_mb()
    finally:
        server.stop()
    return {
        "http_rps": page["rps"],
        "http_p99_ms": page["p99_ms"],
        "http_p50_ms": page["p50_ms"],
        "http_errors": page["errors"],
        "http_floor_errors": floor["errors"],
        "http_requests": page["requests"],
        "http_floor_rps": floor["rps"],
        "http_floor_p99_ms": floor["p99_ms"],
        "web_rss_mb": rss,
    }
