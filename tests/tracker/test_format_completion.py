"""The completion rule and the progress service with format 1.1: optional capstones, choice
groups that ask for N members, and resources of kind track that follow another track."""

from __future__ import annotations

from io import StringIO

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from curriculum.models import Resource, ResourceKind
from curriculum.structure import track_structure
from tests.factories import (
    CapstoneFactory,
    ModuleFactory,
    ResourceFactory,
    TrackFactory,
    UserFactory,
    enrol,
)
from tracker import selectors, services
from tracker.completion import module_progress
from tracker.models import (
    CapstoneSubmission,
    Certificate,
    PointsEntry,
    Profile,
    Progress,
    ProgressStatus,
    SubmissionStatus,
)
from tracker.services.capstones import capstone_submit

pytestmark = pytest.mark.django_db

DONE = ProgressStatus.DONE


def points(user) -> int:
    total = PointsEntry.objects.filter(learner=user).aggregate(s=Sum("amount"))["s"] or 0
    assert total == Profile.objects.get(user=user).points_total  # the ledger and the total agree
    return total


def progress_of(module, *, done=(), passed=()):
    module = selectors.modules_with_items().get(pk=module.pk)
    return module_progress(
        module=module,
        done_resource_ids={r.pk for r in done},
        passed_capstone_ids={c.pk for c in passed},
    )


# --- the pure rule ----------------------------------------------------------------------------


def test_an_optional_capstone_never_blocks_and_never_counts():
    module = ModuleFactory()
    resource = ResourceFactory(module=module)
    optional = CapstoneFactory(module=module, optional=True)
    assert progress_of(module, done=[resource]).complete
    assert (progress_of(module).done_units, progress_of(module).total_units) == (0, 1)
    passed = progress_of(module, done=[resource], passed=[optional])
    assert (passed.done_units, passed.total_units, passed.complete) == (1, 1, True)


def test_a_group_of_three_asking_for_two_is_satisfied_by_exactly_two():
    module = ModuleFactory(choices_required={"route": 2})
    a, b, c = (ResourceFactory(module=module, choice="route", minutes=m) for m in (60, 30, 90))
    none_done = progress_of(module)
    assert (none_done.done_units, none_done.total_units, none_done.complete) == (0, 2, False)
    assert none_done.minutes_left == 30 + 60  # the two shortest
    assert set(none_done.open_resource_ids) == {a.pk, b.pk, c.pk}
    one = progress_of(module, done=[b])
    assert (one.done_units, one.complete, one.minutes_left) == (1, False, 60)
    assert set(one.open_resource_ids) == {a.pk, c.pk}
    two = progress_of(module, done=[b, c])
    assert (two.done_units, two.total_units, two.complete) == (2, 2, True)
    assert two.open_resource_ids == () and two.minutes_left == 0
    three = progress_of(module, done=[a, b, c])
    assert (three.done_units, three.total_units) == (2, 2)  # extra members earn points, not units


def test_a_group_without_a_count_still_asks_for_one():
    module = ModuleFactory()
    a = ResourceFactory(module=module, choice="route")
    ResourceFactory(module=module, choice="route")
    assert progress_of(module).total_units == 1
    assert progress_of(module, done=[a]).complete


# --- optional capstones through the services ---------------------------------------------------


def test_the_certificate_comes_without_the_optional_capstone_which_still_pays_and_shows(client):
    learner = UserFactory()
    module = ModuleFactory()
    resource = ResourceFactory(module=module, minutes=20)
    optional = CapstoneFactory(
        module=module, optional=True, points=200, review="self", constraints=[]
    )
    services.enrolment_join(learner=learner, track=module.track)
    change = services.progress_set_status(learner=learner, resource=resource, status=DONE)
    assert change.certificate is not None
    assert change.certificate.summary["units"] == 1
    page = client.get(change.certificate.get_absolute_url()).content.decode()
    assert "certificate-capstones" not in page

    capstone_submit(
        learner=learner,
        capstone=optional,
        title="Mine",
        link="https://example.com/x",
        writeup="",
        constraints_met=[],
    )
    assert points(learner) == 20 + 200
    page = client.get(change.certificate.get_absolute_url()).content.decode()
    assert f'{optional.title} <span class="meta">(optional)</span>' in page


# --- resources of kind track ---------------------------------------------------------------------


