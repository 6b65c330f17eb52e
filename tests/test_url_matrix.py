"""The URL × role matrix: every URL pattern the project serves (found by walking the resolver,
allauth and the admin included), requested by every role with GET and POST, answers exactly
the status written here; and no answer ever carries another learner's private data.

A new URL pattern without a row here fails `test_every_url_pattern_has_a_row` (and its own
case) with a message saying where to add one. How to add rows: docs/architecture.md,
"The URL × role matrix".

Roles (one account each, in one shared world built once per module):
  anonymous   not signed in
  learner     signed in, enrolled nowhere, no role
  enrolled    learner A: enrolled in track X (not the owner of anything below)
  owner       learner B: enrolled in X, with progress, a private note, a pace plan, a submitted
              lead-reviewed and a submitted peer-reviewed capstone, and a certificate of track Z
  peer        passed X's peer capstone, so may review B's peer submission
  lead        leads track X
  other_lead  leads track Y (where learner C has a submission waiting)
  staff       is_staff and superuser (the admin)
  member      a member of cohort P (on track W; joined with P's invite)
  cohort_admin  an admin of cohort P
  other_admin   an admin of cohort Q (not of P)
  other_member  a member of cohort Q (not of P)
Rows must give anonymous, learner, lead, other_lead and staff; enrolled, owner, peer and the
cohort roles default to `learner`'s answer unless the row says otherwise (`signed_in=` sets
every signed-in role at once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.aria import aria_problems

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "learner",
    "enrolled",
    "owner",
    "peer",
    "lead",
    "other_lead",
    "staff",
    "member",
    "cohort_admin",
    "other_admin",
    "other_member",
)
SIGNED_IN = ROLES[1:]
REQUIRED = {"anonymous", "learner", "lead", "other_lead", "staff"}
LOGIN = "login"  # a redirect (302) to a log-in page
ANY_REDIRECT = "302"  # a redirect elsewhere (the answer to a form post, say)


# --- the world ---------------------------------------------------------------------------------


@dataclass
class World:
    users: dict
    x: object  # track X (led by `lead`)
    y: object  # track Y (led by `other_lead`)
    resource: object  # a resource of X
    lead_submission: object  # B's submitted work on X's lead capstone
    peer_submission: object  # B's submitted work on X's peer capstone
    draft: object  # B's draft on X's second lead capstone
    y_submission: object  # C's submitted work on Y
    certificate: object  # B's certificate of track Z
    lead_capstone: object
    upload: object = None  # a pending YAML upload for X
    track_content_type: int = 0
    sessions: dict = field(default_factory=dict)  # role → session key (logged in once)
    unsubscribe_token: str = ""  # B's nudge unsubscribe link
    markers: dict = field(default_factory=dict)  # private text → roles allowed to see it
    admin_pks: dict = field(default_factory=dict)  # "app/model" → a pk, for the admin rows
    cohorts: dict = field(default_factory=dict)  # cohort P's rows (see build_cohorts)

    def admin_pk(self, key: str) -> int:
        pk = self.admin_pks.get(key)
        assert pk is not None, f"the matrix world has no {key} row: create one in build_world()"
        return pk


PRIVATE_NOTE = "B-PRIVATE-NOTE-7c1e"
PRIVATE_LEAD_WORK = "B-LEAD-WRITEUP-41d2"
PRIVATE_PEER_WORK = "B-PEER-WRITEUP-9a0f"
PRIVATE_DRAFT = "B-DRAFT-WRITEUP-2b6e"
B_EMAIL = "owner-b@example.com"


def build_world() -> World:
    from django.utils import timezone

    from curriculum.models import ReviewMode, Track, TrackUpload
    from tests.factories import (
        CapstoneFactory,
        ModuleFactory,
        ResourceFactory,
        TrackFactory,
        UserFactory,
        enrol,
    )
    from tracker import services
    from tracker.models import ReviewVia

    def account(name, **kwargs):
        email = B_EMAIL if name == "owner" else f"{name}@example.com"
        return UserFactory(username=f"matrix-{name}", email=email, **kwargs)

    users = {role: account(role) for role in SIGNED_IN if role != "staff"}
    users["staff"] = account("staff", is_staff=True, is_superuser=True)
    learner_c = account("learner-c")

    x = TrackFactory(slug="x", title="Track X")
    y = TrackFactory(slug="y", title="Track Y")
    z = TrackFactory(slug="z", title="Track Z")
    module = ModuleFactory(track=x, slug="m")
    resource = ResourceFactory(module=module, slug="r1")
    constraints = ["Works"]
    lead_capstone = CapstoneFactory(module=module, slug="lead-cap", constraints=constraints)
    second_capstone = CapstoneFactory(module=module, slug="lead-cap-2", constraints=constraints)
    peer_capstone = CapstoneFactory(
        module=module, slug="peer-cap", review=ReviewMode.PEER, constraints=constraints
    )
    y_capstone = CapstoneFactory(module=ModuleFactory(track=y), constraints=constraints)
    z_resource = ResourceFactory(module=ModuleFactory(track=z), slug="z1")
    ResourceFactory(module=ModuleFactory(track=TrackFactory(slug="archived")))
    Track.objects.filter(slug="archived").update(archived_at=timezone.now())

    staff = users["staff"]
    services.track_lead_grant(track=x, user=users["lead"], granted_by=staff)
    services.track_lead_grant(track=y, user=users["other_lead"], granted_by=staff)

    def work(learner, capstone, writeup, *, submit=True):
        enrol(learner, capstone.track)
        write = services.capstone_submit if submit else services.capstone_submission_save
        return write(
            learner=learner,
            capstone=capstone,
            title=f"Work {writeup}",
            link="https://example.com/work",
            writeup=writeup,
            constraints_met=constraints,
        )

    owner = users["owner"]
    enrol(owner, x, z)
    enrol(users["enrolled"], x)
    services.progress_set_status(learner=owner, resource=resource, status="done")
    services.note_save(learner=owner, resource=resource, body=PRIVATE_NOTE)
    services.pace_plan_set(
        learner=owner, track=x, hours_per_week="7.5", target_date=None, today=date(2030, 1, 1)
    )
    services.progress_set_status(learner=owner, resource=z_resource, status="done")
    lead_submission = work(owner, lead_capstone, PRIVATE_LEAD_WORK)
    peer_submission = work(owner, peer_capstone, PRIVATE_PEER_WORK)
    draft = work(owner, second_capstone, PRIVATE_DRAFT, submit=False)
    passed = work(users["peer"], peer_capstone, "peer's own work")
    services.capstone_review(
        reviewer=users["lead"],
        submission=passed,
        decision="passed",
        comments="",
        via=ReviewVia.REVIEW_PAGE,
    )
    y_submission = work(learner_c, y_capstone, "C's work on Y")
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType

    from nudges.emails import unsubscribe_token
    from tracker.models import Certificate

    Group.objects.create(name="Matrix group")
    from nudges.models import BouncedAddress, NudgeDelivery

    now = timezone.now()
    NudgeDelivery.objects.create(
        learner=owner, week="2030-W01", due_at=now, created_at=now, updated_at=now
    )
    BouncedAddress.objects.create(email="bounced@example.com", code=550, error="", flagged_at=now)
    cohorts = build_cohorts(users)
    return World(
        users=users,
        x=x,
        y=y,
        resource=resource,
        lead_submission=lead_submission,
        peer_submission=peer_submission,
        draft=draft,
        y_submission=y_submission,
        certificate=Certificate.objects.get(learner=owner, track=z),
        lead_capstone=lead_capstone,
        upload=TrackUpload.objects.create(
            track=x, uploaded_by=users["lead"], filename="x.yaml", text="", created_at=now
        ),
        track_content_type=ContentType.objects.get_for_model(type(x)).pk,
        unsubscribe_token=unsubscribe_token(owner.pk),
        admin_pks=admin_objects(),
        cohorts=cohorts,
        markers={
            # Notes are their writer's alone: no staff screen shows their bodies.
            PRIVATE_NOTE: {"owner"},
            PRIVATE_LEAD_WORK: {"owner", "lead", "staff"},
            PRIVATE_PEER_WORK: {"owner", "lead", "staff", "peer"},
            PRIVATE_DRAFT: {"owner", "staff"},
            B_EMAIL: {"owner", "staff"},
        },
    )


def build_cohorts(users) -> dict:
    """Cohort P on track W (run by cohort_admin, with member in it, an open and a revoked
    invite, a team holding member) and cohort Q (run by other_admin, with other_member in
    it). Staff made both and then
    left their admins, so staff's answers are staff's own."""
    from cohorts import services as cohorts
    from cohorts.models import CohortMembership
    from tests.factories import ModuleFactory, TrackFactory, UserFactory

    staff = users["staff"]
    w = TrackFactory(slug="w", title="Track W")
    ModuleFactory(track=w, slug="w1")

    def cohort(slug, admin):
        made = cohorts.cohort_create(
            by=staff,
            name=f"Cohort {slug.upper()}",
            slug=slug,
            starts_on=date(2030, 1, 7),
            ends_on=date(2030, 3, 31),
            track_ids=[w.pk],
        )
        cohorts.cohort_admin_add(by=staff, cohort=made, user_email=admin.email)
        cohorts.cohort_admin_remove(
            by=staff, membership=CohortMembership.objects.get(cohort=made, user=staff)
        )
        return made

    p = cohort("p", users["cohort_admin"])
    q = cohort("q", users["other_admin"])
    q_invite = cohorts.invite_create(by=users["other_admin"], cohort=q)
    cohorts.cohort_join(user=users["other_member"], code=q_invite.code)
    admin = users["cohort_admin"]
    invite = cohorts.invite_create(by=admin, cohort=p)
    revoked = cohorts.invite_create(by=admin, cohort=p)
    cohorts.invite_revoke(by=admin, invite=revoked)
    cohorts.cohort_join(user=users["member"], code=invite.code)
    second = cohorts.cohort_join(user=UserFactory(username="matrix-member-2"), code=invite.code)
    team = cohorts.team_create(by=admin, cohort=p, name="Owls")
    cohorts.team_member_add(by=admin, team=team, user=users["member"])
    return {
        "invite": invite,
        "revoked": revoked,
        "member": second,  # a member without a role of the matrix (removed by a POST)
        "admin": CohortMembership.objects.get(cohort=p, user=admin),
        "team": team,
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One world for the module, in a transaction rolled back at its end; each test runs in
    a savepoint inside it (pytest-django's `db`), so what a POST changes is undone."""
    with django_db_blocker.unblock(), transaction.atomic():
        built = build_world()
        for role in SIGNED_IN:
            client = Client()
            client.force_login(built.users[role])
            built.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
        yield built
        transaction.set_rollback(True)


