"""PostgreSQL's unaccent, for searching members by name without their accents (ops.text).
Nothing on SQLite, where ops.text gives each connection a function of the same name."""

from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("cohorts", "0001_initial")]

    operations = [UnaccentExtension()]