@pytest.fixture
def linked():
    """`base` (two resources) and `outer`, whose first module holds a resource of kind track
    standing for `base`, worth 300 points, and a plain resource."""
    base_module = ModuleFactory(track=TrackFactory(slug="base", title="Base"))
    first = ResourceFactory(module=base_module, minutes=10)
    second = ResourceFactory(module=base_module, minutes=15)
    outer_module = ModuleFactory(track=TrackFactory(slug="outer", title="Outer"))
    stage = ResourceFactory(
        module=outer_module,
        kind=ResourceKind.TRACK,
        linked_track=base_module.track,
        url="",
        minutes=300,
        title="Stage one: the base course",
    )
    other = ResourceFactory(module=outer_module, minutes=5)
    return {"first": first, "second": second, "stage": stage, "other": other}


def stage_status(learner, stage) -> str | None:
    row = Progress.objects.filter(learner=learner, resource=stage).first()
    return row.status if row else None


def test_finishing_the_track_completes_the_resource_once_and_undoing_reverses(linked, user):
    first, second, stage = linked["first"], linked["second"], linked["stage"]
    enrol(user, first.track, stage.track)
    services.progress_set_status(learner=user, resource=first, status=DONE)
    assert stage_status(user, stage) is None and points(user) == 10

    change = services.progress_set_status(learner=user, resource=second, status=DONE)
    assert stage_status(user, stage) == DONE
    assert points(user) == 10 + 15 + 300
    assert [c.progress.resource_id for c in change.linked] == [stage.pk]
    assert change.linked[0].points_delta == 300
    assert change.certificate is not None  # base's own certificate
    assert PointsEntry.objects.filter(learner=user, resource=stage, kind="award").count() == 1

    # Anything else that finds base complete again awards nothing more.
    services.certificate_issue_if_complete(learner=user, track=first.track)
    services.linked_resources_sync(learner=user, track=stage.track)
    assert points(user) == 325

    back = services.progress_set_status(
        learner=user, resource=second, status=ProgressStatus.IN_PROGRESS
    )
    assert stage_status(user, stage) == ProgressStatus.IN_PROGRESS
    assert points(user) == 10
    assert back.linked[0].points_delta == -300

    services.progress_set_status(learner=user, resource=second, status=DONE)
    assert stage_status(user, stage) == DONE and points(user) == 325
    assert list(
        PointsEntry.objects.filter(learner=user, resource=stage).values_list(
            "kind", "amount", "generation"
        )
    ) == [("award", 300, 1), ("reversal", -300, 1), ("award", 300, 2)]


def test_the_completion_chains_into_the_outer_track_and_its_certificate(linked, user):
    enrol(user, linked["first"].track, linked["stage"].track)
    services.progress_set_status(learner=user, resource=linked["other"], status=DONE)
    services.progress_set_status(learner=user, resource=linked["first"], status=DONE)
    change = services.progress_set_status(learner=user, resource=linked["second"], status=DONE)
    outer = linked["stage"].track
    [stage_change] = change.linked
    assert stage_change.certificate is not None and stage_change.certificate.track == outer
    assert Certificate.objects.filter(learner=user).count() == 2


def test_passing_a_capstone_that_completes_the_track_completes_the_resource(linked, user):
    base = linked["first"].track
    capstone = CapstoneFactory(module=linked["first"].module, review="self", constraints=[])
    enrol(user, base, linked["stage"].track)
    for key in ("first", "second"):
        services.progress_set_status(learner=user, resource=linked[key], status=DONE)
    assert stage_status(user, linked["stage"]) is None  # the capstone is still open
    capstone_submit(
        learner=user,
        capstone=capstone,
        title="Mine",
        link="https://example.com/x",
        writeup="",
        constraints_met=[],
    )
    assert CapstoneSubmission.objects.get().status == SubmissionStatus.PASSED
    assert stage_status(user, linked["stage"]) == DONE
    assert points(user) == 10 + 15 + capstone.points + 300


def test_learners_cannot_set_its_status_themselves(linked, user):
    with pytest.raises(services.ServiceError, match="done when you complete the track"):
        services.progress_set_status(learner=user, resource=linked["stage"], status=DONE)
    assert not Progress.objects.filter(resource=linked["stage"]).exists()


