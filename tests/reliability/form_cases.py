"""Every form of Waymark, described once, for the bad-input tests in test_form_input.py.

Adding a form? Add a `FormCase` to `FORM_CASES` below (docs/reliability.md, "Adding a form"):
its class, the URL it posts to, a valid body, and each field's kind. The tests then post every
kind of bad value to every field (empty, over-long, wrong type, full-width digits, far-future
dates, control characters, NUL, 1 MB) and expect a message tied to that field and no change in
the database. `test_every_form_has_a_case` fails while a form of ours has no case.

`arrange(world)` may create what the form needs beyond the shared `world` (see `make_world`);
`url` and `valid` receive the world. `user` names the world's account that posts ("learner",
"staff", or None for anonymous). `method="get"` is for filter and search forms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

# --- field kinds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    max_length: int
    required: bool = False
    multiline: bool = False


@dataclass(frozen=True)
class Number:
    required: bool = False


@dataclass(frozen=True)
class Date:
    required: bool = False


@dataclass(frozen=True)
class Choice:
    """A select, a radio group or a checkbox group (multiple=True), or text checked against a
    fixed list (a time zone name)."""

    required: bool = False
    multiple: bool = False
    max_length: int | None = None


@dataclass(frozen=True)
class Link:
    max_length: int
    required: bool = False


FieldKind = Text | Number | Date | Choice | Link


@dataclass
class FormCase:
    name: str
    form: str  # dotted path of the form class this case covers
    url: Callable[[SimpleNamespace], str]
    valid: Callable[[SimpleNamespace], dict]
    fields: dict[str, FieldKind]
    user: str | None = "learner"
    arrange: Callable[[SimpleNamespace], None] | None = None
    covers_also: list[str] = field(default_factory=list)  # further form classes it exercises
    # "get" for a filter or search form: sent as a query string; it writes nothing, so its
    # valid body answers 200 without errors (a NUL there is refused at the edge with a 400).
    method: str = "post"
    # The page that shows the form, when it posts elsewhere (an action URL answering only POST).
    page: Callable[[SimpleNamespace], str] | None = None


# --- the world every case starts from ----------------------------------------------------------


def make_world() -> SimpleNamespace:
    """A learner enrolled in a track with a resource and a staff-reviewed capstone, a staff
    member, and a submitted capstone from another learner waiting for review."""
    from tests.factories import CapstoneFactory, ResourceFactory, UserFactory
    from tracker import services

    resource = ResourceFactory()
    capstone = CapstoneFactory(module=resource.module, constraints=["Runs on a laptop"])
    learner = UserFactory()
    staff = UserFactory(is_staff=True, is_superuser=True)
    services.enrolment_join(learner=learner, track=resource.track)
    author = UserFactory()
    services.enrolment_join(learner=author, track=resource.track)
    submitted = services.capstone_submit(
        learner=author,
        capstone=capstone,
        title="My work",
        link="https://example.com/work",
        writeup="",
        constraints_met=["Runs on a laptop"],
    )
    return SimpleNamespace(
        track=resource.track,
        resource=resource,
        capstone=capstone,
        learner=learner,
        staff=staff,
        submitted=submitted,
    )


# --- the cases ------------------------------------------------------------------------------


def _capstone_url(w) -> str:
    return f"/tracks/{w.track.slug}/capstones/{w.capstone.slug}/"


def _capstone_body(action: str) -> Callable[[SimpleNamespace], dict]:
    def body(w) -> dict:
        return {
            "title": "A small classifier",
            "link": "https://example.com/repo",
            "writeup": "What I built.",
            "constraints_met": ["Runs on a laptop"],
            "action": action,
        }

    return body


CAPSTONE_FIELDS = {
    "title": Text(max_length=200),
    "link": Link(max_length=1000),
    "writeup": Text(max_length=50_000, multiline=True),
    "constraints_met": Choice(multiple=True),
}


def _cohort_world(w) -> None:
    """A cohort over the world's track run by staff, with the learner as a member."""
    from tests.factories import cohort_member, cohort_with_tracks

    w.cohort = cohort_with_tracks(w.track, admin=w.staff, slug="form-cohort")
    cohort_member(w.cohort, w.learner, display_name="Ada")


