"""Simulated learners over HTTP (stdlib only): each logs in through the real form, then marks
random resources of their track done and undone, looks at the dashboard now and then, and logs
out and in again every so often, until the deadline. Every request is recorded.

A learner thinks for `think` seconds (uniformly drawn) between clicks: 50 learners at 0.5-1.5 s
offer about 50 clicks a second, what a busy evening of a large cohort might look like."""

from __future__ import annotations

import http.client
import random
import statistics
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

from scripts.stack import PASSWORD

TIMEOUT = 10.0


@dataclass
class Hit:
    at: float  # seconds since the run started
    kind: str
    status: int  # 0 when no answer came (connection refused, timeout)
    seconds: float
    error: str = ""
    body_hint: str = ""


class Browser:
    """One learner's browser: keep-alive connections, cookies, CSRF, the proxy headers."""

    def __init__(self, base_url: str, client_ip: str, urls: list[str] | None = None):
        self.urls = urls or [base_url]  # several: round-robin between instances
        self.turn = 0
        self.client_ip = client_ip
        self.cookies: dict[str, str] = {}
        self.connections: dict[str, http.client.HTTPConnection] = {}

    def _connection(self, base_url: str) -> http.client.HTTPConnection:
        if base_url not in self.connections:
            netloc = urllib.parse.urlsplit(base_url).netloc
            self.connections[base_url] = http.client.HTTPConnection(netloc, timeout=TIMEOUT)
        return self.connections[base_url]

    def next_url(self) -> str:
        base = self.urls[self.turn % len(self.urls)]
        self.turn += 1
        return base

    def request(
        self,
        method: str,
        path: str,
        data: dict | None = None,
        *,
        htmx: bool = False,
        base_url: str | None = None,
    ) -> tuple[int, dict[str, str], str]:
        base = base_url or self.next_url()
        netloc = urllib.parse.urlsplit(base).netloc
        headers = {
            "Host": netloc,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.client_ip,
            "User-Agent": "waymark-reliability",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if method == "POST":
            headers["Origin"] = f"https://{netloc}"
            headers["Referer"] = f"https://{netloc}{path}"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(data or {}, doseq=True)
        if htmx:
            headers["HX-Request"] = "true"
        connection = self._connection(base)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        except Exception:
            connection.close()
            self.connections.pop(base, None)
            raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                self._set_cookie(value)
        return response.status, dict(response.getheaders()), text

    def _set_cookie(self, header: str) -> None:
        name, _, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        expired = "max-age=0" in header.lower().replace(" ", "")
        if expired or value in ('""', ""):
            self.cookies.pop(name.strip(), None)
        else:
            self.cookies[name.strip()] = value

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()


@dataclass
class Run:
    started: float = field(default_factory=time.monotonic)
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, hit: Hit) -> None:
        with self.lock:
            self.hits.append(hit)

    def timed(self, browser: Browser, kind: str, method: str, path: str, **kwargs):
        started = time.monotonic()
        try:
            status, headers, text = browser.request(method, path, **kwargs)
            error = ""
        except Exception as exc:  # no answer at all: recorded as status 0
            status, headers, text, error = 0, {}, "", f"{type(exc).__name__}: {exc}"
        elapsed = time.monotonic() - started
        hint = ""
        if status >= 500 or status == 0:
            hint = "friendly 503" if "Back in a moment" in text else text[:120]
        self.record(Hit(started - self.started, kind, status, elapsed, error, hint))
        return status, headers, text


def log_in(run: Run, browser: Browser, email: str) -> bool:
    run.timed(browser, "login page", "GET", "/accounts/login/")
    status, headers, _ = run.timed(
        browser, "log in", "POST", "/accounts/login/", data={"login": email, "password": PASSWORD}
    )
    return status == 302 and headers.get("Location", "").startswith("/me/")