# --- expectations --------------------------------------------------------------------------------


def exp(*, signed_in=None, **statuses) -> dict:
    """Expected answers by role. `signed_in` fills every signed-in role not named. Roles left
    out (only enrolled, owner and peer may be) are not requested for this row."""
    unknown = set(statuses) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    answers = dict(statuses)
    if signed_in is not None:
        for role in SIGNED_IN:
            answers.setdefault(role, signed_in)
    missing = REQUIRED - set(answers)
    assert not missing, f"expectation without {sorted(missing)}"
    return answers


def everyone(status) -> dict:
    return exp(anonymous=status, signed_in=status)


def members(status, *, anonymous=LOGIN, **overrides) -> dict:
    """A page for signed-in people: anonymous are sent to log in."""
    return exp(anonymous=anonymous, signed_in=status, **overrides)


@dataclass
class Case:
    url: object  # callable(world) -> str
    get: dict
    post: dict
    data: dict = field(default_factory=dict)  # what the POST sends


# Route → {case name: Case}. The route is the pattern as the resolver spells it, prefixes joined.
ROWS: dict[str, dict[str, Case]] = {}


def row(route: str, url, get: dict, post: dict, *, data=None, case: str = "") -> None:
    ROWS.setdefault(route, {})[case or route] = Case(url, get, post, data or {})


