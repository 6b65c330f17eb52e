"""Per-enrolment totals kept in step by the services, recomputed by curriculum changes, and
checked and repaired by `repair_totals`."""

from __future__ import annotations

import textwrap
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from curriculum.loader import load_paths
from curriculum.models import Resource, ResourceKind, ReviewMode
from tests.factories import (
    CapstoneFactory,
    ModuleFactory,
    ResourceFactory,
    UserFactory,
    enrol,
)
from tracker import services
from tracker.models import Enrolment, Profile, ProgressStatus

pytestmark = pytest.mark.django_db
DONE = ProgressStatus.DONE


def figures(learner, track) -> tuple:
    row = Enrolment.objects.get(learner=learner, track=track)
    return row.done_units, row.required_units, row.modules_done, row.points


def assert_no_drift() -> None:
    report = services.totals_repair(fix=False)
    assert report.drift == 0, report.lines()


def test_mark_done_and_undo_keep_units_modules_points_and_activity(user):
    module = ModuleFactory()
    first = ResourceFactory(module=module, minutes=30)
    second = ResourceFactory(module=module, minutes=10)
    ResourceFactory(module=module, optional=True)  # never counts
    later = ModuleFactory(track=module.track)
    ResourceFactory(module=later)
    enrol(user, module.track)
    assert figures(user, module.track) == (0, 3, 0, 0)

    when = timezone.now()
    services.progress_set_status(learner=user, resource=first, status=DONE, now=when)
    assert figures(user, module.track) == (1, 3, 0, 30)
    services.progress_set_status(learner=user, resource=second, status=DONE)
    assert figures(user, module.track) == (2, 3, 1, 40)
    services.progress_set_status(
        learner=user, resource=first, status=ProgressStatus.IN_PROGRESS, now=when + timedelta(1)
    )
    assert figures(user, module.track) == (1, 3, 0, 10)
    assert Enrolment.objects.get(learner=user).last_activity_at == when + timedelta(1)
    assert_no_drift()


def module_units(learner, track) -> dict:
    return Enrolment.objects.get(learner=learner, track=track).module_units


def test_units_per_module_follow_marks_choice_groups_and_curriculum_edits(user):
    """`module_units` (what the cohort heat map reads) moves with each click by the completion
    rule: a choice group counts what it asks for, an undo takes its unit back, and an archived
    resource's unit goes with it."""
    module = ModuleFactory(choices_required={"pick": 1})
    first = ResourceFactory(module=module)
    picks = [ResourceFactory(module=module, choice="pick") for _ in range(2)]
    later = ModuleFactory(track=module.track)
    other = ResourceFactory(module=later)
    track = module.track
    enrol(user, track)
    assert module_units(user, track) == {}

    services.progress_set_status(learner=user, resource=first, status=DONE)
    assert module_units(user, track) == {str(module.pk): 1}
    for pick in picks:
        services.progress_set_status(learner=user, resource=pick, status=DONE)
    assert module_units(user, track) == {str(module.pk): 2}  # the group asks for one
    services.progress_set_status(learner=user, resource=other, status=DONE)
    services.progress_set_status(learner=user, resource=first, status=ProgressStatus.IN_PROGRESS)
    assert module_units(user, track) == {str(module.pk): 1, str(later.pk): 1}
    assert figures(user, track)[:3] == (2, 3, 1)

    other.archived_at = timezone.now()
    other.save()
    assert module_units(user, track) == {str(module.pk): 1}
    assert_no_drift()


def test_a_click_against_stale_required_units_works_the_figures_out_again(user):
    """The click's figures are counted against the structure it read; when the stored row
    was counted against another (a curriculum change committed in between), the row is not
    overwritten with a mix of the two but worked out again from the database."""
    module = ModuleFactory()
    first, second = ResourceFactory(module=module), ResourceFactory(module=module)
    enrol(user, module.track)
    Enrolment.objects.filter(learner=user).update(required_units=7, done_units=4)

    services.progress_set_status(learner=user, resource=first, status=DONE)
    assert figures(user, module.track) == (1, 2, 0, first.points)
    services.progress_set_status(learner=user, resource=second, status=DONE)
    assert figures(user, module.track) == (2, 2, 1, first.points + second.points)
    assert_no_drift()


def test_enrolling_with_progress_made_before_starts_with_the_right_figures(user):
    resource = ResourceFactory(minutes=20)
    ResourceFactory(module=resource.module)
    enrol(user, resource.track)
    services.progress_set_status(learner=user, resource=resource, status=DONE)
    services.enrolment_leave(learner=user, track=resource.track)
    # A lead adds a resource while the learner is away; they come back.
    ResourceFactory(module=resource.module)
    enrolment = services.enrolment_join(learner=user, track=resource.track)
    assert (enrolment.done_units, enrolment.required_units, enrolment.points) == (1, 3, 20)
    assert_no_drift()


