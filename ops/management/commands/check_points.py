"""`manage.py check_points`: every learner's points total, ledger and a recomputation from their
progress agree. Exit 0 and `ok: N learners, 0 drift`, or exit 1 with one line per learner."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand

from ops.integrity import points_drift


class Command(BaseCommand):
    help = "Check that every learner's points total = ledger = recomputation from progress."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **options):
        checked, drift = points_drift()
        if options["json"]:
            result = {"learners": checked, "drift": [vars(item) for item in drift]}
            self.stdout.write(json.dumps(result, sort_keys=True))
        else:
            for item in drift:
                self.stdout.write(item.describe())
            verdict = "ok" if not drift else "DRIFT"
            self.stdout.write(f"{verdict}: {checked} learners, {len(drift)} drift")
        if drift:
            sys.exit(1)