GET_ONLY = everyone(405)  # a public page answering GET only
MEMBERS_GET_ONLY = members(405)  # log in first, then GET only
POST_ONLY_MEMBERS = members(405)

# Public pages.
row("", lambda w: "/", everyone(200), GET_ONLY)
row("healthz", lambda w: "/healthz", everyone(200), GET_ONLY)
row("tracks/<slug:slug>/", lambda w: "/tracks/x/", everyone(200), GET_ONLY)
row(
    "certificates/<str:code>/",
    lambda w: f"/certificates/{w.certificate.code}/",
    everyone(200),
    GET_ONLY,
)
row(
    "certificates/<str:code>/",
    lambda w: "/certificates/no-such-code/",
    everyone(404),
    GET_ONLY,
    case="unknown code",
)

# The learner's track actions: refused (a redirect with the message) unless enrolled.
row("tracks/<slug:slug>/enrol", lambda w: "/tracks/x/enrol", POST_ONLY_MEMBERS, members(302))
row("tracks/<slug:slug>/leave", lambda w: "/tracks/x/leave", POST_ONLY_MEMBERS, members(302))
row(
    "tracks/<slug:slug>/certificate",
    lambda w: "/tracks/x/certificate",
    POST_ONLY_MEMBERS,
    members(302),
)
row(
    "tracks/<slug:slug>/items/<slug:item>/status",
    lambda w: "/tracks/x/items/r1/status",
    POST_ONLY_MEMBERS,
    members(302),
    data={"status": "done"},
)
row(
    "tracks/<slug:slug>/items/<slug:item>/note",
    lambda w: "/tracks/x/items/r1/note",
    members(302, enrolled=200, owner=200, peer=200),
    members(302),
    data={"body": "mine"},
)
row(
    "tracks/<slug:slug>/items/<slug:item>/revisit",
    lambda w: "/tracks/x/items/r1/revisit",
    POST_ONLY_MEMBERS,
    members(302),
    data={"revisit": "1"},
)
row(
    "tracks/<slug:slug>/plan/",
    lambda w: "/tracks/x/plan/",
    members(302, enrolled=200, owner=200, peer=200),
    members(302, enrolled=400, owner=400, peer=400),
)
row(
    "tracks/<slug:slug>/plan.ics",
    lambda w: "/tracks/x/plan.ics",
    members(302, enrolled=200, owner=200, peer=200),
    MEMBERS_GET_ONLY,
)
row(
    "tracks/<slug:slug>/capstones/<slug:item>/",
    lambda w: "/tracks/x/capstones/lead-cap/",
    members(200),
    members(302),
)

# The learner's own pages: each person sees only their own (no ids in these URLs).
row("me/", lambda w: "/me/", members(200), MEMBERS_GET_ONLY)
row("me/revisit/", lambda w: "/me/revisit/", members(200), MEMBERS_GET_ONLY)
row("me/notes/", lambda w: "/me/notes/", members(200), MEMBERS_GET_ONLY)
row("me/notes.md", lambda w: "/me/notes.md", members(200), MEMBERS_GET_ONLY)
row("me/progress/", lambda w: "/me/progress/", members(200), MEMBERS_GET_ONLY)
row("me/profile/", lambda w: "/me/profile/", members(200), members(400))
row("me/export.json", lambda w: "/me/export.json", members(200), MEMBERS_GET_ONLY)
row("me/export.csv", lambda w: "/me/export.csv", members(200), MEMBERS_GET_ONLY)

