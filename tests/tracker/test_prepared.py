"""The hot statements written out in SQL (`tracker.sql.Statement`) run prepared on
PostgreSQL, are logged and counted like any query, and build model instances as the ORM
does on either database."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from curriculum.models import Resource
from tests.factories import ModuleFactory, ResourceFactory, TrackFactory, UserFactory, enrol
from tracker import services
from tracker.models import Profile, Progress
from tracker.sql import Statement, statement_cursor

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}

_PROGRESS_OF = Statement(
    """
SELECT progress.*, resource.title AS resource_title
  FROM {progress} progress JOIN {resource} resource ON resource.id = progress.resource_id
 WHERE progress.learner_id = %(learner)s ORDER BY progress.id
""",
    progress=Progress,
    resource=Resource,
)


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def clicked(client):
    """A learner who marked two resources done through the web, as htmx does."""
    module = ModuleFactory(track=TrackFactory(slug="cv"))
    first, second = ResourceFactory(module=module), ResourceFactory(module=module)
    track = module.track
    learner = UserFactory()
    enrol(learner, track)
    client.force_login(learner)
    for resource in (first, second):
        url = f"/tracks/cv/items/{resource.slug}/status"
        assert client.post(url, {"status": "done"}, **HX).status_code == 200
    return learner, first, second


def test_a_status_click_runs_its_statements_prepared(require_postgres, clicked):
    texts = prepared_statements()
    # the resource with the learner's note, the profile lock, the standing, the write
    assert any("tracker_resourcenote" in t and "curriculum_resource" in t for t in texts)
    assert any(t.rstrip().endswith("FOR UPDATE") for t in texts)
    assert any("tracker_certificate" in t and "UNION ALL" in t for t in texts)
    assert any('INSERT INTO "tracker_pointsentry"' in t for t in texts)
    learner = clicked[0]
    assert Profile.objects.get(user=learner).points_total > 0


def test_prepared_statements_are_counted_and_logged_with_their_sql(require_postgres, clicked):
    learner, first, _ = clicked
    with CaptureQueriesContext(connection) as captured:
        rows = _PROGRESS_OF.rows({"learner": learner.pk})
        _PROGRESS_OF.rows({"learner": learner.pk})
    assert len(rows) == 2
    assert [q["sql"] for q in captured.captured_queries] == [_PROGRESS_OF.sql()] * 2


def test_statements_work_again_after_a_rollback(require_postgres, clicked):
    """psycopg forgets its prepared statements when a transaction rolls back."""
    learner, first, second = clicked
    with pytest.raises(RuntimeError), transaction.atomic():
        services.progress_set_status(learner=learner, resource=first, status="not_started")
        raise RuntimeError
    assert len(_PROGRESS_OF.rows({"learner": learner.pk})) == 2
    services.progress_set_status(learner=learner, resource=first, status="not_started")
    assert Progress.objects.get(learner=learner, resource=first).status == "not_started"


def test_turned_off_for_a_pooler_nothing_is_prepared(require_postgres, settings, clicked):
    settings.DATABASE_PREPARED_STATEMENTS = False
    learner = clicked[0]
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection.connection._prepared.clear()  # psycopg's own record of what it prepared
    assert len(_PROGRESS_OF.rows({"learner": learner.pk})) == 2
    assert prepared_statements() == []


def test_instances_are_what_the_orm_builds(clicked):
    learner, first, second = clicked
    built = _PROGRESS_OF.instances(Progress, {"learner": learner.pk})
    stored = list(Progress.objects.filter(learner=learner).order_by("id"))
    assert [p.pk for p in built] == [p.pk for p in stored]
    for got, want in zip(built, stored, strict=True):
        assert got.completed_at == want.completed_at and got.completed_at.tzinfo is not None
        assert (got.status, got.resource_id, got.track_id) == (
            want.status,
            want.resource_id,
            want.track_id,
        )
        assert not got._state.adding and got._state.db == "default"
    assert [p.resource_title for p in built] == [first.title, second.title]


def test_statement_cursor_answers_on_either_database(db):
    with statement_cursor() as cursor:
        cursor.execute("SELECT %(n)s + 1", {"n": 41})
        assert cursor.fetchone()[0] == 42