FORM_CASES: list[FormCase] = [
    FormCase(
        name="profile",
        form="tracker.views.account.ProfileForm",
        url=lambda w: "/me/profile/",
        valid=lambda w: {
            "display_name": "Ada",
            "time_zone": "Europe/Berlin",
            "nudge_enabled": "on",
            "nudge_weekday": "1",
            "nudge_hour": "9",
            "show_on_leaderboards": "on",
        },
        fields={
            "display_name": Text(max_length=100),
            "time_zone": Choice(required=True, max_length=64),
            "nudge_weekday": Choice(required=True),
            "nudge_hour": Choice(required=True),
        },
    ),
    FormCase(
        name="pace plan",
        form="tracker.views.pace.PacePlanForm",
        url=lambda w: f"/tracks/{w.track.slug}/plan/",
        valid=lambda w: {"hours_per_week": "4", "target_date": ""},
        fields={"hours_per_week": Number(required=True), "target_date": Date()},
    ),
    FormCase(
        name="note",
        form="tracker.views.notes.NoteForm",
        url=lambda w: f"/tracks/{w.track.slug}/items/{w.resource.slug}/note",
        valid=lambda w: {"body": "Worth a second look."},
        fields={"body": Text(max_length=20_000, multiline=True)},
    ),
    FormCase(
        name="capstone draft",
        form="tracker.forms_capstones.CapstoneSubmissionForm",
        url=_capstone_url,
        valid=_capstone_body("save"),
        fields=CAPSTONE_FIELDS,
    ),
    FormCase(
        name="capstone submission",
        form="tracker.forms_capstones.CapstoneSubmissionForm",
        url=_capstone_url,
        valid=_capstone_body("submit"),
        fields={**CAPSTONE_FIELDS, "title": Text(max_length=200, required=True)},
    ),
    FormCase(
        name="capstone review (admin)",
        form="tracker.forms_capstones.CapstoneReviewForm",
        user="staff",
        url=lambda w: f"/admin/tracker/capstonesubmission/{w.submitted.pk}/change/",
        valid=lambda w: {"decision": "changes_requested", "review_comments": "Add a README."},
        fields={
            "decision": Choice(),
            "review_comments": Text(max_length=20_000, multiline=True, required=True),
        },
    ),
    FormCase(
        name="sign-up",
        form="tracker.forms_account.SignupForm",
        user=None,
        url=lambda w: "/accounts/signup/",
        valid=lambda w: {
            "email": "new-learner@example.com",
            "display_name": "New Learner",
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
        },
        fields={
            "display_name": Text(max_length=100, required=True),
            "email": Text(max_length=254, required=True),
        },
    ),
    FormCase(
        name="nudge log filter",
        form="nudges.views.LogFilterForm",
        user="staff",
        method="get",
        url=lambda w: "/nudges/log/",
        valid=lambda w: {"status": "", "week": "2026-W05", "q": "ada"},
        fields={
            "status": Choice(),
            "week": Choice(max_length=8),
            "q": Text(max_length=100),
        },
    ),
    FormCase(
        name="cohort member table filter",
        form="cohorts.forms_dashboard.MemberFilterForm",
        user="staff",
        method="get",
        arrange=_cohort_world,
        url=lambda w: "/cohorts/form-cohort/",
        valid=lambda w: {"q": "ada", "track": str(w.track.pk), "pace": "", "sort": "-points"},
        fields={
            "q": Text(max_length=100),
            "track": Choice(),
            "pace": Choice(),
            "sort": Choice(),
        },
    ),
    FormCase(
        name="cohort message",
        form="cohorts.forms_messages.MessageForm",
        user="staff",
        arrange=_cohort_world,
        url=lambda w: "/cohorts/form-cohort/messages/",
        valid=lambda w: {
            "learner": [str(w.learner.pk)],
            "subject": "Hello {name}",
            "body": "Your next target is {next_target}.",
            "action": "send",
        },
        fields={
            "learner": Choice(required=True, multiple=True),
            "subject": Text(max_length=150, required=True),
            "body": Text(max_length=5_000, required=True, multiline=True),
        },
    ),
    FormCase(
        name="capstone review (review page)",
        form="tracker.views.lead.ReviewForm",
        user="staff",
        url=lambda w: f"/lead/reviews/{w.submitted.pk}/",
        valid=lambda w: {"decision": "changes_requested", "comments": "Add a README."},
        # `decision` is one of two submit buttons, not something typed; a forged value is
        # refused with a message above them (and NUL in it by the resolver walk's tests).
        fields={"comments": Text(max_length=20_000, multiline=True, required=True)},
    ),
    FormCase(
        name="grant a track lead",
        form="tracker.views.lead.GrantLeadForm",
        user="staff",
        url=lambda w: f"/tracks/{w.track.slug}/leads/",
        valid=lambda w: {"email": w.learner.email},
        fields={"email": Text(max_length=254, required=True)},
    ),
    FormCase(
        name="grant a track lead (admin)",
        form="tracker.admin.TrackLeadForm",
        user="staff",
        url=lambda w: "/admin/tracker/tracklead/add/",
        valid=lambda w: {"user": str(w.learner.pk), "track": str(w.track.pk)},
        fields={"user": Choice(required=True), "track": Choice(required=True)},
    ),
    # Curation (curriculum/curation/forms.py): every rule about the values is the loader's,
    # its message put next to the field; control characters are refused by StrictInputForm.
    FormCase(
        name="curate: the track's details",
        form="curriculum.curation.forms.TrackForm",
        covers_also=["curriculum.curation.forms.CurationForm"],
        user="staff",
        url=lambda w: f"/tracks/{w.track.slug}/edit/track/",
        valid=lambda w: {
            "title": "A renamed track",
            "level": "advanced",
            "tags": "vision",
            "source_title": "A write-up",
        },
        fields={
            "title": Text(max_length=200, required=True),
            "source_title": Text(max_length=300),
            "source_author": Text(max_length=200),
            "source_published": Text(max_length=10),
            "source_url": Link(max_length=1000),
            "summary": Text(max_length=20_000, multiline=True),
            "prerequisites": Text(max_length=20_000, multiline=True),
            "level": Choice(),
            "tags": Text(max_length=50),
        },
    ),
    FormCase(
        name="curate: a module",
        form="curriculum.curation.forms.ModuleForm",
        user="staff",
        url=lambda w: f"/tracks/{w.track.slug}/edit/modules/{w.resource.module.slug}/",
        valid=lambda w: {"title": "A renamed module", "weeks": "2"},
        fields={
            "title": Text(max_length=200, required=True),
            "summary": Text(max_length=20_000, multiline=True),
            "weeks": Number(),
            "days": Number(),
        },
    ),
    FormCase(
        name="curate: a resource",
        form="curriculum.curation.forms.ResourceForm",
        user="staff",
        url=lambda w: f"/tracks/{w.track.slug}/edit/resources/{w.resource.slug}/",
        valid=lambda w: {
            "module": w.resource.module.slug,
            "title": "A renamed resource",
            "kind": "video",
            "url": "https://example.com/new",
            "minutes": "15",
        },
        fields={
            "title": Text(max_length=300, required=True),
            "kind": Choice(required=True),
            "url": Link(max_length=1000),
            "minutes": Number(),
            "points": Number(),
            "choice": Text(max_length=100),
            "notes": Text(max_length=20_000, multiline=True),
        },
    ),
    FormCase(
        name="curate: add a capstone",
        form="curriculum.curation.forms.CapstoneForm",
        user="staff",
        url=lambda w: f"/tracks/{w.track.slug}/edit/add/capstones/",
        valid=lambda w: {
            "slug": "new-capstone",
            "module": w.resource.module.slug,
            "title": "A new capstone",
            "brief": "Build it.",
            "review": "lead",
        },
        fields={
            "slug": Text(max_length=100),  # left empty, it is made from the title
            "title": Text(max_length=300, required=True),
            "brief": Text(max_length=20_000, multiline=True, required=True),
            "constraints": Text(max_length=500, multiline=True),
            "minutes": Number(),
            "points": Number(),
            "review": Choice(),
        },
    ),
    FormCase(
        name="curate: upload a YAML file",
        form="curriculum.curation.forms.UploadForm",
        user="staff",
        url=lambda w: f"/tracks/{w.track.slug}/edit/upload/",
        valid=lambda w: {"file": _track_file(w)},
        # One file field: its bad inputs (binary, huge, not YAML, another track's) are
        # tests/curriculum/test_curation_pages.py's.
        fields={},
    ),
]


