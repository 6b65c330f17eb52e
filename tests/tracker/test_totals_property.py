"""Random sequences of everything that moves a learner's figures (status changes and undos,
capstone passes, leaving and coming back, curriculum reloads that archive, restore or make
items optional, a choice group asking for more) never leave the totals drifting from what
`repair_totals --check` recomputes from progress, submissions and the ledger."""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta

import pytest
import yaml
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curriculum.loader import load_paths
from curriculum.models import Capstone, Resource, Track
from curriculum.structure import forget_structures
from tests.factories import UserFactory
from tracker import services
from tracker.models import ProgressStatus

pytestmark = pytest.mark.django_db

PLAIN = ["basics", "practice", "wrap-up"]  # may be made optional or archived
ROUTES = ["route-a", "route-b", "route-c"]  # a choice group (never optional, never archived)
INNER = ["inner-1", "inner-2"]  # the inner track's resources (may be archived)
LEARNERS = 3


def _resource(slug: str, **extra) -> dict:
    return {"slug": slug, "title": slug.title(), "kind": "video", "url": f"https://e.com/{slug}"}


def _files(curriculum: dict) -> dict[str, dict]:
    """The two tracks' YAML as data: `curriculum` says which items are archived (left out of
    the file), which plain ones are optional, and how many routes the choice group asks for."""
    first = [
        {**_resource(slug), "optional": slug in curriculum["optional"]}
        for slug in PLAIN[:2]
        if slug not in curriculum["archived"]
    ]
    first += [{**_resource(slug), "choice": "routes", "minutes": 10} for slug in ROUTES]
    second = [{"slug": "whole-inner", "title": "Whole inner", "kind": "track", "track": "inner"}]
    if "wrap-up" not in curriculum["archived"]:
        second.append({**_resource("wrap-up"), "optional": "wrap-up" in curriculum["optional"]})
    outer = {
        "slug": "outer",
        "title": "Outer",
        "modules": [
            {
                "slug": "first",
                "title": "First",
                "choose": {"routes": curriculum["routes"]},
                "resources": first,
            },
            {
                "slug": "second",
                "title": "Second",
                "resources": second,
                "capstones": [
                    {
                        "slug": "project",
                        "title": "Project",
                        "brief": "Build it.",
                        "review": "self",
                        "points": 40,
                    }
                ],
            },
        ],
    }
    inner_resources = [_resource(slug) for slug in INNER if slug not in curriculum["archived"]]
    inner = {
        "slug": "inner",
        "title": "Inner",
        "modules": [{"slug": "only", "title": "Only", "resources": inner_resources}],
    }
    if not inner_resources:  # a module needs an item: keep the first one
        inner["modules"][0]["resources"] = [_resource(INNER[0])]
    return {"inner.yaml": {"track": inner}, "outer.yaml": {"track": outer}}


def _reload(tmp_path, curriculum: dict) -> None:
    for name, data in _files(curriculum).items():
        (tmp_path / name).write_text(yaml.safe_dump(data, sort_keys=False))
    load_paths([str(tmp_path)])


statuses = st.sampled_from(ProgressStatus.values)
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("status"),
            st.integers(0, LEARNERS - 1),
            st.sampled_from(PLAIN + ROUTES + INNER),
            statuses,
        ),
        st.tuples(st.just("capstone"), st.integers(0, LEARNERS - 1)),
        st.tuples(
            st.just("leave"), st.integers(0, LEARNERS - 1), st.sampled_from(["outer", "inner"])
        ),
        st.tuples(
            st.just("join"), st.integers(0, LEARNERS - 1), st.sampled_from(["outer", "inner"])
        ),
        st.tuples(st.just("archive"), st.sampled_from(PLAIN + INNER)),
        st.tuples(st.just("optional"), st.sampled_from(PLAIN)),
        st.tuples(st.just("routes"), st.integers(1, 3)),
    ),
    min_size=1,
    max_size=14,
)


class _Rollback(Exception):
    pass


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_no_sequence_of_changes_leaves_totals_drifting(tmp_path, capsys, steps):
    forget_structures()  # each example's rows roll back; their cached structures must go too
    try:
        with transaction.atomic():
            _run(tmp_path, steps, capsys)
            raise _Rollback
    except _Rollback:
        pass
    finally:
        forget_structures()


def _run(tmp_path, steps, capsys) -> None:
    curriculum = {"archived": set(), "optional": set(), "routes": 1}
    _reload(tmp_path, curriculum)
    learners = [UserFactory() for _ in range(LEARNERS)]
    tracks = {track.slug: track for track in Track.objects.filter(slug__in=["outer", "inner"])}
    for learner in learners:
        services.enrolment_join(learner=learner, track=tracks["outer"])
    now = timezone.now()
    for number, step in enumerate(steps):
        now += timedelta(minutes=1)
        kind, *args = step
        if kind == "status":
            learner, slug, status = learners[args[0]], args[1], args[2]
            resource = Resource.objects.select_related("track").get(slug=slug)
            with suppress(services.ServiceError):  # archived, or not enrolled: refused
                services.progress_set_status(
                    learner=learner, resource=resource, status=status, now=now
                )
        elif kind == "capstone":
            capstone = Capstone.objects.get(slug="project")
            with suppress(services.ServiceError):  # already passed, or not enrolled
                services.capstone_submit(
                    learner=learners[args[0]],
                    capstone=capstone,
                    title=f"Work {number}",
                    link="https://example.com/work",
                    writeup="",
                    constraints_met=[],
                    now=now,
                )
        elif kind == "leave":
            services.enrolment_leave(learner=learners[args[0]], track=tracks[args[1]], now=now)
        elif kind == "join":
            services.enrolment_join(learner=learners[args[0]], track=tracks[args[1]], now=now)
        elif kind == "archive":
            curriculum["archived"] ^= {args[0]}  # archive, or restore what was archived
            _reload(tmp_path, curriculum)
        elif kind == "optional":
            curriculum["optional"] ^= {args[0]}
            _reload(tmp_path, curriculum)
        else:
            curriculum["routes"] = args[0]
            _reload(tmp_path, curriculum)
    capsys.readouterr()
    report = services.totals_repair(fix=False)
    assert report.drift == 0, report.lines()
    call_command("repair_totals", "--check")  # exit status 0: it would raise SystemExit(1)
    assert "ok:" in capsys.readouterr().out