# Weekly nudges: the staff log, previews (a learner's own; anyone's for staff), unsubscribe
# links (the signed token is the key: no log-in, no CSRF; it can only switch nudges off or on).
# Cohort admins see the log narrowed to the members of the cohorts they run.
row(
    "nudges/log/",
    lambda w: "/nudges/log/",
    members(403, staff=200, cohort_admin=200, other_admin=200),
    MEMBERS_GET_ONLY,
)
row("nudges/preview/", lambda w: "/nudges/preview/", members(200), MEMBERS_GET_ONLY)
row(
    "nudges/preview/<int:learner_id>/",
    lambda w: f"/nudges/preview/{w.users['owner'].pk}/",
    members(404, owner=200, staff=200),
    MEMBERS_GET_ONLY,
    case="B's preview (learner A on B's nudge)",
)
row(
    "nudges/preview/<int:learner_id>/",
    lambda w: "/nudges/preview/999999/",
    members(404),
    MEMBERS_GET_ONLY,
    case="no such learner",
)
row(
    "nudges/preview/<int:learner_id>/",
    lambda w: f"/nudges/preview/{w.users['member'].pk}/",
    members(404, member=200, cohort_admin=200, staff=200),
    MEMBERS_GET_ONLY,
    case="a member of cohort P (P's admin may; Q's admin may not)",
)
row(
    "nudges/unsubscribe/<str:token>/",
    lambda w: f"/nudges/unsubscribe/{w.unsubscribe_token}/",
    everyone(200),
    everyone(200),
    case="B's link, from B's email",
)
row(
    "nudges/unsubscribe/<str:token>/",
    lambda w: "/nudges/unsubscribe/forged:token/",
    everyone(404),
    everyone(404),
    case="a forged token",
)

# A cohort's dashboard pages: cohort P's admin and staff run it; its member sees the member page
# (and is sent there from the dashboard, and refused the admin pages with 403: they know it
# exists); anyone else gets 404.
row(
    "cohorts/<slug:slug>/",
    lambda w: "/cohorts/p/",
    members(404, member=ANY_REDIRECT, cohort_admin=200, staff=200),
    MEMBERS_GET_ONLY,
)
row(
    "cohorts/<slug:slug>/",
    lambda w: "/cohorts/no-such-cohort/",
    members(404),
    MEMBERS_GET_ONLY,
    case="no such cohort",
)
row(
    "cohorts/<slug:slug>/home/",
    lambda w: "/cohorts/p/home/",
    members(404, member=200, cohort_admin=200, staff=200),
    MEMBERS_GET_ONLY,
)
row(
    "cohorts/<slug:slug>/members.csv",
    lambda w: "/cohorts/p/members.csv",
    members(404, member=403, cohort_admin=200, staff=200),
    MEMBERS_GET_ONLY,
)
row(
    "cohorts/<slug:slug>/messages/",
    lambda w: "/cohorts/p/messages/",
    members(404, member=403, cohort_admin=200, staff=200),
    # Nothing selected: the form answers 400 with its message and sends nothing.
    members(404, member=403, cohort_admin=400, staff=400),
    data={"subject": "Hello", "body": "Hi {name}", "action": "send"},
)

# The lead area.
LEADS_ONLY = members(403, lead=200, other_lead=200, staff=200)
row("lead/", lambda w: "/lead/", LEADS_ONLY, MEMBERS_GET_ONLY)
row(
    "lead/reviews/",
    lambda w: "/lead/reviews/",
    members(403, peer=200, lead=200, other_lead=200, staff=200),
    MEMBERS_GET_ONLY,
)
REVIEW = "lead/reviews/<int:pk>/"
row(
    REVIEW,
    lambda w: f"/lead/reviews/{w.lead_submission.pk}/",
    members(404, owner=302, lead=200, staff=200),
    members(404, owner=302, lead=400, staff=400),
    case="B's lead-reviewed submission on X",
)
row(
    REVIEW,
    lambda w: f"/lead/reviews/{w.peer_submission.pk}/",
    members(404, owner=302, peer=200, lead=200, staff=200),
    members(404, owner=302, peer=400, lead=400, staff=400),
    case="B's peer-reviewed submission on X",
)
row(
    REVIEW,
    lambda w: f"/lead/reviews/{w.draft.pk}/",
    members(404, owner=302),
    members(404, owner=302),
    case="B's draft (nobody else may know it exists)",
)
row(
    REVIEW,
    lambda w: f"/lead/reviews/{w.y_submission.pk}/",
    members(404, other_lead=200, staff=200),
    members(404, other_lead=400, staff=400),
    case="C's submission on Y (lead of X on Y's review page)",
)
row(REVIEW, lambda w: "/lead/reviews/999999/", members(404), members(404), case="no such id")
row(
    "tracks/<slug:slug>/leads/",
    lambda w: "/tracks/x/leads/",
    members(403, lead=200, staff=200),
    members(403, staff=400),
)
row(
    "tracks/<slug:slug>/leads/",
    lambda w: "/tracks/y/leads/",
    members(403, other_lead=200, staff=200),
    members(403, staff=400),
    case="Y's leads page (lead of X on Y)",
)

