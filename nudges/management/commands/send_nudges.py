"""`manage.py send_nudges [--dry-run] [--week YYYY-Www] [--user EMAIL]`: the weekly nudge
without beat or a worker (the same services, in this process)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from nudges import schedule, services
from nudges.dry_run import describe_plan


class Command(BaseCommand):
    help = (
        "Send the weekly nudges that are due, in this process. Without options: what the hourly "
        "dispatcher would send now. --week: every learner whose nudge for that ISO week is due "
        "by now. --user: that learner now, whatever their hour. Never sends a learner's week twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Print who would get what; write nothing."
        )
        parser.add_argument("--week", help="ISO week, e.g. 2026-W05 (default: the current one).")
        parser.add_argument("--user", metavar="EMAIL", help="Only this learner.")

    def handle(self, *args, dry_run=False, week=None, user=None, **options):
        now = timezone.now()
        try:
            if week is not None:
                week = week.strip()
                schedule.parse_week(week)
            learner = services.learner_by_email(user) if user else None
            if dry_run:
                for line in describe_plan(now=now, week=week, learner=learner):
                    self.stdout.write(line)
                return
            report = services.nudge_deliver_now(now=now, week=week, learner=learner)
        except (schedule.BadWeek, services.NudgeError) as error:
            raise CommandError(str(error)) from None
        for due in report.due if report.total("claimed") == 0 else []:
            state = services.delivery_state(learner_id=due.learner_id, week=due.week)
            if state:
                self.stdout.write(f"Learner {due.learner_id} {due.week}: already {state}.")
        self.stdout.write(
            f"Sent {report.total('sent')}, skipped {report.total('skipped')}, "
            f"failed {report.total('failed')}, waiting to retry {report.total('retrying')} "
            f"(rows claimed: {report.total('claimed')})."
        )
