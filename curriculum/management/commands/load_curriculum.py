"""`manage.py load_curriculum PATH [PATH ...]`: load or update tracks from YAML files.

Exit 0 with `created N, updated N, archived N, unchanged N` as the last line of stdout, or exit 1
with every error on stderr, one a line, as `PATH:LINE:COLUMN: message` (nothing written).
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from curriculum.loader import CurriculumInvalid, load_paths


class Command(BaseCommand):
    help = (
        "Load curriculum YAML files (or folders of them) into the database. "
        "See docs/curriculum-format.md."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="+", metavar="PATH", help="a .yaml/.yml file or a folder of them"
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--check", action="store_true", help="validate only; write nothing")
        mode.add_argument("--dry-run", action="store_true", help="print the plan; write nothing")
        parser.add_argument(
            "--prune",
            action="store_true",
            help="archive tracks whose slugs are absent from the given files",
        )

    def handle(self, *args, paths, check, dry_run, prune, **options):
        try:
            report = load_paths(paths, check=check, dry_run=dry_run, prune=prune)
        except CurriculumInvalid as invalid:
            for line in invalid.errors:
                self.stderr.write(line, style_func=lambda text: text)
            sys.exit(1)
        except (
            DatabaseError
        ) as exc:  # e.g. the database is unreachable: one clear line, no traceback
            self.stderr.write(f"database error, nothing was written: {exc}".strip())
            sys.exit(1)
        if dry_run:
            for line in report.plan:
                self.stdout.write(line)
            self.stdout.write(f"dry run: {report.files} files, nothing written")
        elif check:
            self.stdout.write(
                f"ok: {report.files} files, {report.tracks} tracks valid; nothing written"
            )
        self.stdout.write(report.summary_line())
