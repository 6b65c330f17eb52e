"""Track lead roles: granted and revoked by staff (browser and admin) and by the track YAML's
`leads:` list, applied when a listed address is confirmed later; and the permission module's
answers for each role."""

from __future__ import annotations

import textwrap
import uuid

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test.utils import CaptureQueriesContext

from curriculum.exporter import track_export_yaml
from curriculum.loader import CurriculumInvalid, load_paths
from curriculum.models import Track
from tests.factories import CapstoneFactory, TrackFactory, UserFactory
from tracker import permissions, services
from tracker.models import LeadSource, TrackLead

pytestmark = pytest.mark.django_db


def verified_user(email: str, **kwargs):
    return UserFactory(email=email, **kwargs)  # the factory confirms the address


def staff():
    return UserFactory(is_staff=True)


def active_leads(track) -> set[str]:
    return set(
        TrackLead.objects.filter(track=track, revoked_at__isnull=True).values_list(
            "user__email", flat=True
        )
    )


TRACK_YAML = """\
track:
  slug: ml
  title: Machine learning
  {leads}
  modules:
    - slug: one
      title: One
      resources:
        - slug: r1
          title: R1
          kind: video
"""


def write_track(tmp_path, leads: list[str] | None) -> str:
    line = "leads: [" + ", ".join(leads) + "]" if leads is not None else ""
    path = tmp_path / "ml.yaml"
    path.write_text(TRACK_YAML.format(leads=line))
    return str(path)


# --- the YAML `leads:` key -------------------------------------------------------------------


def test_yaml_leads_grant_existing_verified_accounts_and_wait_for_the_others(tmp_path):
    ada = verified_user("ada@example.com")
    # Signed up, never confirmed.
    unverified = UserFactory(email="bob@example.com", email_verified=False)
    EmailAddress.objects.create(user=unverified, email="bob@example.com", verified=False)
    load_paths([write_track(tmp_path, ["Ada@Example.com", "bob@example.com", "cy@example.com"])])

    track = Track.objects.get(slug="ml")
    assert track.lead_emails == ["ada@example.com", "bob@example.com", "cy@example.com"]
    assert active_leads(track) == {"ada@example.com"}
    assert TrackLead.objects.get(user=ada).source == LeadSource.YAML
    assert permissions.leads_track(ada, track) and not permissions.leads_track(unverified, track)

    # Bob confirms his address; Cy signs up and confirms: both become leads then.
    address = EmailAddress.objects.get(email="bob@example.com")
    address.verified = True
    address.save()
    from allauth.account.signals import email_confirmed

    email_confirmed.send(sender=EmailAddress, request=None, email_address=address)
    cy = verified_user("cy@example.com")
    email_confirmed.send(
        sender=EmailAddress, request=None, email_address=EmailAddress.objects.get(user=cy)
    )
    assert active_leads(track) == {"ada@example.com", "bob@example.com", "cy@example.com"}


def test_a_real_sign_up_and_confirmation_grants_the_listed_role(
    client, tmp_path, mailoutbox, django_capture_on_commit_callbacks
):
    # A fresh address each run: allauth rate-limits confirmation emails per address, in the
    # shared cache (Redis under CI), across runs.
    email = f"newlead-{uuid.uuid4().hex[:10]}@example.com"
    load_paths([write_track(tmp_path, [email])])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/signup/",
            {
                "email": email,
                "password1": "a long lead password 42",
                "password2": "a long lead password 42",
                "display_name": "New Lead",
            },
        )
    track = Track.objects.get(slug="ml")
    assert active_leads(track) == set(), "an unconfirmed address must not carry a role"
    key_line = next(line for line in mailoutbox[-1].body.splitlines() if "/confirm-email/" in line)
    confirm_path = key_line[key_line.index("/accounts/") :].strip()
    client.post(confirm_path)
    assert active_leads(track) == {email}


def test_leaving_the_yaml_ends_yaml_roles_but_not_staff_grants(tmp_path):
    ada = verified_user("ada@example.com")
    bob = verified_user("bob@example.com")
    load_paths([write_track(tmp_path, ["ada@example.com"])])
    track = Track.objects.get(slug="ml")
    services.track_lead_grant(track=track, user=bob, granted_by=staff())

    report = load_paths([write_track(tmp_path, [])])
    assert "update track ml (leads)" in report.plan
    assert active_leads(track) == {"bob@example.com"}
    ended = TrackLead.objects.get(user=ada)
    assert ended.revoked_at is not None and ended.revoked_by is None  # the file ended it

    load_paths([write_track(tmp_path, ["ada@example.com"])])  # back in the file: back again
    assert active_leads(track) == {"ada@example.com", "bob@example.com"}