# Curation (/tracks/<slug>/edit/...) and the change history: leads of the track and staff;
# other signed-in people may know a public track's pages exist (403). POSTs with an empty or
# unchanged body change nothing (a form answers 400 with its messages).
EDITORS_GET = members(403, lead=200, staff=200)
EDITORS_ONLY_GET = members(405)  # the method is refused before anything else
row("tracks/<slug:slug>/edit/", lambda w: "/tracks/x/edit/", EDITORS_GET, EDITORS_ONLY_GET)
row(
    "tracks/<slug:slug>/edit/",
    lambda w: "/tracks/y/edit/",
    members(403, other_lead=200, staff=200),
    members(405),
    case="Y's editor (lead of X on Y)",
)
row(
    "tracks/<slug:slug>/edit/track/",
    lambda w: "/tracks/x/edit/track/",
    EDITORS_GET,
    members(403, lead=400, staff=400),
    data={"title": ""},
)
row(
    "tracks/<slug:slug>/edit/add/<itemkind:kind>/",
    lambda w: "/tracks/x/edit/add/resources/?module=m",
    EDITORS_GET,
    members(403, lead=400, staff=400),
    data={"slug": "", "title": ""},
)
row(
    "tracks/<slug:slug>/edit/<itemkind:kind>/<slug:item>/",
    lambda w: "/tracks/x/edit/resources/r1/",
    EDITORS_GET,
    members(403, lead=400, staff=400),
    data={"title": "", "kind": "video"},
)
row(
    "tracks/<slug:slug>/edit/<itemkind:kind>/<slug:item>/",
    lambda w: "/tracks/x/edit/resources/no-such-item/",
    members(403, lead=404, staff=404),
    members(403, lead=404, staff=404),
    case="an item that does not exist",
)
row(
    "tracks/<slug:slug>/edit/<itemkind:kind>/<slug:item>/archive",
    lambda w: "/tracks/x/edit/resources/r1/archive",
    EDITORS_ONLY_GET,
    members(403, lead=ANY_REDIRECT, staff=ANY_REDIRECT),
)
row(
    "tracks/<slug:slug>/edit/<itemkind:kind>/<slug:item>/restore",
    lambda w: "/tracks/x/edit/resources/r1/restore",
    EDITORS_ONLY_GET,
    members(403, lead=ANY_REDIRECT, staff=ANY_REDIRECT),  # not archived: a message, no change
)
row(
    "tracks/<slug:slug>/edit/<itemkind:kind>/<slug:item>/move",
    lambda w: "/tracks/x/edit/modules/m/move",
    EDITORS_ONLY_GET,
    members(403, lead=ANY_REDIRECT, staff=ANY_REDIRECT),
    data={"direction": "up"},
)
row(
    "tracks/<slug:slug>/edit/upload/",
    lambda w: "/tracks/x/edit/upload/",
    EDITORS_GET,
    members(403, lead=400, staff=400),
)
row(
    "tracks/<slug:slug>/edit/upload/<int:pk>/",
    lambda w: f"/tracks/x/edit/upload/{w.upload.pk}/",
    EDITORS_GET,
    members(403, lead=ANY_REDIRECT, staff=ANY_REDIRECT),
    data={"action": "cancel"},
)
row(
    "tracks/<slug:slug>/edit/upload/<int:pk>/",
    lambda w: f"/tracks/y/edit/upload/{w.upload.pk}/",
    members(403, other_lead=404, staff=404),
    members(403, other_lead=404, staff=404),
    case="X's upload under Y's address (lead of Y)",
)
row(
    "tracks/<slug:slug>/edit/download.yaml",
    lambda w: "/tracks/x/edit/download.yaml",
    EDITORS_GET,
    EDITORS_ONLY_GET,
)
row(
    "tracks/<slug:slug>/history/",
    lambda w: "/tracks/x/history/",
    EDITORS_GET,
    EDITORS_ONLY_GET,
)
row(
    "tracks/<slug:slug>/history/",
    lambda w: "/tracks/archived/history/",
    members(404, staff=200),
    members(405),
    case="an archived track (only its leads and staff may know it)",
)


# Cohorts (issue 13): cohort P's admin pages answer its admins and staff; its members get 403
# (they know it exists), everyone else 404 as for a cohort that does not exist; anonymous
# people are sent to log in. Button actions answer only POST; the addresses forms post to
# answer GET with their page (reloaded after a refused post); empty POSTs change nothing (400).
def cohort_admin_page(status) -> dict:
    return members(404, member=403, cohort_admin=status, staff=status)


