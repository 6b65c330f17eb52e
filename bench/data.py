"""Data for the benchmarks: a large generated track file, and a cohort of learners with history."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.contrib.auth import get_user_model

from curriculum.models import Resource, Track
from tracker import services


def write_big_track(path: Path, *, modules: int, resources_per_module: int) -> Path:
    track = {
        "slug": "bench-big",
        "title": "Benchmark track",
        "summary": "Generated for `make bench`.",
        "modules": [
            {
                "slug": f"m{m}",
                "title": f"Module {m}",
                "resources": [
                    {
                        "slug": f"m{m}-r{r}",
                        "title": f"Resource {m}.{r}",
                        "kind": "video",
                        "minutes": 10 + r,
                        "url": f"https://example.com/{m}/{r}",
                        "notes": f"Watch **part {r}**.",
                    }
                    for r in range(resources_per_module)
                ],
            }
            for m in range(modules)
        ],
    }
    path.write_text(yaml.safe_dump({"track": track}, sort_keys=False))
    return path


def build_cohort(*, learners: int):
    """`learners` learners enrolled in the seed fast.ai track, each with most of it done."""
    User = get_user_model()
    track = Track.objects.active().get(slug="fastai-part1")
    resources = list(
        Resource.objects.active().filter(track=track).order_by("module__position", "position")
    )
    existing = User.objects.filter(username__startswith="bench-").count()
    for n in range(existing, learners):
        user = User.objects.create_user(
            username=f"bench-{n}", email=f"bench-{n}@example.com", password=None
        )
        services.enrolment_join(learner=user, track=track)
        for resource in resources[: (n % len(resources)) + 1]:
            services.progress_set_status(learner=user, resource=resource, status="done")
    learner = User.objects.get(username="bench-0")
    return learner, track, resources