def test_a_staff_revocation_sticks_while_the_yaml_still_lists_the_address(tmp_path):
    ada = verified_user("ada@example.com")
    path = write_track(tmp_path, ["ada@example.com"])
    load_paths([path])
    track = Track.objects.get(slug="ml")
    admin_user = staff()
    services.track_lead_revoke(track=track, user=ada, revoked_by=admin_user)
    load_paths([path])
    assert active_leads(track) == set()
    services.track_lead_grant(track=track, user=ada, granted_by=admin_user)
    assert active_leads(track) == {"ada@example.com"}
    assert TrackLead.objects.count() == 1  # one row per person and track, reused


def test_leads_round_trip_through_the_exporter(tmp_path):
    load_paths([write_track(tmp_path, ["b@example.com", "a@example.com"])])
    exported = track_export_yaml(slug="ml")
    assert "  leads:\n    - b@example.com\n    - a@example.com\n" in exported
    path = tmp_path / "exported.yaml"
    path.write_text(exported)
    report = load_paths([str(path)])
    assert (report.created, report.updated, report.archived) == (0, 0, 0)


@pytest.mark.parametrize(
    ("leads", "message"),
    [
        (
            '["not an email"]',
            "track (`ml`): entry 1 of `leads` must be an email address (such as "
            "ada@example.com), not 'not an email'",
        ),
        (
            '["a@example.com", "A@example.com"]',
            "track (`ml`): `leads` lists a@example.com twice (case does not count): remove one "
            "of them",
        ),
        ("a@example.com", "track (`ml`): `leads` must be a list"),
        ("[42]", "track (`ml`): entry 1 of `leads` must be an email address, not the number 42"),
    ],
)
def test_bad_leads_are_errors_with_their_place(tmp_path, leads, message):
    path = tmp_path / "ml.yaml"
    path.write_text(TRACK_YAML.format(leads=f"leads: {leads}"))
    with pytest.raises(CurriculumInvalid) as caught:
        load_paths([str(path)])
    assert any(message in str(error) for error in caught.value.errors), caught.value.errors
    assert not Track.objects.exists()


def test_a_reload_without_leads_costs_one_query_for_them(tmp_path):
    path = write_track(tmp_path, None)
    load_paths([path])
    with CaptureQueriesContext(connection) as queries:
        services.track_leads_sync(track_slugs=["ml"])
    assert len([q for q in queries if "SAVEPOINT" not in q["sql"]]) == 1


# --- staff grant and revoke ----------------------------------------------------------------


def test_only_staff_grant_and_revoke():
    track = TrackFactory()
    lead = verified_user("lead@example.com")
    services.track_lead_grant(track=track, user=lead, granted_by=staff())
    other = verified_user("other@example.com")
    with pytest.raises(services.NotAllowed):
        services.track_lead_grant(track=track, user=other, granted_by=lead)
    with pytest.raises(services.NotAllowed):
        services.track_lead_revoke(track=track, user=lead, revoked_by=lead)
    assert active_leads(track) == {"lead@example.com"}


def test_grant_by_email_needs_a_confirmed_address():
    track = TrackFactory()
    UserFactory(email="unconfirmed@example.com", email_verified=False)
    with pytest.raises(services.ServiceError, match="No account has confirmed the address"):
        services.track_lead_grant_by_email(
            track=track, email="unconfirmed@example.com", granted_by=staff()
        )
    assert not TrackLead.objects.exists()


def test_staff_grant_and_revoke_in_the_browser(client):
    track = TrackFactory(slug="ml", title="Machine learning")
    verified_user("ada@example.com")
    client.force_login(staff())
    response = client.post("/tracks/ml/leads/", {"action": "grant", "email": "ADA@example.com"})
    assert response.status_code == 302
    page = client.get("/tracks/ml/leads/").content.decode()
    assert "ada@example.com now leads Machine learning." in page
    assert active_leads(track) == {"ada@example.com"}
    client.post("/tracks/ml/leads/", {"action": "grant", "email": "ada@example.com"})
    page = client.get("/tracks/ml/leads/").content.decode()
    assert "ada@example.com already leads Machine learning." in page

    ada = TrackLead.objects.get().user
    client.post("/tracks/ml/leads/", {"action": "revoke", "user": ada.pk})
    assert active_leads(track) == set()
    page = client.get("/tracks/ml/leads/").content.decode()
    assert "Former leads" in page and "ada@example.com" in page


