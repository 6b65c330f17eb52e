"""Invites, joining, removal, co-admins and teams through `cohorts.services`."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cohorts import services
from cohorts.models import CohortInvite, CohortMembership, CohortRole, Team, TeamMembership
from cohorts.services import InviteProblem
from tests.factories import ResourceFactory, TrackFactory, UserFactory, enrol
from tracker import permissions
from tracker import services as tracker_services
from tracker.models import Enrolment, Progress

from .conftest import join, make_cohort

pytestmark = pytest.mark.django_db


def membership(cohort, user) -> CohortMembership:
    return CohortMembership.objects.get(cohort=cohort, user=user)


# --- invites and joining ----------------------------------------------------------------------


def test_joining_enrols_in_every_track_and_counts_the_use(cohort, admin, track, staff):
    second = TrackFactory()
    services.cohort_update(
        by=staff,
        cohort=cohort,
        name=cohort.name,
        slug=cohort.slug,
        starts_on=cohort.starts_on,
        ends_on=cohort.ends_on,
        track_ids=[track.pk, second.pk],
    )
    invite = services.invite_create(by=admin, cohort=cohort, max_uses=5)
    learner = UserFactory()
    assert not permissions.is_cohort_member(learner, cohort)  # facts read and kept
    joined = services.cohort_join(user=learner, code=invite.code.lower())
    assert joined.invite == invite and joined.role == CohortRole.MEMBER
    assert permissions.is_cohort_member(learner, cohort)  # forgotten, read again
    assert set(Enrolment.objects.filter(learner=learner).values_list("track", flat=True)) == {
        track.pk,
        second.pk,
    }
    invite.refresh_from_db()
    assert invite.use_count == 1


def test_joining_keeps_progress_already_made(cohort, admin, track):
    learner = UserFactory()
    resource = ResourceFactory(module=track.modules.first())
    enrol(learner, track)
    tracker_services.progress_set_status(learner=learner, resource=resource, status="done")
    tracker_services.enrolment_leave(learner=learner, track=track)
    join(cohort, learner)
    assert Progress.objects.get(learner=learner, resource=resource).status == "done"
    assert Enrolment.objects.get(learner=learner, track=track).left_at is None


def test_codes_are_typed_loosely(cohort, admin):
    invite = services.invite_create(by=admin, cohort=cohort)
    spaced = f" {invite.code[:4].lower()}-{invite.code[4:8]} {invite.code[8:]} "
    assert services.cohort_join(user=UserFactory(), code=spaced).cohort == cohort


def test_an_unknown_code_is_refused(cohort):
    with pytest.raises(services.InviteUnusable) as refused:
        services.cohort_join(user=UserFactory(), code="NOPE")
    assert refused.value.problem is InviteProblem.UNKNOWN


def test_an_invite_works_until_the_moment_it_expires(cohort, admin):
    now = timezone.now()
    invite = services.invite_create(by=admin, cohort=cohort, expires_at=now + timedelta(hours=1))
    just_before = now + timedelta(hours=1) - timedelta(microseconds=1)
    services.cohort_join(user=UserFactory(), code=invite.code, now=just_before)
    late = UserFactory()
    with pytest.raises(services.InviteUnusable) as refused:
        services.cohort_join(user=late, code=invite.code, now=now + timedelta(hours=1))
    assert refused.value.problem is InviteProblem.EXPIRED
    assert "expired" in str(refused.value)
    assert not CohortMembership.objects.filter(user=late).exists()
    invite.refresh_from_db()
    assert invite.use_count == 1


def test_a_revoked_invite_lets_nobody_else_in(cohort, admin):
    invite = services.invite_create(by=admin, cohort=cohort)
    early = UserFactory()
    services.cohort_join(user=early, code=invite.code)
    services.invite_revoke(by=admin, invite=invite)
    services.invite_revoke(by=admin, invite=invite)  # twice: nothing more changes
    with pytest.raises(services.InviteUnusable) as refused:
        services.cohort_join(user=UserFactory(), code=invite.code)
    assert refused.value.problem is InviteProblem.REVOKED
    assert membership(cohort, early).removed_at is None  # those who joined stay


def test_max_uses_then_used_up(cohort, admin):
    invite = services.invite_create(by=admin, cohort=cohort, max_uses=2)
    services.cohort_join(user=UserFactory(), code=invite.code)
    services.cohort_join(user=UserFactory(), code=invite.code)
    with pytest.raises(services.InviteUnusable) as refused:
        services.cohort_join(user=UserFactory(), code=invite.code)
    assert refused.value.problem is InviteProblem.USED_UP
    invite.refresh_from_db()
    assert invite.use_count == 2


def test_joining_twice_uses_the_invite_once(cohort, admin):
    invite = services.invite_create(by=admin, cohort=cohort, max_uses=1)
    learner = UserFactory()
    first = services.cohort_join(user=learner, code=invite.code)
    assert services.cohort_join(user=learner, code=invite.code) == first  # used up, but theirs
    invite.refresh_from_db()
    assert invite.use_count == 1


def test_admins_do_not_join_their_own_cohort(cohort, admin):
    invite = services.invite_create(by=admin, cohort=cohort)
    with pytest.raises(services.ServiceError):
        services.cohort_join(user=admin, code=invite.code)
    assert membership(cohort, admin).role == CohortRole.ADMIN


def test_archived_cohorts_take_nobody(cohort, admin):
    invite = services.invite_create(by=admin, cohort=cohort)
    cohort.archived_at = timezone.now()
    cohort.save()
    with pytest.raises(services.InviteUnusable) as refused:
        services.cohort_join(user=UserFactory(), code=invite.code)
    assert refused.value.problem is InviteProblem.ENDED


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_uses": 0}, "max_uses"),
        ({"max_uses": 100_001}, "max_uses"),
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "expires_in_days"),
    ],
)
def test_bad_invites_are_refused(cohort, admin, kwargs, field):
    with pytest.raises(services.CohortInvalid) as refused:
        services.invite_create(by=admin, cohort=cohort, **kwargs)
    assert refused.value.errors[field]
    assert not CohortInvite.objects.exists()


def test_members_cannot_invite_or_revoke(cohort, admin):
    member = UserFactory()
    invite = services.invite_create(by=admin, cohort=cohort)
    services.cohort_join(user=member, code=invite.code)
    with pytest.raises(services.NotAllowed):
        services.invite_create(by=member, cohort=cohort)
    with pytest.raises(services.NotAllowed):
        services.invite_revoke(by=member, invite=invite)


@pytest.mark.django_db(transaction=True)
def test_two_people_racing_for_the_last_use_one_gets_in(require_postgres):
    staff = UserFactory(is_staff=True)
    cohort = make_cohort(by=staff, tracks=[TrackFactory()])
    invite = services.invite_create(by=staff, cohort=cohort, max_uses=1)
    racers = [UserFactory(), UserFactory()]
    barrier = threading.Barrier(len(racers))
    joined, refused, errors = [], [], []

    def race(user):
        try:
            barrier.wait()
            services.cohort_join(user=user, code=invite.code)
            joined.append(user)
        except services.InviteUnusable as exc:
            refused.append(exc.problem)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(user,)) for user in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(joined) == 1 and refused == [InviteProblem.USED_UP]
    invite.refresh_from_db()
    assert invite.use_count == 1
    assert CohortMembership.objects.filter(cohort=cohort, role=CohortRole.MEMBER).count() == 1


# --- removal and rejoining --------------------------------------------------------------------


def test_removal_keeps_progress_and_enrolments(cohort, admin, track):
    learner = UserFactory()
    member = join(cohort, learner)
    resource = ResourceFactory(module=track.modules.first())
    tracker_services.progress_set_status(learner=learner, resource=resource, status="done")
    team = services.team_create(by=admin, cohort=cohort, name="Owls")
    services.team_member_add(by=admin, team=team, user=learner)
    assert permissions.is_cohort_member(learner, cohort)
    services.member_remove(by=admin, membership=member)
    assert not permissions.is_cohort_member(learner, cohort)
    assert membership(cohort, learner).removed_by == admin
    assert Progress.objects.get(learner=learner, resource=resource).status == "done"
    assert Enrolment.objects.get(learner=learner, track=track).left_at is None
    assert not TeamMembership.objects.filter(user=learner).exists()


def test_rejoining_after_removal_clears_the_removal(cohort, admin):
    learner = UserFactory()
    member = join(cohort, learner)
    services.member_remove(by=admin, membership=member)
    invite = services.invite_create(by=admin, cohort=cohort)
    again = services.cohort_join(user=learner, code=invite.code)
    assert again.pk == member.pk and again.removed_at is None and again.invite == invite
    assert permissions.is_cohort_member(learner, cohort)


def test_admins_are_not_removed_as_members(cohort, admin):
    with pytest.raises(services.CohortInvalid):
        services.member_remove(by=admin, membership=membership(cohort, admin))


# --- co-admins ---------------------------------------------------------------------------------


def test_a_co_admin_is_added_by_confirmed_email(cohort, admin):
    helper = UserFactory(email="Helper@Example.com")
    services.cohort_admin_add(by=admin, cohort=cohort, user_email=" helper@example.com ")
    assert permissions.is_cohort_admin(helper, cohort)


def test_unconfirmed_or_unknown_addresses_are_refused(cohort, admin):
    UserFactory(email="pending@example.com", email_verified=False)
    for email in ("pending@example.com", "nobody@example.com", ""):
        with pytest.raises(services.CohortInvalid) as refused:
            services.cohort_admin_add(by=admin, cohort=cohort, user_email=email)
        assert refused.value.errors["email"]
    assert CohortMembership.objects.filter(cohort=cohort).count() == 2


def test_adding_an_admin_twice_says_so(cohort, admin):
    with pytest.raises(services.CohortInvalid) as refused:
        services.cohort_admin_add(by=admin, cohort=cohort, user_email=admin.email)
    assert "already an admin" in refused.value.errors["email"][0]


def test_a_member_made_admin_leaves_the_member_list(cohort, admin):
    learner = UserFactory()
    join(cohort, learner)
    services.cohort_admin_add(by=admin, cohort=cohort, user_email=learner.email)
    assert permissions.is_cohort_admin(learner, cohort)
    assert not permissions.is_cohort_member(learner, cohort)


def test_never_the_last_admin(cohort, admin, staff):
    services.cohort_admin_remove(by=admin, membership=membership(cohort, staff))
    with pytest.raises(services.CohortInvalid) as refused:
        services.cohort_admin_remove(by=admin, membership=membership(cohort, admin))
    assert "only admin" in str(refused.value)
    assert permissions.is_cohort_admin(admin, cohort)
    assert not permissions.is_cohort_admin(staff, cohort)
    assert permissions.can_manage_cohort(staff, cohort)  # staff still may, as staff


# --- teams --------------------------------------------------------------------------------------


def test_teams_take_active_members_one_team_each(cohort, admin):
    ana, ben = UserFactory(), UserFactory()
    join(cohort, ana)
    join(cohort, ben)
    owls = services.team_create(
        by=admin, cohort=cohort, name="Owls", project_title="Bird calls", project_link=""
    )
    hawks = services.team_create(by=admin, cohort=cohort, name="Hawks")
    services.team_member_add(by=admin, team=owls, user=ana)
    with pytest.raises(services.CohortInvalid) as refused:
        services.team_member_add(by=admin, team=hawks, user=ana)
    assert "Owls" in refused.value.errors["user"][0]
    services.team_member_remove(by=admin, team=owls, user=ana)
    services.team_member_add(by=admin, team=hawks, user=ana)
    services.team_member_add(by=admin, team=hawks, user=ben)
    assert set(hawks.team_memberships.values_list("user", flat=True)) == {ana.pk, ben.pk}


def test_outsiders_and_admins_are_not_team_members(cohort, admin):
    team = services.team_create(by=admin, cohort=cohort, name="Owls")
    for user in (UserFactory(), admin):
        with pytest.raises(services.CohortInvalid):
            services.team_member_add(by=admin, team=team, user=user)
    assert not TeamMembership.objects.exists()


def test_team_names_links_and_renames(cohort, admin):
    owls = services.team_create(by=admin, cohort=cohort, name="Owls")
    with pytest.raises(services.CohortInvalid) as refused:
        services.team_create(by=admin, cohort=cohort, name="owls")
    assert refused.value.errors["name"]
    with pytest.raises(services.CohortInvalid) as refused:
        services.team_update(
            by=admin, team=owls, name="Owls", project_title="", project_link="javascript:x"
        )
    assert refused.value.errors["project_link"]
    services.team_update(
        by=admin,
        team=owls,
        name="Night owls",
        project_title="Sleep tracker",
        project_link="https://example.com/owls",
    )
    owls.refresh_from_db()
    assert (owls.name, owls.project_title) == ("Night owls", "Sleep tracker")


def test_disbanding_a_team_keeps_its_members_in_the_cohort(cohort, admin):
    ana = UserFactory()
    join(cohort, ana)
    owls = services.team_create(by=admin, cohort=cohort, name="Owls")
    services.team_member_add(by=admin, team=owls, user=ana)
    services.team_delete(by=admin, team=owls)
    assert not Team.objects.exists()
    assert permissions.is_cohort_member(ana, cohort)


def test_admins_of_another_cohort_cannot_touch_these_teams(cohort, admin, track):
    other_admin = UserFactory()
    make_cohort(by=UserFactory(is_staff=True), tracks=[track], slug="other")
    other = make_cohort(by=admin, tracks=[track], slug="third")
    services.cohort_admin_add(by=admin, cohort=other, user_email=other_admin.email)
    with pytest.raises(services.NotAllowed):
        services.team_create(by=other_admin, cohort=cohort, name="Intruders")