# Cohorts (cohorts/forms.py): staff run a cohort made in `_cohort`; every rule about the values
# is the services', its message put next to the field.
COHORT_MODULE_PK = 990_001  # fixed, so the pace plan's field name is known here
COHORT_TEAM_PK = 990_002


def _cohort(w) -> None:
    from datetime import date

    from cohorts import services as cohorts
    from tests.factories import ModuleFactory, TeamFactory

    ModuleFactory(pk=COHORT_MODULE_PK, track=w.track, weeks=2)
    w.cohort = cohorts.cohort_create(
        by=w.staff,
        name="Spring",
        slug="spring",
        starts_on=date(2030, 3, 4),
        ends_on=date(2030, 5, 26),
        track_ids=[w.track.pk],
    )
    w.member = w.learner
    invite = cohorts.invite_create(by=w.staff, cohort=w.cohort)
    cohorts.cohort_join(user=w.member, code=invite.code)
    w.team = TeamFactory(pk=COHORT_TEAM_PK, cohort=w.cohort, name="Owls")


def _cohort_url(page: str) -> Callable[[SimpleNamespace], str]:
    return lambda w: f"/cohorts/spring/{page}"


COHORT_DETAILS_FIELDS = {
    "name": Text(max_length=120, required=True),
    "slug": Text(max_length=100, required=True),
    "description": Text(max_length=5_000, multiline=True),
    "starts_on": Date(required=True),
    "ends_on": Date(required=True),
    "tracks": Choice(required=True, multiple=True),
}


