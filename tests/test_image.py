"""The production image (Dockerfile) holds every app Django loads: the cohorts app went
without its COPY line, so the image could not start (`make image-check` replays the whole
build, but needs the package registry and a minute or two; this runs with every test)."""

from __future__ import annotations

import shlex
from pathlib import Path

from django.conf import settings

from scripts.image_check import instructions

ROOT = Path(__file__).resolve().parent.parent


def copied_into_the_image() -> set[str]:
    copied = set()
    for instruction, arguments in instructions(ROOT / "Dockerfile"):
        words = shlex.split(arguments)
        if instruction != "COPY" or any(word.startswith("--from") for word in words):
            continue
        copied.update(word.rstrip("/") for word in words[:-1])
    return copied


def test_every_app_of_ours_and_the_settings_package_are_copied():
    ours = {
        app.split(".")[0] for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()
    }
    assert ours >= {"curriculum", "tracker", "ops", "nudges", "cohorts"}
    missing = (
        ours | {"config", "templates", "static", "seeds", "manage.py"}
    ) - copied_into_the_image()
    assert not missing, f"the Dockerfile copies no {sorted(missing)}: add a COPY line"