def learner(
    run: Run,
    browser: Browser,
    account: dict,
    index: int,
    deadline: float,
    think: tuple[float, float],
    stop: threading.Event,
    max_marks: int | None = None,
) -> None:
    rng = random.Random(index)
    slug = account["track"]
    logged_in = True  # by run_learners, before the clock started
    actions = 0
    try:
        while time.monotonic() < deadline and not stop.is_set():
            if max_marks is not None and actions >= max_marks:
                break
            if not logged_in:
                logged_in = log_in(run, browser, account["email"])
                if not logged_in:
                    time.sleep(rng.uniform(*think))
                    continue
            resource = rng.choice(account["resources"])
            url = f"/tracks/{slug}/items/{resource}/status"
            status = rng.choice(["done", "done", "in_progress", "not_started", "skipped"])
            run.timed(browser, "mark", "POST", url, data={"status": status}, htmx=True)
            actions += 1
            # Each learner on their own beat (offset by their index): people do not all open
            # their dashboard or log in again at the same second. In step, the 50 log-ins
            # (a deliberately slow password hash each, ~0.8 s of CPU) came as one burst that
            # kept two cores busy for 20 s, whatever the fault of the moment.
            if (actions + index) % 20 == 0:
                run.timed(browser, "dashboard", "GET", "/me/")
            if (actions + index) % 30 == 0:  # log out and in again: log-ins during faults too
                run.timed(browser, "log out", "POST", "/accounts/logout/")
                logged_in = False
            time.sleep(rng.uniform(*think))
    finally:
        browser.close()


def log_everyone_in(urls: list[str], accounts: list[dict], at_once: int = 4) -> list[Browser]:
    """Before the clock starts: 50 log-ins at the same instant would measure password hashing
    (deliberately slow), not the clicks."""
    warm_up = Run()
    browsers = [
        Browser(urls[0], f"10.{i // 250}.{i % 250}.7", urls=urls) for i in range(len(accounts))
    ]
    pending = list(enumerate(accounts))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                if not pending:
                    return
                i, account = pending.pop()
            for _ in range(5):
                if log_in(warm_up, browsers[i], account["email"]):
                    break
            else:
                raise RuntimeError(f"{account['email']} could not log in")

    workers = [threading.Thread(target=work) for _ in range(at_once)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return browsers


def run_learners(
    urls: list[str],
    accounts: list[dict],
    seconds: float,
    think=(0.5, 1.5),
    during=None,
    max_marks: int | None = None,
) -> Run:
    """Log every account in, then run each as a concurrent learner for `seconds` (or until
    each has made `max_marks` clicks). `during(run)` runs in its own thread meanwhile (a
    fault schedule, with times relative to `run.started`)."""
    browsers = log_everyone_in(urls, accounts)
    run = Run()
    deadline = run.started + seconds
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=learner,
            args=(run, browser, account, i, deadline, think, stop, max_marks),
            daemon=True,
        )
        for i, (browser, account) in enumerate(zip(browsers, accounts, strict=True))
    ]
    for thread in threads:
        thread.start()
    fault = threading.Thread(target=during, args=(run,), daemon=True) if during else None
    if fault:
        fault.start()
    for thread in threads:
        thread.join(seconds + TIMEOUT + 30)
    stop.set()
    if fault:
        fault.join(60)
    return run


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summarize(run: Run, window: tuple[float, float] | None = None) -> dict:
    hits = [h for h in run.hits if window is None or window[0] <= h.at < window[1]]
    marks = [h for h in hits if h.kind == "mark"]
    duration = max((h.at + h.seconds for h in hits), default=0.0)
    seconds = [h.seconds for h in hits]
    return {
        "requests": len(hits),
        "per_second": round(len(hits) / duration, 1) if duration else 0.0,
        "marks": len(marks),
        "marks_failed": sum(1 for h in marks if h.status != 200),
        "status": dict(sorted(Counter(h.status for h in hits).items())),
        "5xx": sum(1 for h in hits if h.status >= 500),
        "500": sum(1 for h in hits if h.status == 500),
        "no_answer": sum(1 for h in hits if h.status == 0),
        "over_1s": sum(1 for h in hits if h.seconds >= 1.0),
        "p50_ms": round(statistics.median(seconds) * 1000, 1) if seconds else 0.0,
        "p95_ms": round(percentile(seconds, 0.95) * 1000, 1),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 1),
        "max_ms": round(max(seconds, default=0.0) * 1000, 1),
        "by_kind": {
            kind: {
                "count": len(times),
                "p50_ms": round(statistics.median(times) * 1000, 1),
                "max_ms": round(max(times) * 1000, 1),
            }
            for kind in sorted({h.kind for h in hits})
            for times in [[h.seconds for h in hits if h.kind == kind]]
        },
        "slowest": [
            f"{h.kind} {h.status} at {h.at:.1f} s: {h.seconds * 1000:.0f} ms"
            for h in sorted(hits, key=lambda h: -h.seconds)[:8]
        ],
        "errors": sorted(
            {h.error or h.body_hint for h in hits if h.status >= 500 or h.status == 0}
        )[:5],
    }
