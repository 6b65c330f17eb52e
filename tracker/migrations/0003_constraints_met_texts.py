"""CapstoneSubmission.constraints_met held indexes into capstone.constraints, so editing a
capstone's constraints rewrote what learners had vouched for. It now holds the ticked texts.
Existing rows are converted with each capstone's current constraints (the best record left),
in the capstone's order; an index that no longer points at a constraint is dropped."""

from django.db import migrations, models


def _convert(apps, to_value):
    CapstoneSubmission = apps.get_model("tracker", "CapstoneSubmission")
    changed = []
    rows = CapstoneSubmission.objects.select_related("capstone").only(
        "constraints_met", "capstone", "capstone__constraints"
    )
    for submission in rows.iterator(chunk_size=500):
        constraints = list(submission.capstone.constraints or [])
        converted = to_value(list(submission.constraints_met or []), constraints)
        if converted != submission.constraints_met:
            submission.constraints_met = converted
            changed.append(submission)
    CapstoneSubmission.objects.bulk_update(changed, ["constraints_met"], batch_size=500)


def _indexes_to_texts(ticked, constraints):
    if all(isinstance(value, str) for value in ticked):
        return ticked  # already texts
    indexes = {value for value in ticked if isinstance(value, int) and not isinstance(value, bool)}
    return list(dict.fromkeys(text for i, text in enumerate(constraints) if i in indexes))


def _texts_to_indexes(ticked, constraints):
    return [index for index, text in enumerate(constraints) if text in ticked]


def indexes_to_texts(apps, schema_editor):
    _convert(apps, _indexes_to_texts)


def texts_to_indexes(apps, schema_editor):
    _convert(apps, _texts_to_indexes)


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0002_site_waymark"),
    ]

    operations = [
        migrations.AlterField(
            model_name="capstonesubmission",
            name="constraints_met",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text=(
                    "The texts of the constraints the learner ticked, as worded when they saved."
                ),
            ),
        ),
        migrations.RunPython(indexes_to_texts, texts_to_indexes),
    ]