def test_a_resource_of_kind_track_completed_elsewhere_counts_in_its_own_track(user):
    inner = ResourceFactory()
    outer = ResourceFactory(kind=ResourceKind.TRACK, linked_track=inner.track, url="")
    ResourceFactory(module=outer.module)
    enrol(user, inner.track, outer.track)
    assert figures(user, outer.track)[:2] == (0, 2)
    services.progress_set_status(learner=user, resource=inner, status=DONE)
    assert figures(user, outer.track)[:2] == (1, 2)
    services.progress_set_status(learner=user, resource=inner, status=ProgressStatus.SKIPPED)
    assert figures(user, outer.track)[:2] == (0, 2)
    assert_no_drift()


def test_a_passed_capstone_counts_its_unit_points_and_module(user):
    capstone = CapstoneFactory(points=100, review=ReviewMode.SELF, constraints=[])
    enrol(user, capstone.track)
    services.capstone_submission_save(
        learner=user, capstone=capstone, title="Draft", link="", writeup="", constraints_met=[]
    )
    assert figures(user, capstone.track) == (0, 1, 0, 0)
    assert Enrolment.objects.get(learner=user).last_activity_at is not None
    services.capstone_submit(
        learner=user,
        capstone=capstone,
        title="Mine",
        link="https://example.com/mine",
        writeup="",
        constraints_met=[],
    )
    assert figures(user, capstone.track) == (1, 1, 1, 100)
    assert_no_drift()


def test_a_reviewed_capstone_counts_once_passed(user):
    capstone = CapstoneFactory(points=50, review=ReviewMode.LEAD, constraints=[])
    enrol(user, capstone.track)
    submission = services.capstone_submit(
        learner=user,
        capstone=capstone,
        title="Mine",
        link="https://example.com/mine",
        writeup="",
        constraints_met=[],
    )
    staff = UserFactory(is_staff=True)
    services.capstone_review(
        reviewer=staff, submission=submission, decision="passed", comments="", via="review_page"
    )
    assert figures(user, capstone.track) == (1, 1, 1, 50)
    assert_no_drift()


def test_curriculum_edits_recompute_every_enrolment(user):
    module = ModuleFactory()
    done = ResourceFactory(module=module)
    other = ResourceFactory(module=module)
    second = UserFactory()
    enrol(user, module.track)
    enrol(second, module.track)
    services.progress_set_status(learner=user, resource=done, status=DONE)

    other.optional = True  # made optional: the module is complete for the first learner
    other.save()
    assert figures(user, module.track)[:3] == (1, 1, 1)
    assert figures(second, module.track)[:3] == (0, 1, 0)

    done.archived_at = timezone.now()  # archived: nothing is required any more
    done.save()
    assert figures(user, module.track)[:3] == (0, 0, 1)
    ResourceFactory(module=ModuleFactory(track=module.track))  # a module added
    assert figures(user, module.track)[:3] == (0, 1, 1)
    assert_no_drift()


TRACK_YAML = """\
track:
  slug: totals-demo
  title: Totals demo
  modules:
    - slug: one
      title: One
      choose: {{routes: {routes}}}
      resources:
        - slug: a
          title: A
          kind: video
          url: https://example.com/a
          optional: {optional}
        - slug: route-1
          title: Route 1
          kind: video
          url: https://example.com/r1
          choice: routes
        - slug: route-2
          title: Route 2
          kind: video
          url: https://example.com/r2
          choice: routes
"""


def load(tmp_path, *, optional: bool = False, routes: int = 1):
    path = tmp_path / "totals-demo.yaml"
    path.write_text(
        textwrap.dedent(TRACK_YAML.format(optional=str(optional).lower(), routes=routes))
    )
    return load_paths([str(path)])


def test_a_load_that_changes_what_is_required_recomputes_and_an_unchanged_one_writes_nothing(
    tmp_path, user
):
    load(tmp_path)
    track = Resource.objects.get(slug="a").track
    enrol(user, track)
    route = Resource.objects.get(slug="route-1")
    services.progress_set_status(learner=user, resource=route, status=DONE)
    assert figures(user, track)[:3] == (1, 2, 0)

    load(tmp_path, routes=2)  # the choice group now asks for both routes
    assert figures(user, track)[:3] == (1, 3, 0)
    load(tmp_path, routes=2, optional=True)
    assert figures(user, track)[:3] == (1, 2, 0)

    with CaptureQueriesContext(connection) as queries:
        load(tmp_path, routes=2, optional=True)
    writes = [q["sql"] for q in queries if "tracker_enrolment" in q["sql"]]
    assert writes == []
    assert_no_drift()


