"""`manage.py repair_totals [--check]`: recompute every enrolment's figures, every points
total and the weekly completion counts from progress, submissions and the ledger; report the
drift and fix it (or, with --check, only report it and exit 1 when there is any)."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand

from tracker.services.totals import totals_repair


class Command(BaseCommand):
    help = (
        "Recompute per-enrolment totals (units, modules, points, last activity), profile "
        "points totals and weekly completion counts from progress, submissions and the "
        "ledger; fix any drift."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="only report drift (exit status 1 when there is any); change nothing",
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **options):
        report = totals_repair(fix=not options["check"])
        if options["json"]:
            result = {
                "enrolments": report.enrolments,
                "profiles": report.profiles,
                "drift": report.drift,
                "weekly_drift": report.weekly_drift,
                "fixed": report.fixed,
                "lines": report.lines(),
            }
            self.stdout.write(json.dumps(result, sort_keys=True))
        else:
            if options["verbosity"] >= 1:  # one line per enrolment or profile that drifted
                for line in report.lines():
                    self.stdout.write(line)
            self.stdout.write(report.summary_line())
        if options["check"] and report.drift:
            sys.exit(1)