def test_the_grant_form_shows_its_error_next_to_the_field(client):
    TrackFactory(slug="ml")
    client.force_login(staff())
    response = client.post("/tracks/ml/leads/", {"action": "grant", "email": "nobody@example.com"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="email-errors"' in body and "No account has confirmed the address" in body
    assert not TrackLead.objects.exists()


def test_leads_see_their_co_leads_but_cannot_manage_them(client):
    track = TrackFactory(slug="ml")
    lead = verified_user("lead@example.com")
    services.track_lead_grant(track=track, user=lead, granted_by=staff())
    client.force_login(lead)
    page = client.get("/tracks/ml/leads/")
    assert page.status_code == 200 and "Make lead" not in page.content.decode()
    assert client.post("/tracks/ml/leads/", {"email": "x@example.com"}).status_code == 403
    outsider = verified_user("out@example.com")
    client.force_login(outsider)
    assert client.get("/tracks/ml/leads/").status_code == 403


def test_staff_grant_and_revoke_in_the_admin(client):
    track = TrackFactory()
    ada = verified_user("ada@example.com")
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    response = client.post(
        "/admin/tracker/tracklead/add/", {"user": ada.pk, "track": track.pk}, follow=True
    )
    assert response.status_code == 200
    role = TrackLead.objects.get()
    assert role.granted_by == admin_user and role.source == LeadSource.STAFF
    client.post(
        "/admin/tracker/tracklead/",
        {"action": "revoke_selected", "_selected_action": [role.pk]},
    )
    role.refresh_from_db()
    assert role.revoked_at is not None and role.revoked_by == admin_user
    # Granting again in the admin reuses the row.
    client.post("/admin/tracker/tracklead/add/", {"user": ada.pk, "track": track.pk})
    assert active_leads(track) == {"ada@example.com"} and TrackLead.objects.count() == 1


# --- the permission module ---------------------------------------------------------------------


def test_role_facts_are_one_query_and_forgotten_on_change():
    track = TrackFactory()
    lead = verified_user("lead@example.com")
    with CaptureQueriesContext(connection) as queries:
        assert not permissions.can_use_lead_area(lead)
        assert not permissions.can_use_review_queue(lead)
        assert not permissions.can_edit_track(lead, track)
    assert len(queries) == 1
    services.track_lead_grant(track=track, user=lead, granted_by=staff())
    assert permissions.can_edit_track(lead, track) and permissions.can_use_lead_area(lead)


def test_what_each_role_may_do_with_a_track():
    track, other = TrackFactory(), TrackFactory()
    lead = verified_user("lead@example.com")
    services.track_lead_grant(track=track, user=lead, granted_by=staff())
    learner = UserFactory()
    from django.contrib.auth.models import AnonymousUser

    cases = {
        "anonymous": AnonymousUser(),
        "learner": learner,
        "lead": lead,
        "staff": staff(),
    }
    expected = {
        # (edit this track, edit another, view leads, manage leads, lead area)
        "anonymous": (False, False, False, False, False),
        "learner": (False, False, False, False, False),
        "lead": (True, False, True, False, True),
        "staff": (True, True, True, True, True),
    }
    for role, user in cases.items():
        got = (
            permissions.can_edit_track(user, track),
            permissions.can_edit_track(user, other),
            permissions.can_view_leads(user, track),
            permissions.can_manage_leads(user, track),
            permissions.can_use_lead_area(user),
        )
        assert got == expected[role], role


def test_an_inactive_account_has_no_role():
    track = TrackFactory()
    lead = verified_user("lead@example.com")
    services.track_lead_grant(track=track, user=lead, granted_by=staff())
    lead.is_active = False
    permissions.forget_roles(lead)
    assert not permissions.can_edit_track(lead, track)
    assert not permissions.can_review_capstone(lead, CapstoneFactory(module__track=track))


def test_the_template_tag_asks_the_module(rf):
    from django.template import Context, Template

    track = TrackFactory()
    lead = verified_user("lead@example.com")
    services.track_lead_grant(track=track, user=lead, granted_by=staff())
    request = rf.get("/")
    request.user = lead
    template = Template(
        '{% load permissions %}{% can "edit_track" track as ok %}{{ ok }}'
        '{% can "manage_leads" track as manage %}/{{ manage }}'
    )
    assert template.render(Context({"request": request, "track": track})) == "True/False"
    from django.template import TemplateSyntaxError

    with pytest.raises(TemplateSyntaxError, match="no can_fly"):
        Template('{% load permissions %}{% can "fly" as ok %}').render(
            Context({"request": request})
        )


def test_demo_yaml_docs_example_is_valid(tmp_path):
    """The documented example of `leads:` loads."""
    path = tmp_path / "doc.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            track:
              slug: doc
              title: Doc
              leads: [lead@example.com]
              modules:
                - slug: m
                  title: M
            """
        )
    )
    load_paths([str(path)])
    assert Track.objects.get(slug="doc").lead_emails == ["lead@example.com"]


def test_the_lead_area_and_a_tracks_leads_page_say_what_leads_do(client):
    track = TrackFactory(slug="ml")
    lead = verified_user("lead@example.com")
    services.track_lead_grant(track=track, user=lead, granted_by=staff())
    client.force_login(lead)
    home = client.get("/lead/").content.decode()
    intro = home.split('data-testid="lead-intro">')[1].split("</p>")[0]
    assert "review their capstones" in intro and "edit them in the browser or as YAML" in intro
    page = client.get("/tracks/ml/leads/").content.decode()
    intro = page.split('data-testid="leads-intro">')[1].split("</p>")[0]
    assert "capstones and edit the track, in the browser or as YAML" in intro
    breadcrumb = page.split('aria-label="Breadcrumb">')[1].split("</nav>")[0]
    assert breadcrumb.startswith('<a href="/lead/">Lead</a> › ')