P = "cohorts/p"
row("cohorts/", lambda w: "/cohorts/", members(200), MEMBERS_GET_ONLY)
row(
    "cohorts/new/",
    lambda w: "/cohorts/new/",
    members(403, cohort_admin=200, other_admin=200, staff=200),
    members(403, cohort_admin=400, other_admin=400, staff=400),
)
row(
    "cohorts/<slug:slug>/settings/",
    lambda w: f"/{P}/settings/",
    cohort_admin_page(200),
    cohort_admin_page(400),
)
row(
    "cohorts/<slug:slug>/settings/",
    lambda w: "/cohorts/no-such-cohort/settings/",
    members(404),
    members(404),
    case="a cohort that does not exist",
)
row(
    "cohorts/<slug:slug>/settings/phases/",
    lambda w: f"/{P}/settings/phases/",
    cohort_admin_page(200),
    cohort_admin_page(400),
)
row(
    "cohorts/<slug:slug>/settings/pace-plan/",
    lambda w: f"/{P}/settings/pace-plan/",
    cohort_admin_page(200),
    cohort_admin_page(400),
)
row(
    "cohorts/<slug:slug>/settings/archive/",
    lambda w: f"/{P}/settings/archive/",
    MEMBERS_GET_ONLY,
    cohort_admin_page(400),  # without the confirmation ticked: nothing archived
)
row(
    "cohorts/<slug:slug>/settings/restore/",
    lambda w: f"/{P}/settings/restore/",
    MEMBERS_GET_ONLY,
    cohort_admin_page(ANY_REDIRECT),  # not archived: back to its settings
)
row(
    "cohorts/<slug:slug>/invites/",
    lambda w: f"/{P}/invites/",
    cohort_admin_page(200),
    cohort_admin_page(400),
    data={"max_uses": "0"},
)
row(
    "cohorts/<slug:slug>/invites/<int:pk>/revoke/",
    lambda w: f"/{P}/invites/{w.cohorts['invite'].pk}/revoke/",
    members(405),
    cohort_admin_page(ANY_REDIRECT),
)
row(
    "cohorts/<slug:slug>/invites/<int:pk>/revoke/",
    lambda w: f"/cohorts/q/invites/{w.cohorts['invite'].pk}/revoke/",
    members(405),
    # Q's member knows Q exists: its admin pages answer them 403 before any invite is read.
    members(404, other_admin=404, other_member=403, staff=404),
    case="P's invite under Q's address (admin of Q)",
)
row(
    "cohorts/<slug:slug>/members/",
    lambda w: f"/{P}/members/",
    cohort_admin_page(200),
    members(405),
)
row(
    "cohorts/<slug:slug>/members/<int:pk>/remove/",
    lambda w: f"/{P}/members/{w.cohorts['member'].pk}/remove/",
    cohort_admin_page(200),
    cohort_admin_page(ANY_REDIRECT),
)
row(
    "cohorts/<slug:slug>/members/admins/add/",
    lambda w: f"/{P}/members/admins/add/",
    cohort_admin_page(200),
    cohort_admin_page(400),
)
row(
    "cohorts/<slug:slug>/members/admins/<int:pk>/remove/",
    lambda w: f"/{P}/members/admins/{w.cohorts['admin'].pk}/remove/",
    members(405),
    cohort_admin_page(ANY_REDIRECT),  # P's only admin stays: a message says why
)
row(
    "cohorts/<slug:slug>/teams/",
    lambda w: f"/{P}/teams/",
    cohort_admin_page(200),
    cohort_admin_page(400),
)
TEAM = "cohorts/<slug:slug>/teams/<int:pk>/"
row(
    TEAM,
    lambda w: f"/{P}/teams/{w.cohorts['team'].pk}/",
    cohort_admin_page(200),
    cohort_admin_page(400),
)
row(
    TEAM + "delete/",
    lambda w: f"/{P}/teams/{w.cohorts['team'].pk}/delete/",
    members(405),
    cohort_admin_page(ANY_REDIRECT),
)
row(
    TEAM + "members/add/",
    lambda w: f"/{P}/teams/{w.cohorts['team'].pk}/members/add/",
    cohort_admin_page(200),
    cohort_admin_page(400),
)
row(
    TEAM + "members/<int:user_id>/remove/",
    lambda w: f"/{P}/teams/{w.cohorts['team'].pk}/members/{w.users['member'].pk}/remove/",
    members(405),
    cohort_admin_page(ANY_REDIRECT),
)
# Joining: the invite page is public (the code is the key); joining needs an account (an
# anonymous press of the open invite's button goes to log in, remembered). A code that no
# longer works has a page saying so (410) except for those already in the cohort.
row("join/", lambda w: "/join/", everyone(200), everyone(400))
row(
    "join/<str:code>/",
    lambda w: f"/join/{w.cohorts['revoked'].code}/",
    exp(anonymous=410, signed_in=410, member=200, cohort_admin=200),
    exp(anonymous=ANY_REDIRECT, signed_in=ANY_REDIRECT),  # back to the page saying why
    case="P's revoked invite (its people are told they are in)",
)
row(
    "join/<str:code>/",
    lambda w: "/join/NOSUCHCODE23/",
    everyone(404),
    exp(anonymous=ANY_REDIRECT, signed_in=ANY_REDIRECT),  # back to the page saying why
    case="an unknown code",
)
# Last: its POST makes every signed-in role a member of P (the cases of a route share one
# savepoint), which the cases above must not see.
row(
    "join/<str:code>/",
    lambda w: f"/join/{w.cohorts['invite'].code}/",
    everyone(200),
    exp(anonymous=LOGIN, signed_in=ANY_REDIRECT),
    case="P's open invite",
)


# The admin: staff only. Everyone else is sent to log in (non-staff to the admin's log-in, which
# sends the anonymous on to ours). Staff's answers depend on what each ModelAdmin allows: a new
# ModelAdmin needs its line in ADMIN_MODELS (the test says so).
NON_STAFF_ADMIN = {"anonymous": LOGIN, "learner": LOGIN, "lead": LOGIN, "other_lead": LOGIN}


def admin_only(get, post) -> tuple[dict, dict]:
    return exp(**NON_STAFF_ADMIN, staff=get), exp(**NON_STAFF_ADMIN, staff=post)


@dataclass(frozen=True)
class AdminKind:
    """Staff's (GET, POST) answers on a ModelAdmin's pages (empty POSTs change nothing)."""

    changelist: tuple = (200, 200)
    add: tuple = (200, 200)  # an empty add form re-shown with its errors
    change: tuple = (200, 200)
    delete: tuple = (200, 200)  # an empty POST only shows the confirmation
    history: tuple = (200, 200)
    object: tuple = (ANY_REDIRECT, ANY_REDIRECT)  # <id>/ redirects to <id>/change/


