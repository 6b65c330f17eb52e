"""Creating and editing cohorts, their phases and pace plans through `cohorts.services`."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cohorts import services
from cohorts.models import Cohort, CohortMembership, CohortModuleTarget, CohortPhase, CohortTrack
from tests.factories import ModuleFactory, TrackFactory, UserFactory, enrol
from tracker import permissions
from tracker.models import Enrolment

from .conftest import make_cohort

pytestmark = pytest.mark.django_db


def targets(cohort) -> dict[str, int]:
    return dict(
        CohortModuleTarget.objects.filter(cohort=cohort).values_list("module__title", "target_week")
    )


def test_create_makes_the_creator_admin_with_default_targets(staff, track):
    archived = ModuleFactory(track=track, title="Old module", weeks=5)
    archived.archived_at = archived.track.created_at
    archived.save()
    cohort = make_cohort(by=staff, tracks=[track], description="**Bring** a laptop")
    assert permissions.is_cohort_admin(staff, cohort)  # roles were forgotten and read again
    assert list(cohort.tracks.all()) == [track]
    # 2 weeks, then 3 days (day 17: week 3), then a week (day 24: week 4); archived: none.
    assert targets(cohort) == {"Tensors": 2, "Training loops": 3, "Vision": 4}
    assert cohort.description_html == "<p><strong>Bring</strong> a laptop</p>"


def test_each_track_has_its_own_default_plan_from_week_one(staff, track):
    other = TrackFactory()
    ModuleFactory(track=other, title="Intro", weeks=0, days=1)
    cohort = make_cohort(by=staff, tracks=[track, other])
    assert targets(cohort)["Intro"] == 1
    assert targets(cohort)["Tensors"] == 2


def test_learners_who_run_no_cohort_cannot_create_one(track):
    with pytest.raises(services.NotAllowed):
        make_cohort(by=UserFactory(), tracks=[track])
    assert not Cohort.objects.exists()


def test_a_cohort_admin_can_create_another(cohort, admin, track):
    second = make_cohort(by=admin, tracks=[track], slug="autumn")
    assert permissions.is_cohort_admin(admin, second)


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"slug": "new"}, "slug", "reserved"),
        ({"slug": "join"}, "slug", "reserved"),
        ({"slug": "Not A Slug"}, "slug", "lowercase"),
        ({"slug": ""}, "slug", "short name"),
        ({"name": "  "}, "name", "name"),
        ({"name": "x" * 121}, "name", "120"),
        ({"ends_on": date(2020, 1, 1)}, "ends_on", "on or after"),
        ({"track_ids": []}, "track_ids", "at least one track"),
        ({"track_ids": [987654]}, "track_ids", "no track"),
        ({"description": "x" * 5001}, "description", "5,000"),
    ],
)
def test_bad_details_are_refused_by_field(staff, track, changes, field, says):
    kwargs = {
        "by": staff,
        "name": "Spring",
        "slug": "spring",
        "starts_on": date(2026, 3, 2),
        "ends_on": date(2026, 5, 31),
        "track_ids": [track.pk],
        **changes,
    }
    with pytest.raises(services.CohortInvalid) as refused:
        services.cohort_create(**kwargs)
    assert says in " ".join(refused.value.errors[field])
    assert not Cohort.objects.exists() and not CohortMembership.objects.exists()


def test_slugs_are_unique(staff, track):
    make_cohort(by=staff, tracks=[track])
    with pytest.raises(services.CohortInvalid) as refused:
        make_cohort(by=staff, tracks=[track])
    assert "already uses" in refused.value.errors["slug"][0]


def test_archived_tracks_take_no_new_cohorts(staff, track):
    track.archived_at = track.created_at
    track.save()
    with pytest.raises(services.CohortInvalid) as refused:
        make_cohort(by=staff, tracks=[track])
    assert "archived" in refused.value.errors["track_ids"][0]


def test_update_adds_a_track_with_targets_and_enrols_members(cohort, staff, track):
    member = UserFactory()
    from .conftest import join

    join(cohort, member)
    other = TrackFactory(title="Statistics")
    ModuleFactory(track=other, title="Probability", weeks=3)
    services.cohort_update(
        by=staff,
        cohort=cohort,
        name="Spring 2026",
        slug="spring-2026",
        starts_on=cohort.starts_on,
        ends_on=cohort.ends_on,
        track_ids=[other.pk, track.pk],
        description="",
    )
    cohort.refresh_from_db()
    assert (cohort.name, cohort.slug) == ("Spring 2026", "spring-2026")
    assert list(
        CohortTrack.objects.filter(cohort=cohort).values_list("track__title", flat=True)
    ) == ["Statistics", "Deep Learning"]
    assert targets(cohort)["Probability"] == 3
    assert Enrolment.objects.filter(learner=member, track=other, left_at__isnull=True).exists()


def test_update_taking_a_track_away_keeps_enrolments(cohort, staff, track):
    other = TrackFactory()
    ModuleFactory(track=other)
    member = UserFactory()
    services.cohort_update(
        by=staff,
        cohort=cohort,
        name=cohort.name,
        slug=cohort.slug,
        starts_on=cohort.starts_on,
        ends_on=cohort.ends_on,
        track_ids=[track.pk, other.pk],
    )
    enrol(member, track)
    services.cohort_update(
        by=staff,
        cohort=cohort,
        name=cohort.name,
        slug=cohort.slug,
        starts_on=cohort.starts_on,
        ends_on=cohort.ends_on,
        track_ids=[other.pk],
    )
    assert set(targets(cohort)) == {m.title for m in other.modules.all()}
    assert Enrolment.objects.filter(learner=member, track=track).exists()


def test_update_refuses_dates_that_would_leave_a_phase_outside(cohort, staff):
    services.cohort_phases_set(
        by=staff,
        cohort=cohort,
        phases=[services.PhaseInput("Project", cohort.ends_on, cohort.ends_on)],
    )
    with pytest.raises(services.CohortInvalid) as refused:
        services.cohort_update(
            by=staff,
            cohort=cohort,
            name=cohort.name,
            slug=cohort.slug,
            starts_on=cohort.starts_on,
            ends_on=cohort.ends_on - timedelta(days=1),
            track_ids=[t.pk for t in cohort.tracks.all()],
        )
    assert "Project" in refused.value.errors["ends_on"][0]


def test_a_cohort_runs_at_most_five_years(cohort, staff):
    """A cohort dated from year 1 was accepted, and its dashboard drew 105,707 weeks."""
    with pytest.raises(services.CohortInvalid) as refused:
        services.cohort_update(
            by=staff,
            cohort=cohort,
            name=cohort.name,
            slug=cohort.slug,
            starts_on=cohort.ends_on - timedelta(days=5 * 365),
            ends_on=cohort.ends_on,
            track_ids=[t.pk for t in cohort.tracks.all()],
        )
    assert refused.value.errors["ends_on"] == [
        "A cohort runs for at most 5 years; this one would run 1,826 days. Pick a later start "
        "or an earlier end."
    ]
    services.cohort_update(  # exactly five years is fine
        by=staff,
        cohort=cohort,
        name=cohort.name,
        slug=cohort.slug,
        starts_on=cohort.ends_on - timedelta(days=5 * 365 - 1),
        ends_on=cohort.ends_on,
        track_ids=[t.pk for t in cohort.tracks.all()],
    )


def test_members_cannot_edit_their_cohort(cohort, track):
    member = UserFactory()
    from .conftest import join

    join(cohort, member)
    with pytest.raises(services.NotAllowed):
        services.cohort_update(
            by=member,
            cohort=cohort,
            name="Mine",
            slug=cohort.slug,
            starts_on=cohort.starts_on,
            ends_on=cohort.ends_on,
            track_ids=[track.pk],
        )


# --- phases ---------------------------------------------------------------------------------


def phase(name, start, end):
    return services.PhaseInput(name=name, starts_on=start, ends_on=end)


def test_phases_are_set_in_date_order(cohort, admin):
    start = cohort.starts_on
    services.cohort_phases_set(
        by=admin,
        cohort=cohort,
        phases=[
            phase("Project phase", start + timedelta(days=56), cohort.ends_on),
            phase("Learning phase", start, start + timedelta(days=55)),
        ],
    )
    assert list(CohortPhase.objects.filter(cohort=cohort).values_list("name", flat=True)) == [
        "Learning phase",
        "Project phase",
    ]
    services.cohort_phases_set(by=admin, cohort=cohort, phases=[])
    assert not CohortPhase.objects.filter(cohort=cohort).exists()


@pytest.mark.parametrize(
    ("rows", "key", "says"),
    [
        ([("", 0, 6)], "phases.0.name", "name"),
        ([("A", -1, 6)], "phases.0.starts_on", "cohort starts"),
        ([("A", 0, 84)], "phases.0.ends_on", "cohort ends"),
        ([("A", 5, 4)], "phases.0.ends_on", "on or after"),
        ([("A", 0, 6), ("a", 7, 8)], "phases.1.name", "already called"),
        ([("A", 0, 10), ("B", 10, 20)], "phases.1.starts_on", "overlaps"),
        ([("B", 10, 20), ("A", 0, 10)], "phases.0.starts_on", "overlaps"),
    ],
)
def test_bad_phases_are_refused_by_row(cohort, admin, rows, key, says):
    before = phase("Kept", cohort.starts_on, cohort.starts_on)
    services.cohort_phases_set(by=admin, cohort=cohort, phases=[before])
    start = cohort.starts_on  # the cohort runs 84 days: days 0 to 83
    inputs = [phase(n, start + timedelta(days=a), start + timedelta(days=b)) for n, a, b in rows]
    with pytest.raises(services.CohortInvalid) as refused:
        services.cohort_phases_set(by=admin, cohort=cohort, phases=inputs)
    assert says in " ".join(refused.value.errors[key])
    assert list(CohortPhase.objects.filter(cohort=cohort).values_list("name", flat=True)) == [
        "Kept"
    ]


# --- pace plan ------------------------------------------------------------------------------


def test_targets_are_set_per_module_and_reset_to_the_defaults(cohort, admin, track):
    tensors = track.modules.get(title="Tensors")
    services.cohort_targets_set(by=admin, cohort=cohort, target_weeks={tensors.pk: 6})
    assert targets(cohort) == {"Tensors": 6, "Training loops": 3, "Vision": 4}
    services.cohort_targets_reset(by=admin, cohort=cohort)
    assert targets(cohort)["Tensors"] == 2


@pytest.mark.parametrize("week", [0, 521, -1, "3", 2.5, True])
def test_target_weeks_out_of_range_are_refused(cohort, admin, track, week):
    tensors = track.modules.get(title="Tensors")
    with pytest.raises(services.CohortInvalid) as refused:
        services.cohort_targets_set(by=admin, cohort=cohort, target_weeks={tensors.pk: week})
    assert refused.value.errors[f"target.{tensors.pk}"]
    assert targets(cohort)["Tensors"] == 2


def test_targets_only_for_the_cohorts_modules(cohort, admin):
    stranger = ModuleFactory()
    with pytest.raises(services.CohortInvalid):
        services.cohort_targets_set(by=admin, cohort=cohort, target_weeks={stranger.pk: 2})
    assert not CohortModuleTarget.objects.filter(module=stranger).exists()


def test_a_week_520_target_is_the_last_one_allowed(cohort, admin, track):
    vision = track.modules.get(title="Vision")
    services.cohort_targets_set(by=admin, cohort=cohort, target_weeks={vision.pk: 520})
    assert targets(cohort)["Vision"] == 520
