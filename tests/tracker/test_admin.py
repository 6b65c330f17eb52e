"""The admin for learner state: read-only lists without N+1 queries, and capstone review."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ResourceFactory, UserFactory
from tests.tracker.test_capstones import (
    GOOD,
    edit_constraints,
    enrolled_learner,
    make_capstone,
    staff,
    submitted,
)
from tracker import services
from tracker.models import CapstoneSubmission, PointsEntry, Profile, SubmissionStatus

pytestmark = pytest.mark.django_db

MODELS = [
    "profile",
    "enrolment",
    "progress",
    "pointsentry",
    "resourcenote",
    "capstonesubmission",
    "certificate",
]


def grow(n: int) -> None:
    """n learners, each enrolled with progress, points, a note, a submission (some passed) and,
    on a one-capstone track, a certificate."""
    reviewer = staff()
    for i in range(n):
        learner, capstone, submission = submitted()
        resource = ResourceFactory(module=capstone.module)
        services.progress_set_status(learner=learner, resource=resource, status="done")
        services.note_save(learner=learner, resource=resource, body="A *note*.")
        if i % 2 == 0:
            services.capstone_review(
                via="admin",
                reviewer=reviewer,
                submission=submission,
                decision="passed",
                comments="ok",
            )


def changelist(model: str) -> str:
    return f"/admin/tracker/{model}/"


@pytest.mark.parametrize("model", MODELS)
def test_every_changelist_opens_with_a_constant_number_of_queries(client, model):
    admin_user = staff()
    client.force_login(admin_user)
    client.get(changelist(model))  # warm per-process caches (content types, sites)
    counts = []
    for n in (1, 10):
        grow(n - len(counts))  # 1 row of each, then 10 (tenfold)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(changelist(model))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], f"{model}: {counts}"


@pytest.mark.parametrize("model", MODELS)
def test_every_change_page_opens(client, model):
    grow(2)
    client.force_login(staff())
    from django.apps import apps

    row = apps.get_model("tracker", model).objects.first()
    response = client.get(f"/admin/tracker/{model}/{row.pk}/change/")
    assert response.status_code == 200


def test_staff_pass_a_submission_through_the_admin_and_points_are_awarded_once(client):
    learner, capstone, submission = submitted()
    client.force_login(staff())
    url = f"/admin/tracker/capstonesubmission/{submission.pk}/change/"
    page = client.get(url).content.decode()
    assert "Digit classifier" in page and "https://github.com/me/digits" in page
    assert 'name="decision"' in page and 'name="review_comments"' in page
    assert 'name="title"' not in page  # learner fields are read-only

    response = client.post(
        url, {"decision": "passed", "review_comments": "Well **done**."}, follow=True
    )
    assert response.redirect_chain[0][1] == 302
    assert "(Passed)</a>” was changed successfully" in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PASSED
    assert submission.reviewer_comments_html == "<p>Well <strong>done</strong>.</p>"

    again = client.post(url, {"decision": "passed", "review_comments": ""})
    assert again.status_code == 200
    assert (
        "Only a submitted submission can be reviewed; this one is passed." in again.content.decode()
    )
    assert PointsEntry.objects.filter(learner=learner).count() == 1
    assert Profile.objects.get(user=learner).points_total == capstone.points


def test_requesting_changes_in_the_admin_needs_comments_and_emails_the_learner(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    learner, capstone, submission = submitted()
    client.force_login(staff())
    url = f"/admin/tracker/capstonesubmission/{submission.pk}/change/"
    refused = client.post(url, {"decision": "changes_requested", "review_comments": ""})
    assert "comments are required" in refused.content.decode()
    assert CapstoneSubmission.objects.get().status == SubmissionStatus.SUBMITTED

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"decision": "changes_requested", "review_comments": "Add a README."}
        )
    assert response.status_code == 302
    assert CapstoneSubmission.objects.get().status == SubmissionStatus.CHANGES_REQUESTED
    [mail] = mailoutbox
    assert mail.to == [learner.email] and "Add a README." in mail.body


def test_saving_without_a_decision_changes_nothing(client):
    _, _, submission = submitted()
    client.force_login(staff())
    before = CapstoneSubmission.objects.filter(pk=submission.pk).values().get()
    response = client.post(
        f"/admin/tracker/capstonesubmission/{submission.pk}/change/",
        {"decision": "", "review_comments": "", "title": "Hijacked"},
    )
    assert response.status_code == 302
    assert CapstoneSubmission.objects.filter(pk=submission.pk).values().get() == before


def test_the_pass_action_passes_only_submitted_work_once(client):
    learner, capstone, first = submitted()
    _, _, second = submitted(make_capstone())
    draft_capstone = make_capstone()
    services.enrolment_join(learner=learner, track=draft_capstone.track)
    draft = services.capstone_submission_save(learner=learner, capstone=draft_capstone, **GOOD)
    client.force_login(staff())
    data = {"action": "pass_selected", "_selected_action": [first.pk, second.pk, draft.pk]}
    response = client.post(changelist("capstonesubmission"), data, follow=True)
    assert "Passed 2 submissions." in response.content.decode()
    assert "Skipped 1 not waiting for review." in response.content.decode()
    client.post(changelist("capstonesubmission"), data)
    statuses = dict(CapstoneSubmission.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "passed", second.pk: "passed", draft.pk: "draft"}
    assert PointsEntry.objects.filter(capstone__isnull=False).count() == 2


def test_the_points_ledger_is_append_only_in_the_admin(client):
    learner, _, submission = submitted()
    services.capstone_review(
        via="admin", reviewer=staff(), submission=submission, decision="passed", comments=""
    )
    entry = PointsEntry.objects.get()
    client.force_login(staff())
    assert client.get("/admin/tracker/pointsentry/add/").status_code == 403
    change = client.get(f"/admin/tracker/pointsentry/{entry.pk}/change/")
    assert change.status_code == 200 and 'name="amount"' not in change.content.decode()
    assert (
        client.post(f"/admin/tracker/pointsentry/{entry.pk}/change/", {"amount": 9999}).status_code
        == 403
    )
    assert (
        client.post(f"/admin/tracker/pointsentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert PointsEntry.objects.get().amount == entry.amount


@pytest.mark.parametrize("model", MODELS)
def test_non_staff_are_sent_to_the_admin_login(client, model):
    client.force_login(UserFactory())
    response = client.get(changelist(model))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_admin_measures_a_draft_against_todays_constraints(client):
    capstone = make_capstone()
    learner = enrolled_learner(capstone)
    draft = services.capstone_submission_save(learner=learner, capstone=capstone, **GOOD)
    edit_constraints(capstone)
    client.force_login(staff())
    admin_page = client.get(
        f"/admin/tracker/capstonesubmission/{draft.pk}/change/"
    ).content.decode()
    assert "<li>✗ not ticked: Trained on a GPU</li>" in admin_page
    assert "<li>✓ met: Only PyTorch, TensorFlow or MXNet</li>" in admin_page
    assert "<li>✗ not ticked: Written up in a Jupyter notebook</li>" in admin_page
    assert "Written up in a notebook" not in admin_page


def test_the_site_cannot_be_deleted_or_added_so_log_in_keeps_working(client):
    from django.contrib.sites.models import Site

    client.force_login(staff())
    site = Site.objects.get_current()
    assert client.get(f"/admin/sites/site/{site.pk}/delete/").status_code == 403
    assert client.post(f"/admin/sites/site/{site.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/sites/site/add/").status_code == 403
    assert Site.objects.filter(pk=site.pk).exists()
    client.logout()
    assert client.get("/accounts/login/").status_code == 200


def test_an_accounts_email_is_not_typed_in_the_admin(client):
    from django.contrib.auth import get_user_model

    taken = UserFactory(email="dana@example.com")
    other = UserFactory(email="ben@example.com")
    client.force_login(staff())
    url = f"/admin/auth/user/{other.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="email"' not in page and "ben@example.com" in page
    form = client.get(url).context["adminform"].form
    data = {name: form.initial.get(name) for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items() if not isinstance(v, list)}
    data.update({"email": taken.email.upper(), "date_joined_0": "2026-01-01"})
    client.post(url, data)
    assert get_user_model().objects.get(pk=other.pk).email == "ben@example.com"