EDITABLE = AdminKind()
READ_ONLY = AdminKind(add=(403, 403), change=(200, 403), delete=(403, 403))
# Submissions: staff review through the change form (an empty POST makes no decision).
REVIEWED = AdminKind(add=(403, 403), change=(200, ANY_REDIRECT), delete=(403, 403))
# Curriculum rows: read (edits are the track editor's, which the loader checks), archived and
# restored (actions), never deleted (that would take learners' progress and points with them).
CURRICULUM = READ_ONLY
# The one Site log-in and emails use: renamed, never added to or deleted.
THE_SITE = AdminKind(add=(403, 403), delete=(403, 403))
# Lead roles: granted with "add", revoked with an action, never edited or deleted.
GRANTED = AdminKind(change=(200, 403), delete=(403, 403))

ADMIN_MODELS = {
    "account/emailaddress": EDITABLE,
    "auth/group": EDITABLE,
    "auth/user": EDITABLE,
    "sites/site": THE_SITE,
    "curriculum/track": CURRICULUM,
    "curriculum/module": CURRICULUM,
    "curriculum/resource": CURRICULUM,
    "curriculum/capstone": CURRICULUM,
    "tracker/profile": READ_ONLY,
    "tracker/enrolment": READ_ONLY,
    "tracker/progress": READ_ONLY,
    "tracker/pointsentry": READ_ONLY,
    "tracker/resourcenote": READ_ONLY,
    "tracker/certificate": READ_ONLY,
    "tracker/capstonesubmission": REVIEWED,
    "tracker/capstonereview": READ_ONLY,
    "tracker/tracklead": GRANTED,
    "nudges/nudgedelivery": READ_ONLY,
    "nudges/bouncedaddress": READ_ONLY,  # flags are cleared with an action
    # Cohorts are run on their own pages; the admin reads (revoke and remove are actions).
    "cohorts/cohort": READ_ONLY,
    "cohorts/cohortmembership": READ_ONLY,
    "cohorts/cohortinvite": READ_ONLY,
    "cohorts/team": READ_ONLY,
}


def _admin_model_rows() -> None:
    for key, kind in ADMIN_MODELS.items():
        base = f"admin/{key}/"
        pages = {
            "": kind.changelist,
            "add/": kind.add,
            "<path:object_id>/change/": kind.change,
            "<path:object_id>/delete/": kind.delete,
            "<path:object_id>/history/": kind.history,
            "<path:object_id>/": kind.object,
        }
        for suffix, (get, post) in pages.items():
            path = suffix.replace("<path:object_id>", "{pk}")
            row(
                base + suffix,
                lambda w, key=key, path=path: f"/admin/{key}/{path.format(pk=w.admin_pk(key))}",
                *admin_only(get, post),
            )


_admin_model_rows()
APP_LIST = "admin/^(?P<app_label>...)/$"  # the admin's per-app index, whatever the apps
row("admin/", lambda w: "/admin/", *admin_only(200, 200))
row(
    APP_LIST,
    lambda w: "/admin/tracker/",
    *admin_only(200, 200),
)
row("admin/(?P<url>.*)$", lambda w: "/admin/no-such-page/", *admin_only(404, 404))
row(
    "admin/r/<path:content_type_id>/<path:object_id>/",
    lambda w: f"/admin/r/{w.track_content_type}/{w.x.pk}/",
    *admin_only(ANY_REDIRECT, ANY_REDIRECT),
)
row(
    "admin/auth/user/<id>/password/",
    lambda w: f"/admin/auth/user/{w.users['learner'].pk}/password/",
    *admin_only(200, 200),
)
row("admin/autocomplete/", lambda w: "/admin/autocomplete/", *admin_only(403, 405))
row("admin/jsi18n/", lambda w: "/admin/jsi18n/", *admin_only(200, 405))
row(
    "admin/password_change/",
    lambda w: "/admin/password_change/",
    *admin_only(ANY_REDIRECT, ANY_REDIRECT),
)
row(
    "admin/password_change/done/",
    lambda w: "/admin/password_change/done/",
    *admin_only(200, 405),
)
# The admin's own log-in and password forms never run (they would try passwords without a
# limit): staff are sent to the rate-limited allauth pages, everyone else is refused.
row(
    "admin/login/",
    lambda w: "/admin/login/",
    exp(anonymous=LOGIN, signed_in=403, staff=ANY_REDIRECT),
    exp(anonymous=LOGIN, signed_in=403, staff=ANY_REDIRECT),
)
row(
    "admin/logout/",
    lambda w: "/admin/logout/",
    exp(anonymous=ANY_REDIRECT, signed_in=ANY_REDIRECT, staff=405),
    exp(anonymous=ANY_REDIRECT, signed_in=ANY_REDIRECT, staff=200),
)

