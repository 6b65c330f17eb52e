"""A cohort to read: tracks of modules and resources, an admin, members whose kept totals are
set directly (the totals engineer's services keep them in step; these tests read them)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from django.db import connection
from django.template import base as template_base
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import (
    ModuleFactory,
    ResourceFactory,
    TrackFactory,
    UserFactory,
    cohort_member,
    cohort_with_tracks,
)
from tracker.models import Progress, ProgressStatus


def build_track(*, modules: int, resources: int, title="Deep Learning"):
    track = TrackFactory(title=title)
    built = []
    for m in range(modules):
        module = ModuleFactory(track=track, title=f"{title} module {m + 1}", position=m)
        items = [ResourceFactory(module=module, position=r) for r in range(resources)]
        built.append((module, items))
    return track, built


def progress_done(learner, resource, *, when):
    """A done row as the progress service leaves it: with its weekly count and the
    enrolment's figures worked out again (when the learner is enrolled)."""
    from tracker.services.totals import enrolment_totals_refresh
    from tracker.services.weekly import weekly_completions_moved

    weekly_completions_moved(
        learner_id=learner.pk, track_id=resource.track_id, removed=None, added=when
    )
    Progress.objects.create(
        learner=learner,
        resource=resource,
        track_id=resource.track_id,
        status=ProgressStatus.DONE,
        started_at=when,
        completed_at=when,
        updated_at=when,
    )
    enrolment_totals_refresh(learner_id=learner.pk, track_id=resource.track_id)


def grow_cohort(*, members: int, modules: int, resources: int, weeks_in: int = 3, done=2):
    """A cohort `weeks_in` weeks in, one module due a week, `members` members who each
    completed `done` modules (progress rows and kept totals)."""
    track, built = build_track(modules=modules, resources=resources)
    admin = UserFactory()
    today = timezone.now().date()
    cohort = cohort_with_tracks(
        track,
        admin=admin,
        targets={module: i + 1 for i, (module, _) in enumerate(built)},
        starts_on=today - timedelta(weeks=weeks_in) + timedelta(days=1),
        ends_on=today + timedelta(weeks=10),
    )
    now = timezone.now()
    for n in range(members):
        user = cohort_member(
            cohort,
            totals={
                track: {
                    "done_units": done * resources,
                    "required_units": modules * resources,
                    "modules_done": done,
                    "points": 10 * n,
                    "last_activity_at": now - timedelta(days=n % 20),
                }
            },
        )
        for _module, items in built[:done]:
            for resource in items:
                progress_done(user, resource, when=now - timedelta(days=n % 20))
    return cohort, admin, track


@contextmanager
def no_queries_while_rendering():
    """Fail on any query raised while a template renders (our equivalent of django-zen-queries:
    a database execute wrapper installed around `Template.render`)."""
    original = template_base.Template.render

    def refuse(execute, sql, params, many, context):
        raise AssertionError(f"A template ran a query: {sql}")

    def render(self, context):
        with connection.execute_wrapper(refuse):
            return original(self, context)

    template_base.Template.render = render
    try:
        yield
    finally:
        template_base.Template.render = original


def count_queries(client, url, **kwargs):
    """The page's own queries. The session comes from Redis; only when Redis is slow, down or
    without the key (SQLite runs have no Redis) does the session store read the database, which
    is not the page's doing, so those reads are not counted (as in the track page's test)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, response.content[:500]
    own = [
        q["sql"]
        for q in captured.captured_queries
        if "django_session" not in q["sql"] and "waymark_cache" not in q["sql"]
    ]
    return len(own), response
