"""Figures measured inside this process: reading the YAML, loading it, and two learner requests
(mark-done and the track page) through Django's full request cycle (middleware, view,
templates) with production settings. Every timed action is checked: its status code, the
content that proves it did its job, and, for writes, the database afterwards; the checks run
after the timed calls, so the figures are the requests' alone."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.test import Client

from curriculum.loader import load_paths
from curriculum.models import Resource
from tracker.models import PointsEntry, Profile, Progress

from .environment import FLOOR_PATH
from .learners import Dataset
from .scales import Scale
from .timing import (
    counting_queries,
    median,
    p95,
    repeat_timed,
    repeat_timed_cpu,
    require,
    timed,
)

HTMX = {"HX-Request": "true"}
ROW = re.compile(r'<li\b[^>]*\bid="resource-(?P<slug>[\w-]+)"[^>]*>')
STATUS_CLASS = re.compile(r"\bis-(not_started|in_progress|done|skipped)\b")


def logged_in_client(user_id: int) -> Client:
    """A browser session as production sees it: behind the TLS proxy, logged in."""
    from django.contrib.auth import get_user_model

    client = Client(headers={"X-Forwarded-Proto": "https"})
    client.force_login(get_user_model().objects.get(pk=user_id))
    return client


def post_done(client: Client, url: str):
    """A click on a row's Done button, as htmx sends it: urlencoded (Django's test client would
    send multipart), with htmx's request header."""
    return client.post(
        url, "status=done", content_type="application/x-www-form-urlencoded", headers=HTMX
    )