def test_a_track_the_learner_is_not_in_gets_nothing_until_they_enrol(linked, user):
    """Finishing fast.ai gave 2,640 points in Learning Deep Learning to someone enrolled
    only in fast.ai, and took them back when a video was set to rewatch."""
    enrol(user, linked["first"].track)
    for key in ("first", "second"):
        change = services.progress_set_status(learner=user, resource=linked[key], status=DONE)
    assert not change.linked and stage_status(user, linked["stage"]) is None
    assert points(user) == 25
    services.progress_set_status(
        learner=user, resource=linked["second"], status=ProgressStatus.IN_PROGRESS
    )
    assert points(user) == 10 and stage_status(user, linked["stage"]) is None
    services.progress_set_status(learner=user, resource=linked["second"], status=DONE)

    services.enrolment_join(learner=user, track=linked["stage"].track)  # now it counts
    assert stage_status(user, linked["stage"]) == DONE and points(user) == 325
    services.enrolment_leave(learner=user, track=linked["stage"].track)
    services.progress_set_status(
        learner=user, resource=linked["second"], status=ProgressStatus.IN_PROGRESS
    )
    assert stage_status(user, linked["stage"]) == DONE  # left: no longer followed
    assert points(user) == 310


def test_an_archived_resource_of_kind_track_no_longer_follows(linked, user):
    from django.utils import timezone

    linked["stage"].archived_at = timezone.now()
    linked["stage"].save()
    enrol(user, linked["first"].track)
    for key in ("first", "second"):
        services.progress_set_status(learner=user, resource=linked[key], status=DONE)
    assert stage_status(user, linked["stage"]) is None and points(user) == 25


def test_an_ordinary_mark_done_runs_the_same_queries_with_or_without_tracks_standing_by(user):
    """Mid-track, nothing can have completed, so no reference is looked up: the count is the
    same whether or not resources of kind track exist (they stand for another track here)."""

    def mark_done_queries(learner) -> int:
        services.profile_get_or_create(user=learner)
        module = ModuleFactory()
        done, left = ResourceFactory(module=module), ResourceFactory(module=module)
        del left
        enrol(learner, module.track)
        # As the view loads it: with its track row, whose version finds the cached structure.
        done = Resource.objects.select_related("track").get(pk=done.pk)
        track_structure(done.track_id)  # warm, as every request after the first finds it
        with CaptureQueriesContext(connection) as queries:
            services.progress_set_status(learner=learner, resource=done, status=DONE)
        return len(queries)

    without = mark_done_queries(UserFactory())
    for _ in range(3):
        ResourceFactory(kind=ResourceKind.TRACK, linked_track=TrackFactory(), url="")
    # Savepoint, profile lock (which reads the enrolment too), the learner's standing in the
    # track (this resource's row, done resources, passed capstones, certificate: one query),
    # then on PostgreSQL the progress write, ledger entry, total, the week's completion
    # count (cohort charts read it, not progress rows) and the enrolment's totals (done units,
    # points, last activity) in one statement, release (elsewhere: progress, week's count,
    # ledger entry, total, enrolment). (10 before the structure cache, 11 once the enrolment
    # rule moved into the service, 7 before the progress row joined the ledger's statement,
    # 6 before the enrolment's totals did.)
    expected = 5 if connection.vendor == "postgresql" else 9
    assert mark_done_queries(UserFactory()) == without == expected


def test_the_sync_command_catches_up_after_curriculum_changes(user):
    from django.core.management import CommandError, call_command

    base_module = ModuleFactory(track=TrackFactory(slug="base-2"))
    only = ResourceFactory(module=base_module, minutes=10)
    outer = ModuleFactory(track=TrackFactory(slug="outer-2"))
    ResourceFactory(module=outer)
    services.enrolment_join(learner=user, track=outer.track)
    services.enrolment_join(learner=user, track=base_module.track)
    services.progress_set_status(learner=user, resource=only, status=DONE)
    # The lead adds a resource standing for base-2 after the learner finished it.
    stage = ResourceFactory(
        module=outer, kind=ResourceKind.TRACK, linked_track=base_module.track, url="", minutes=50
    )
    assert stage_status(user, stage) is None

    out = StringIO()
    call_command("sync_linked_resources", stdout=out)
    assert out.getvalue() == "checked 1 enrolments, changed 1 resources\n"
    assert stage_status(user, stage) == DONE and points(user) == 60
    call_command("sync_linked_resources", "outer-2", stdout=out)
    assert out.getvalue().endswith("checked 1 enrolments, changed 0 resources\n")

    # Then base-2 gains a required item: it is no longer complete, and the stage opens again.
    ResourceFactory(module=base_module)
    call_command("sync_linked_resources", "outer-2", stdout=out)
    assert stage_status(user, stage) == ProgressStatus.IN_PROGRESS and points(user) == 10
    with pytest.raises(CommandError, match="Unknown or archived track: nope"):
        call_command("sync_linked_resources", "nope")