def _cohort_details(w) -> dict:
    return {
        "name": "Spring 2030",
        "slug": "spring-2030",
        "description": "Learn, then *build*.",
        "starts_on": "2030-03-04",
        "ends_on": "2030-05-26",
        "tracks": [str(w.track.pk)],
    }


FORM_CASES += [
    FormCase(
        name="cohort: new",
        form="cohorts.forms.CohortDetailsForm",
        covers_also=["cohorts.forms.CohortBaseForm"],
        user="staff",
        url=lambda w: "/cohorts/new/",
        valid=_cohort_details,
        fields=COHORT_DETAILS_FIELDS,
    ),
    FormCase(
        name="cohort: details",
        form="cohorts.forms.CohortDetailsForm",
        user="staff",
        arrange=_cohort,
        url=_cohort_url("settings/"),
        valid=_cohort_details,
        fields=COHORT_DETAILS_FIELDS,
    ),
    FormCase(
        name="cohort: phases",
        form="cohorts.forms.PhaseForm",
        user="staff",
        arrange=_cohort,
        url=_cohort_url("settings/phases/"),
        valid=lambda w: {
            "phases-TOTAL_FORMS": "2",
            "phases-INITIAL_FORMS": "0",
            "phases-MIN_NUM_FORMS": "0",
            "phases-MAX_NUM_FORMS": "20",
            "phases-0-name": "Learning phase",
            "phases-0-starts_on": "2030-03-04",
            "phases-0-ends_on": "2030-04-28",
            "phases-1-name": "",
            "phases-1-starts_on": "",
            "phases-1-ends_on": "",
        },
        fields={
            "phases-0-name": Text(max_length=120, required=True),
            "phases-0-starts_on": Date(required=True),
            "phases-0-ends_on": Date(required=True),
        },
    ),
    FormCase(
        name="cohort: pace plan",
        form="cohorts.forms.PacePlanForm",
        user="staff",
        arrange=_cohort,
        url=_cohort_url("settings/pace-plan/"),
        valid=lambda w: {f"target_{m.pk}": "3" for m in w.track.modules.all()} | {"action": "save"},
        fields={f"target_{COHORT_MODULE_PK}": Number(required=True)},
    ),
    FormCase(
        name="cohort: new invite",
        form="cohorts.forms.InviteForm",
        user="staff",
        arrange=_cohort,
        url=_cohort_url("invites/"),
        valid=lambda w: {"expires_in_days": "14", "max_uses": "40"},
        fields={"expires_in_days": Number(), "max_uses": Number()},
    ),
    FormCase(
        name="cohort: archive it",
        form="cohorts.forms.CohortArchiveForm",
        user="staff",
        arrange=_cohort,
        url=_cohort_url("settings/archive/"),
        page=_cohort_url("settings/"),
        valid=lambda w: {"confirm": "on"},
        # One checkbox: unticked is refused next to it (tests/cohorts/test_archive.py).
        fields={},
    ),
    FormCase(
        name="cohort: add a co-admin",
        form="cohorts.forms.AdminAddForm",
        user="staff",
        arrange=_cohort,
        url=_cohort_url("members/admins/add/"),
        valid=lambda w: {"email": w.submitted.learner.email},
        fields={"email": Text(max_length=254, required=True)},
    ),
    FormCase(
        name="cohort: new team",
        form="cohorts.forms.TeamForm",
        user="staff",
        arrange=_cohort,
        url=_cohort_url("teams/"),
        valid=lambda w: {
            "new-name": "Hawks",
            "new-project_title": "Sky map",
            "new-project_link": "https://example.com/hawks",
        },
        fields={
            "new-name": Text(max_length=120, required=True),
            "new-project_title": Text(max_length=200),
            "new-project_link": Link(max_length=1000),
        },
    ),
    FormCase(
        name="cohort: add a team member",
        form="cohorts.forms.TeamMemberForm",
        user="staff",
        arrange=_cohort,
        url=_cohort_url(f"teams/{COHORT_TEAM_PK}/members/add/"),
        valid=lambda w: {f"add-{COHORT_TEAM_PK}-user": str(w.member.pk)},
        fields={f"add-{COHORT_TEAM_PK}-user": Choice(required=True)},
    ),
]


def _track_file(w):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from curriculum.exporter import track_export_data, track_yaml

    text = track_yaml(track_export_data(track=w.track))
    return SimpleUploadedFile(f"{w.track.slug}.yaml", text.encode(), "application/yaml")