def test_recomputing_reads_the_same_queries_for_ten_times_the_enrolments():
    module = ModuleFactory()
    resources = [ResourceFactory(module=module) for _ in range(3)]

    def recompute_queries(learners: int) -> int:
        for _ in range(learners):
            learner = UserFactory()
            enrol(learner, module.track)
            services.progress_set_status(learner=learner, resource=resources[0], status=DONE)
        Enrolment.objects.filter(track=module.track).update(done_units=0)
        with CaptureQueriesContext(connection) as queries:
            services.enrolment_units_recompute(track_ids=[module.track_id])
        assert set(Enrolment.objects.values_list("done_units", flat=True)) == {1}
        return len(queries)

    assert recompute_queries(2) == recompute_queries(20)


def test_repair_totals_check_reports_drift_and_repair_fixes_it(user, capsys):
    resource = ResourceFactory(minutes=15)
    enrol(user, resource.track)
    services.progress_set_status(learner=user, resource=resource, status=DONE)
    call_command("repair_totals", "--check")
    assert "ok:" in capsys.readouterr().out

    Enrolment.objects.filter(learner=user).update(done_units=0, module_units={}, points=3)
    Profile.objects.filter(user=user).update(points_total=1)
    with pytest.raises(SystemExit) as exited:
        call_command("repair_totals", "--check")
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert (
        f"{user.email} in {resource.track.slug}: done_units 0 → 1, "
        f"module {resource.module_id} units 0 → 1, points 3 → 15"
    ) in out
    assert f"{user.email}: points total 1 → 15" in out
    assert "DRIFT" in out
    assert figures(user, resource.track)[0] == 0  # --check changes nothing

    call_command("repair_totals")
    assert "FIXED" in capsys.readouterr().out
    assert figures(user, resource.track) == (1, 1, 1, 15)
    assert Profile.objects.get(user=user).points_total == 15
    assert_no_drift()


def test_repair_totals_checks_and_rebuilds_the_weekly_completion_counts(user, capsys):
    """The cohort charts' counts are kept by the same services: a count that no longer matches
    the progress rows is drift, reported by --check and rebuilt by a repair."""
    from tracker.models import WeeklyCompletions

    resource = ResourceFactory()
    enrol(user, resource.track)
    services.progress_set_status(learner=user, resource=resource, status=DONE)
    WeeklyCompletions.objects.filter(learner=user).update(completions=5)
    with pytest.raises(SystemExit):
        call_command("repair_totals", "--check")
    out = capsys.readouterr().out
    assert "weekly completion counts: 1 differ from progress" in out and "1 drift" in out
    assert WeeklyCompletions.objects.get(learner=user).completions == 5  # unchanged

    call_command("repair_totals")
    assert "weekly completion counts: 1 rebuilt from progress" in capsys.readouterr().out
    assert WeeklyCompletions.objects.get(learner=user).completions == 1
    call_command("repair_totals", "--check")
    assert "ok:" in capsys.readouterr().out


def test_an_upgraded_database_gets_its_totals_from_the_migration_receiver(user):
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    from tracker.signals import TOTALS_MIGRATION, _repair_totals_after_upgrade

    resource = ResourceFactory(minutes=15)
    enrol(user, resource.track)
    services.progress_set_status(learner=user, resource=resource, status=DONE)
    Enrolment.objects.update(done_units=0, required_units=0, modules_done=0, points=0)
    migration = MigrationLoader(connection).disk_migrations[TOTALS_MIGRATION]
    _repair_totals_after_upgrade(
        sender=apps.get_app_config("tracker"), plan=[(migration, False)], verbosity=0
    )
    assert figures(user, resource.track) == (1, 1, 1, 15)


def test_an_upgraded_database_gets_units_per_module_from_the_migration_receiver(user):
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    from tracker.signals import MODULE_UNITS_MIGRATION, _repair_totals_after_upgrade

    resource = ResourceFactory()
    enrol(user, resource.track)
    services.progress_set_status(learner=user, resource=resource, status=DONE)
    Enrolment.objects.update(module_units={})  # as the migration leaves an existing row
    assert services.totals_repair(fix=False).drift == 1
    migration = MigrationLoader(connection).disk_migrations[MODULE_UNITS_MIGRATION]
    _repair_totals_after_upgrade(
        sender=apps.get_app_config("tracker"), plan=[(migration, False)], verbosity=0
    )
    assert module_units(user, resource.track) == {str(resource.module_id): 1}
    assert_no_drift()
