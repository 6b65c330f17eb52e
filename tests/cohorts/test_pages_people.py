"""Invites, members and co-admins, teams, and joining: the pages, with and without HTMX."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cohorts import services
from cohorts.models import CohortInvite, CohortMembership, Team, TeamMembership
from tests.accessible_names import field_names, shared_names
from tests.factories import UserFactory
from tests.reliability.form_cases import Text
from tests.reliability.test_form_input import bad_values, field_error
from tracker import permissions
from tracker.models import Enrolment

from .conftest import join

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(client, user):
    client.force_login(user)
    return client


# --- invites ------------------------------------------------------------------------------------


def test_an_admin_creates_and_revokes_an_invite(client, cohort, admin):
    url = reverse("cohorts:invites", args=[cohort.slug])
    response = signed_in(client, admin).post(url, {"expires_in_days": "7", "max_uses": "30"})
    assert response.status_code == 302
    invite = CohortInvite.objects.get(cohort=cohort)
    assert invite.max_uses == 30
    assert timedelta(days=6, hours=23) < invite.expires_at - timezone.now() <= timedelta(days=7)
    page = client.get(url).content.decode()
    assert f"/join/{invite.code}/" in page and "0 of 30" in page and "Open" in page
    grouped = f"{invite.code[:4]}-{invite.code[4:8]}-{invite.code[8:]}"  # as /join/'s example
    assert f"<code>{grouped}</code>" in page
    assert client.post("/join/", {"code": grouped.lower()})["Location"] == f"/join/{invite.code}/"
    response = client.post(reverse("cohorts:invites_revoke", args=[cohort.slug, invite.pk]), **HTMX)
    assert response.status_code == 200 and "Revoked" in response.content.decode()
    invite.refresh_from_db()
    assert invite.revoked_by == admin


def test_an_invite_over_htmx_answers_with_the_list(client, cohort, admin):
    url = reverse("cohorts:invites", args=[cohort.slug])
    response = signed_in(client, admin).post(url, {"expires_in_days": "", "max_uses": ""}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200 and page.lstrip().startswith('<div id="invites">')
    assert "Never" in page and CohortInvite.objects.get().code in page


@pytest.mark.parametrize(
    ("data", "field"),
    [({"expires_in_days": "0"}, "expires_in_days"), ({"max_uses": "-3"}, "max_uses")],
)
def test_bad_invite_input_is_named_and_nothing_is_made(client, cohort, admin, data, field):
    response = signed_in(client, admin).post(reverse("cohorts:invites", args=[cohort.slug]), data)
    assert response.status_code == 400
    assert f'id="id_{field}-errors"' in response.content.decode()
    assert not CohortInvite.objects.exists()


def test_an_invite_of_another_cohort_is_not_found(client, cohort, admin, staff, track):
    from .conftest import make_cohort

    other = make_cohort(by=staff, tracks=[track], slug="other")
    invite = services.invite_create(by=staff, cohort=other)
    response = signed_in(client, admin).post(
        reverse("cohorts:invites_revoke", args=[cohort.slug, invite.pk])
    )
    assert response.status_code == 404
    invite.refresh_from_db()
    assert invite.revoked_at is None


# --- joining ------------------------------------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_up_and_come_back(client, cohort, admin):
    invite = services.invite_create(by=admin, cohort=cohort)
    services.cohort_phases_set(
        by=admin,
        cohort=cohort,
        phases=[services.PhaseInput("Learning phase", cohort.starts_on, cohort.ends_on)],
    )
    page = client.get(f"/join/{invite.code}/").content.decode()
    assert "Spring cohort" in page and "Deep Learning" in page and "Learning phase" in page
    assert f'<form method="post" action="/join/{invite.code}/"' in page
    assert "Its admins see your name, your progress and points in those tracks" in page
    response = client.post(f"/join/{invite.code}/", {"account": "new"})
    assert response["Location"] == f"/accounts/signup/?next=%2Fjoin%2F{invite.code}%2F"
    response = client.post(f"/join/{invite.code}/")
    assert response["Location"] == f"/accounts/login/?next=%2Fjoin%2F{invite.code}%2F"
    assert not CohortMembership.objects.filter(role="member").exists()


def test_a_learner_joins_with_the_button(client, cohort, admin, track):
    invite = services.invite_create(by=admin, cohort=cohort)
    learner = UserFactory()
    page = signed_in(client, learner).get(f"/join/{invite.code}/").content.decode()
    assert "Join Spring cohort" in page
    response = client.post(f"/join/{invite.code}/")
    assert response.status_code == 302
    assert permissions.is_cohort_member(learner, cohort)
    assert Enrolment.objects.filter(learner=learner, track=track).exists()
    page = client.get(f"/join/{invite.code}/").content.decode()
    assert "You are a member of Spring cohort" in page


@pytest.mark.parametrize(
    ("spoil", "status", "heading"),
    [
        ("revoke", 410, "This invite was withdrawn"),
        ("expire", 410, "This invite has expired"),
        ("use up", 410, "This invite is used up"),
    ],
)
def test_codes_that_no_longer_work_have_clear_pages(client, cohort, admin, spoil, status, heading):
    invite = services.invite_create(by=admin, cohort=cohort, max_uses=1)
    if spoil == "revoke":
        services.invite_revoke(by=admin, invite=invite)
    elif spoil == "expire":
        CohortInvite.objects.filter(pk=invite.pk).update(expires_at=timezone.now())
    else:
        services.cohort_join(user=UserFactory(), code=invite.code)
    learner = UserFactory()
    response = signed_in(client, learner).get(f"/join/{invite.code}/")
    assert response.status_code == status and heading in response.content.decode()
    response = client.post(f"/join/{invite.code}/")
    assert response.status_code == 302
    assert not permissions.is_cohort_member(learner, cohort)


def test_an_unknown_code_is_404_and_a_typed_code_finds_its_page(client, cohort, admin):
    assert client.get("/join/NOSUCHCODE99/").status_code == 404
    invite = services.invite_create(by=admin, cohort=cohort)
    typed = f"{invite.code[:4].lower()}-{invite.code[4:]}"
    response = client.post(reverse("cohorts:join_code"), {"code": typed})
    assert response.status_code == 302 and response["Location"] == f"/join/{invite.code}/"
    response = client.post(reverse("cohorts:join_code"), {"code": "--"})
    assert response.status_code == 400 and 'id="id_code-errors"' in response.content.decode()


def test_a_mistyped_code_is_said_next_to_what_was_typed(client, cohort, admin):
    """A code with one character wrong went to a "We don't know that invite" page whose link
    brought back an empty box: all twelve characters to type again."""
    invite = services.invite_create(by=admin, cohort=cohort)
    typed = f"{invite.code[:-1]}{'A' if invite.code[-1] != 'A' else 'B'}".lower()
    response = client.post(reverse("cohorts:join_code"), {"code": typed})
    page = response.content.decode()
    assert response.status_code == 400
    assert f'value="{typed}"' in page
    errors = page.split('id="id_code-errors"', 1)[1].split("</ul>", 1)[0]
    assert f"No invite has the code {typed.upper()}." in errors


# --- members and co-admins -------------------------------------------------------------------


def test_members_are_listed_and_removed_after_confirmation(client, cohort, admin):
    learner = UserFactory(first_name="Lea", last_name="Learner")
    membership = join(cohort, learner)
    page = signed_in(client, admin).get(reverse("cohorts:members", args=[cohort.slug]))
    assert "Lea Learner" in page.content.decode()
    assert membership.invite.display_code in page.content.decode()
    url = reverse("cohorts:members_remove", args=[cohort.slug, membership.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Remove Lea Learner" in confirm.content.decode()
    # Two members may share a name: the page says which one this is.
    assert (
        f"with the invite <code>{membership.invite.display_code}</code>" in confirm.content.decode()
    )
    assert client.post(url).status_code == 302
    membership.refresh_from_db()
    assert membership.removed_at is not None
    again = client.get(url)  # a second click finds them gone, and says so
    assert again.status_code == 200 and "is no longer in Spring cohort" in again.content.decode()
    assert client.post(url).status_code == 302


def test_a_co_admin_is_added_by_email_over_htmx(client, cohort, admin):
    helper = UserFactory(first_name="Hal", last_name="Helper")
    url = reverse("cohorts:members_admin_add", args=[cohort.slug])
    response = signed_in(client, admin).post(url, {"email": helper.email}, **HTMX)
    assert response.status_code == 200
    assert "Hal Helper is now an admin" in response.content.decode()
    assert permissions.is_cohort_admin(helper, cohort)
    response = client.post(url, {"email": "nobody@example.com"})
    assert response.status_code == 400
    assert 'id="id_email-errors"' in response.content.decode()


def test_the_last_admin_stays(client, cohort, admin, staff):
    staff_role = CohortMembership.objects.get(cohort=cohort, user=staff)
    admin_role = CohortMembership.objects.get(cohort=cohort, user=admin)
    signed_in(client, admin)
    client.post(reverse("cohorts:members_admin_remove", args=[cohort.slug, staff_role.pk]))
    response = client.post(
        reverse("cohorts:members_admin_remove", args=[cohort.slug, admin_role.pk]), follow=True
    )
    assert "the only admin" in response.content.decode()
    assert permissions.is_cohort_admin(admin, cohort)


# --- teams --------------------------------------------------------------------------------------


def test_teams_are_formed_in_the_browser(client, cohort, admin):
    ana = UserFactory(first_name="Ana", last_name="A")
    join(cohort, ana)
    url = reverse("cohorts:teams", args=[cohort.slug])
    response = signed_in(client, admin).post(
        url,
        {
            "new-name": "Owls",
            "new-project_title": "Bird calls",
            "new-project_link": "https://example.com/owls",
        },
        **HTMX,
    )
    assert response.status_code == 200 and "Created the team “Owls”" in response.content.decode()
    team = Team.objects.get(name="Owls")
    page = client.get(url).content.decode()
    assert "Ana A (Deep Learning)" in page  # the select of members in no team, with tracks
    response = client.post(
        reverse("cohorts:teams_member_add", args=[cohort.slug, team.pk]),
        {f"add-{team.pk}-user": str(ana.pk)},
    )
    assert response.status_code == 302
    assert TeamMembership.objects.filter(team=team, user=ana).exists()
    page = client.get(url).content.decode()
    assert "Every member of the cohort is in a team. To move someone here, take them out" in page
    assert "Add a member to Owls" not in page  # no form that can only be refused
    response = client.post(
        reverse("cohorts:teams_update", args=[cohort.slug, team.pk]),
        {f"team-{team.pk}-name": "", f"team-{team.pk}-project_link": "ftp://x"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="id_team-{team.pk}-name-errors"' in page
    assert f'id="id_team-{team.pk}-project_link-errors"' in page
    client.post(reverse("cohorts:teams_member_remove", args=[cohort.slug, team.pk, ana.pk]))
    assert not TeamMembership.objects.exists()
    client.post(reverse("cohorts:teams_delete", args=[cohort.slug, team.pk]))
    assert not Team.objects.exists()


def test_a_member_already_in_a_team_is_refused(client, cohort, admin):
    ana = UserFactory()
    join(cohort, ana)
    owls = services.team_create(by=admin, cohort=cohort, name="Owls")
    hawks = services.team_create(by=admin, cohort=cohort, name="Hawks")
    services.team_member_add(by=admin, team=owls, user=ana)
    response = signed_in(client, admin).post(
        reverse("cohorts:teams_member_add", args=[cohort.slug, hawks.pk]),
        {f"add-{hawks.pk}-user": str(ana.pk)},
    )
    assert response.status_code == 400  # not among the choices: named on the field
    assert f'id="id_add-{hawks.pk}-user-errors"' in response.content.decode()
    assert not hawks.team_memberships.exists()


def test_each_teams_fields_are_labelled_with_its_name(client, cohort, admin):
    """Every team has its own edit form; a screen reader's list of fields said "Team name",
    "Team name", "Team name"."""
    join(cohort, UserFactory())
    owls = services.team_create(by=admin, cohort=cohort, name="Owls")
    hawks = services.team_create(by=admin, cohort=cohort, name="Hawks")
    url = reverse("cohorts:teams", args=[cohort.slug])
    page = signed_in(client, admin).get(url).content.decode()
    fields = {target[1]: name for name, target in field_names(page)}
    for team in (owls, hawks):
        assert fields[f"team-{team.pk}-name"] == f"Team name, {team.name}"
        assert fields[f"team-{team.pk}-project_title"] == f"Project title (optional), {team.name}"
        assert fields[f"team-{team.pk}-project_link"] == f"Project link (optional), {team.name}"
        assert fields[f"add-{team.pk}-user"] == f"Add a member to {team.name}"
    assert fields["new-name"] == "Team name"
    assert shared_names(page) == {}
    # A refused save shows the form again, its labels still naming the team.
    refused = client.post(
        reverse("cohorts:teams_update", args=[cohort.slug, owls.pk]),
        {f"team-{owls.pk}-name": ""},
    )
    assert refused.status_code == 400
    fields = {target[1]: name for name, target in field_names(refused.content.decode())}
    assert fields[f"team-{owls.pk}-name"] == "Team name, Owls"


@pytest.mark.parametrize(
    "value",
    list(bad_values(Text(max_length=40, required=True)).values()),
    ids=list(bad_values(Text(max_length=40, required=True))),
)
def test_a_typed_code_meets_bad_input_next_to_the_field(client, value):
    """The join-code form's share of tests/reliability/test_form_input.py (it is EXEMPT there:
    it writes nothing)."""
    response = client.post(reverse("cohorts:join_code"), {"code": value})
    assert response.status_code == 400
    assert field_error(response.content.decode(), "code")


def test_a_track_archived_under_a_running_cohort_leaves_its_pages(client, cohort, track, staff):
    """Its page is gone (404 to learners): the member page offered "Continue" to it and
    counted its modules against the member's pace; leaving it led to that 404."""
    from curriculum.models import Track
    from tests.factories import ModuleFactory, ResourceFactory, TrackFactory

    kept = TrackFactory(title="Computer Vision", slug="vision")
    ResourceFactory(module=ModuleFactory(track=kept, title="Convolutions", weeks=1))
    services.cohort_update(
        by=staff,
        cohort=cohort,
        name=cohort.name,
        slug=cohort.slug,
        starts_on=cohort.starts_on,
        ends_on=cohort.ends_on,
        track_ids=[track.pk, kept.pk],
    )
    member = UserFactory()
    join(cohort, member)
    client.force_login(member)
    home = reverse("cohorts:home", args=[cohort.slug])
    assert f'href="{track.get_absolute_url()}"' in client.get(home).content.decode()

    Track.objects.filter(pk=track.pk).update(archived_at=timezone.now())
    from curriculum.structure import structure_changed

    structure_changed({track.pk})
    page = client.get(home).content.decode()
    assert f'href="{track.get_absolute_url()}"' not in page and "Tensors" not in page
    assert f'href="{kept.get_absolute_url()}"' in page and "Convolutions" in page
    assert client.get(track.get_absolute_url()).status_code == 404
    left = client.post(reverse("track:leave", args=[track.slug]))
    assert left["Location"] == reverse("tracker:dashboard")
    assert client.get(left["Location"]).status_code == 200