def session_cookie(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def row_statuses(html: str) -> dict[str, str]:
    """{resource slug: status} for every resource row the page shows."""
    found = {}
    for match in ROW.finditer(html):
        status = STATUS_CLASS.search(match.group(0))
        found[match.group("slug")] = status.group(1) if status else "?"
    return found


# --- YAML and the loader ---------------------------------------------------------------------


def parse_all(paths: list[Path]) -> int:
    """Read and parse every file with libyaml (no validation): the floor of any loader."""
    documents = [yaml.load(path.read_text(), Loader=yaml.CSafeLoader) for path in paths]
    return len(documents)


def empty_curriculum() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE curriculum_track CASCADE")


def measure_loading(paths: list[Path], scale: Scale) -> dict[str, float]:
    strs = [str(p) for p in paths]
    expected = scale.tracks * (1 + scale.modules + scale.resources_per_track + 1)
    parse_runs = repeat_timed(lambda: parse_all(paths), warmup=1, runs=scale.load_repeats)

    cold_runs = []
    for run in range(scale.load_repeats + 1):  # the first is the warm-up
        empty_curriculum()
        seconds, report = timed(lambda: load_paths(strs))
        require(
            report.created == expected and not (report.updated or report.archived),
            f"cold import: expected {expected} created, got {report.summary_line()}",
        )
        if run:
            cold_runs.append(seconds)
    require(
        Resource.objects.active().count() == scale.tracks * scale.resources_per_track,
        "cold import: the resources are not all in the database",
    )

    noop_runs = []
    for run in range(scale.load_repeats + 1):
        seconds, report = timed(lambda: load_paths(strs))
        require(
            report.unchanged == expected
            and not (report.created or report.updated or report.archived),
            f"no-op import changed something: {report.summary_line()}",
        )
        if run:
            noop_runs.append(seconds)
    return {
        "yaml_parse_s": median(parse_runs),
        "import_cold_s": median(cold_runs),
        "import_noop_s": median(noop_runs),
    }


# --- mark done -------------------------------------------------------------------------------


class MarkDone:
    """Posts "done" for resources the learner has not finished, as htmx does (urlencoded, with
    its request header), and checks each answer shows the resource done. Each post is a real
    change: a new completion, an award."""

    def __init__(self, dataset: Dataset, learner_id: int):
        self.learner_id = learner_id
        self.client = logged_in_client(learner_id)
        track = dataset.big_track
        touched = set(
            Progress.objects.filter(learner_id=learner_id, track=track).values_list(
                "resource_id", flat=True
            )
        )
        slugs = dict(Resource.objects.filter(track=track).values_list("id", "slug"))
        self.fresh = [slugs[i.id] for i in dataset.items[track.pk] if i.id not in touched]
        self.url = f"/tracks/{track.slug}/items/{{}}/status"
        self.posted: list[str] = []
        self.sizes: list[int] = []
        self.answers: list[tuple[str, object]] = []

    def post(self) -> None:
        """One post, timed by the caller; its answer is checked in `verify`."""
        require(self.fresh, "mark done: the learner has no unfinished resource left to finish")
        slug = self.fresh.pop(0)
        response = post_done(self.client, self.url.format(slug))
        self.answers.append((slug, response))

    def check_answers(self) -> None:
        """Each answer shows its resource done."""
        for slug, response in self.answers:
            require(response.status_code == 200, f"mark done {slug}: HTTP {response.status_code}")
            shown = row_statuses(response.content.decode()).get(slug)
            require(shown == "done", f"mark done {slug}: the answer shows the row as {shown}")
            self.posted.append(slug)
            self.sizes.append(len(response.content))
        self.answers.clear()

    def queries(self, posts: int = 3) -> int:
        """The most queries any of `posts` further posts ran."""
        counts = []
        for _ in range(posts):
            with counting_queries() as captured:
                self.post()
            counts.append(len(captured))
        return max(counts)

    def verify(self) -> None:
        """Every answer showed its change, every post changed the database, and the points
        stayed in step."""
        self.check_answers()
        done = Progress.objects.filter(
            learner_id=self.learner_id, resource__slug__in=self.posted, status="done"
        ).count()
        require(done == len(self.posted), f"mark done: {done} of {len(self.posted)} stored")
        ledger = PointsEntry.objects.filter(learner_id=self.learner_id).aggregate(s=Sum("amount"))
        total = Profile.objects.get(user_id=self.learner_id).points_total
        require(ledger["s"] == total, "mark done: points_total no longer equals the ledger")


def completions(learner_id: int) -> int:
    return Progress.objects.filter(learner_id=learner_id, status="done").count()


def measure_request_floor(dataset: Dataset, scale: Scale) -> dict[str, float]:
    """The trivial view (`bench/urls.py`) through the same request cycle, with the mark-done
    learner's session: what this machine takes for any logged-in request at least. It is not a
    target; it tells how fast the machine was, so figures from different machines compare."""
    client = logged_in_client(dataset.heavy_id)
    answers = []
    runs = repeat_timed(lambda: answers.append(client.get(FLOOR_PATH)), warmup=3, runs=200)
    require(
        all(a.status_code == 200 and a.content == b"ok" for a in answers),
        "request floor: the trivial view did not answer 200 ok",
    )
    return {"request_floor_ms_median": median(runs) * 1000}


def measure_mark_done(dataset: Dataset, scale: Scale) -> dict[str, float]:
    prior = completions(dataset.heavy_id)
    require(
        prior == scale.heavy_completions,
        f"mark done: the learner has {prior} completions, expected {scale.heavy_completions}",
    )
    heavy = MarkDone(dataset, dataset.heavy_id)
    runs, cpu = repeat_timed_cpu(heavy.post, warmup=3, runs=scale.mark_done_posts)
    heavy.check_answers()
    sizes = heavy.sizes[3:]
    heavy_queries = heavy.queries()
    heavy.verify()

    light = MarkDone(dataset, dataset.light_id)
    light.post()  # warm-up
    light_queries = light.queries()
    light.verify()
    return {
        "mark_done_ms_median": median(runs) * 1000,
        "mark_done_ms_p95": p95(runs) * 1000,
        "mark_done_queries": heavy_queries,
        "mark_done_queries_at_10": light_queries,
        "mark_done_bytes": median(sizes),
        "mark_done_cpu_ms_median": median(cpu) * 1000,
        "mark_done_prior_completions": prior,
    }


# --- the track page --------------------------------------------------------------------------


def measure_track_page(dataset: Dataset, scale: Scale) -> dict[str, float]:
    track = dataset.big_track
    learner_id = dataset.member_id
    client = logged_in_client(learner_id)
    url = f"/tracks/{track.slug}/"
    slugs = dict(Resource.objects.filter(track=track).values_list("id", "slug"))
    stored = {
        slugs[resource_id]: status
        for resource_id, status in Progress.objects.filter(
            learner_id=learner_id, track=track
        ).values_list("resource_id", "status")
    }
    first_module = [slugs[i.id] for i in dataset.items[track.pk][: scale.resources_per_module]]
    sizes = []

    answers = []

    def get() -> None:
        answers.append(client.get(url))

    def check_answers() -> None:
        """After the timed requests: each page shows the first module and every status."""
        for response in answers:
            require(response.status_code == 200, f"track page: HTTP {response.status_code}")
            shown = row_statuses(response.content.decode())
            require(
                all(slug in shown for slug in first_module),
                "track page: the first module's resources are not on the page",
            )
            wrong = [s for s, status in shown.items() if status != stored.get(s, "not_started")]
            require(not wrong, f"track page shows the wrong status for {wrong[:5]}")
            sizes.append(len(response.content))
        answers.clear()

    runs, cpu = repeat_timed_cpu(get, warmup=2, runs=scale.page_repeats)
    with counting_queries() as captured:
        get()
    queries = len(captured)
    check_answers()
    return {
        "track_page_ms_median": median(runs) * 1000,
        "track_page_cpu_ms_median": median(cpu) * 1000,
        "track_page_queries": queries,
        "track_page_bytes": median(sizes),
        "track_page_rows_done": sum(1 for s in stored.values() if s == "done"),
    }
