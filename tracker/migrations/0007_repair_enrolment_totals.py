"""Marks the upgrade after which every enrolment's totals must be worked out once: the
`post_migrate` receiver in `tracker.apps` runs `repair_totals` when a `migrate` applies this
migration (after the whole plan, with the code's current models), so an existing database
shows right figures on its next start. Nothing to do here itself."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tracker", "0006_enrolment_totals_leaderboard_opt_out")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
