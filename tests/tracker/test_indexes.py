"""The learner-side tables index each foreign key once: by a composite index or unique
constraint that starts with its column, or by its own index, never both (tracker.models)."""

from django.apps import apps
from django.db import models


def _leading_columns(model) -> set[str]:
    """The first field of every composite index and unique constraint of `model`."""
    leading = set()
    for index in model._meta.indexes:
        if len(index.fields) > 1:
            leading.add(index.fields[0].lstrip("-"))
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and len(constraint.fields) > 1:
            leading.add(constraint.fields[0])
    return leading


def test_each_foreign_key_is_indexed_exactly_once():
    for model in apps.get_app_config("tracker").get_models():
        leading = _leading_columns(model)
        for field in model._meta.get_fields():
            if not isinstance(field, models.ForeignKey):
                continue
            where = f"{model.__name__}.{field.name}"
            if field.name in leading:
                assert not field.db_index, f"{where} has an index of its own and a composite one"
            else:
                assert field.db_index or field.unique, f"{where} has no index at all"


def test_the_progress_read_of_a_click_has_a_composite_to_use():
    from tracker.models import Progress

    assert "learner" in _leading_columns(Progress)
    assert not Progress._meta.get_field("learner").db_index