# allauth: sign-up, log-in, email and password management.
SIGNED_OUT_FORM = exp(anonymous=200, signed_in=ANY_REDIRECT)  # the signed-in are sent on
row("accounts/login/", lambda w: "/accounts/login/", SIGNED_OUT_FORM, SIGNED_OUT_FORM)
row("accounts/signup/", lambda w: "/accounts/signup/", SIGNED_OUT_FORM, SIGNED_OUT_FORM)
row(
    "accounts/logout/",
    lambda w: "/accounts/logout/",
    exp(anonymous=ANY_REDIRECT, signed_in=200),
    everyone(ANY_REDIRECT),
)
row("accounts/inactive/", lambda w: "/accounts/inactive/", everyone(200), GET_ONLY)
row("accounts/email/", lambda w: "/accounts/email/", members(200), members(ANY_REDIRECT))
row(
    "accounts/confirm-email/",
    lambda w: "/accounts/confirm-email/",
    everyone(200),
    GET_ONLY,
)
row(
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$",
    lambda w: "/accounts/confirm-email/not-a-real-key/",
    everyone(200),
    everyone(404),
)
row(
    "accounts/password/change/",
    lambda w: "/accounts/password/change/",
    members(200),
    members(200),
)
row(
    "accounts/password/set/",
    lambda w: "/accounts/password/set/",
    members(ANY_REDIRECT),  # every account here has a password: sent to change it instead
    members(ANY_REDIRECT),
)
row(
    "accounts/password/reset/",
    lambda w: "/accounts/password/reset/",
    everyone(200),
    everyone(200),
)
row(
    "accounts/password/reset/done/",
    lambda w: "/accounts/password/reset/done/",
    everyone(200),
    GET_ONLY,
)
row(
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
    lambda w: "/accounts/password/reset/key/1-not-a-real-key/",
    everyone(200),
    everyone(200),
)
row(
    "accounts/password/reset/key/done/",
    lambda w: "/accounts/password/reset/key/done/",
    everyone(200),
    GET_ONLY,
)
row(
    "accounts/reauthenticate/",
    lambda w: "/accounts/reauthenticate/",
    members(200),
    members(200),
)
# Codes by email are not enabled: these answer with a redirect away.
row(
    "accounts/reauthenticate/code/",
    lambda w: "/accounts/reauthenticate/code/",
    members(200),
    members(200),
)
row(
    "accounts/reauthenticate/code/confirm/",
    lambda w: "/accounts/reauthenticate/code/confirm/",
    members(ANY_REDIRECT),
    members(ANY_REDIRECT),
)
row(
    "accounts/login/code/confirm/",
    lambda w: "/accounts/login/code/confirm/",
    members(ANY_REDIRECT),
    members(ANY_REDIRECT),
)


# --- walking the resolver ---------------------------------------------------------------------


def url_routes() -> list[str]:
    """Every URL pattern the project serves, as its joined route text (the admin's app index,
    whose pattern lists every app with a ModelAdmin, as APP_LIST)."""
    routes: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                routes.append(APP_LIST if route.startswith("admin/^(?P<app_label>") else route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(routes))


def admin_routes() -> set[str]:
    return {route for route in url_routes() if route.startswith("admin/")}


def admin_objects() -> dict[str, int]:
    """A primary key of each model registered in the admin ("app_label/model_name")."""
    found = {}
    for model in admin.site._registry:
        key = f"{model._meta.app_label}/{model._meta.model_name}"
        pk = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        found[key] = pk
    return found


def client_for(role: str, world: World) -> Client:
    """A client signed in as `role` (its session was made once, with the world)."""
    client = Client()
    if role != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def observe(client: Client, method: str, url: str, data: dict):
    response = client.get(url) if method == "GET" else client.post(url, data)
    status = response.status_code
    if status == 302:
        location = response["Location"]
        return (LOGIN if "login" in location.split("?")[0] else ANY_REDIRECT), response
    return status, response


def _check(world: World, route: str, name: str, case: Case) -> list[str]:
    url = case.url(world)
    problems = []
    for role in ROLES:
        for method, expected in (("GET", case.get), ("POST", case.post)):
            if role not in expected:
                continue  # enrolled, owner, peer: only where the row names them
            got, response = observe(client_for(role, world), method, url, case.data)
            if str(got) != str(expected[role]):
                problems.append(f"{method} {url} as {role}: expected {expected[role]}, got {got}")
            raw = b"".join(response.streaming_content) if response.streaming else response.content
            body = raw.decode(errors="replace")
            for marker, allowed in world.markers.items():
                if role not in allowed and marker in body:
                    problems.append(f"{method} {url} as {role}: shows private data {marker!r}")
            if _is_our_html_page(route, response):
                problems += [f"{method} {url} as {role}: {p}" for p in aria_problems(body)]
    return problems


def _is_our_html_page(route: str, response) -> bool:
    """An HTML page of Waymark's own templates (Django's admin is checked by Django)."""
    html = response.get("Content-Type", "").startswith("text/html")
    return html and not response.streaming and not route.startswith("admin/")


def _missing_row_message(route: str) -> str:
    return (
        f"The URL pattern {route!r} has no row in tests/test_url_matrix.py: add what each role "
        "gets for GET and POST there (see docs/architecture.md, 'The URL × role matrix')."
    )


def test_every_url_pattern_has_a_row_and_every_row_a_pattern():
    routes = set(url_routes())
    missing = sorted(routes - ROWS.keys())
    assert not missing, "\n".join(_missing_row_message(route) for route in missing)
    stale = sorted(ROWS.keys() - routes)
    assert not stale, f"rows for URL patterns that no longer exist: {stale}"
    unknown_admins = {
        f"{model._meta.app_label}/{model._meta.model_name}" for model in admin.site._registry
    } - ADMIN_MODELS.keys()
    assert not unknown_admins, (
        f"ModelAdmins without a line in ADMIN_MODELS (tests/test_url_matrix.py): "
        f"{sorted(unknown_admins)}"
    )


@pytest.mark.parametrize("route", url_routes())
def test_each_role_gets_the_expected_answer(world, route):
    cases = ROWS.get(route)
    if cases is None:
        pytest.fail(_missing_row_message(route))
    problems = []
    for name, case in cases.items():
        problems += _check(world, route, name, case)
    assert not problems, "\n".join(problems)