def test_an_expired_invite_says_when_in_the_viewer_s_time_zone(client, cohort, admin):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tracker import services as tracker_services

    invite = services.invite_create(by=admin, cohort=cohort)
    ended = datetime(2026, 3, 5, 23, 30, tzinfo=ZoneInfo("UTC"))  # 6 March, 08:30 in Tokyo
    CohortInvite.objects.filter(pk=invite.pk).update(expires_at=ended)
    learner = UserFactory()
    tracker_services.profile_update(
        user=learner,
        display_name="Kenji",
        time_zone="Asia/Tokyo",
        nudge_enabled=True,
        nudge_weekday=0,
        nudge_hour=9,
    )
    page = signed_in(client, learner).get(f"/join/{invite.code}/").content.decode()
    assert "expired on 6 Mar 2026 at 08:30 (Asia/Tokyo time)" in page


def test_a_team_in_a_cohort_without_members_says_to_invite_people(client, cohort, admin):
    services.team_create(by=admin, cohort=cohort, name="Owls")
    page = signed_in(client, admin).get(reverse("cohorts:teams", args=[cohort.slug]))
    html = page.content.decode()
    assert "The cohort has no members to add yet" in html
    assert f'href="/cohorts/{cohort.slug}/invites/">invite people</a>' in html
    assert "Add a member to Owls" not in html
