"""`manage.py export_curriculum TRACK_SLUG`: the track as curriculum YAML on stdout."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from curriculum.exporter import TrackNotFound, track_export_yaml


class Command(BaseCommand):
    help = "Write an active track as curriculum YAML to stdout (loading it back changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("slug", metavar="TRACK_SLUG")

    def handle(self, *args, slug, **options):
        try:
            text = track_export_yaml(slug=slug)
        except TrackNotFound as exc:
            self.stderr.write(str(exc), style_func=lambda text: text)
            sys.exit(1)
        self.stdout.write(text, ending="")
