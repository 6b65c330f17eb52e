"""Capstone submissions: the state machine in the services, and the learner's page."""

import re
import threading

import factory
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from curriculum.services import curriculum_item_save
from tests.aria import aria_problems
from tests.factories import CapstoneFactory, ModuleFactory, ResourceFactory, UserFactory
from tracker import services
from tracker.models import CapstoneSubmission, Certificate, PointsEntry, Profile, SubmissionStatus

pytestmark = pytest.mark.django_db

CONSTRAINTS = ["Only PyTorch, TensorFlow or MXNet", "Written up in a notebook"]
GOOD = {
    "title": "Digit classifier",
    "link": "https://github.com/me/digits",
    "writeup": "I built **it**.",
    "constraints_met": list(CONSTRAINTS),  # the ticked constraints' texts
}


def make_capstone(**kwargs):
    kwargs.setdefault("constraints", list(CONSTRAINTS))
    kwargs.setdefault("points", 150)
    return CapstoneFactory(**kwargs)


def quick_user(**kwargs):
    """A user with an unusable password: no slow hashing, and these tests log in by force."""
    return UserFactory(**{"password": factory.Transformer.Force("!"), **kwargs})


def enrolled_learner(capstone, **kwargs):
    learner = quick_user(**kwargs)
    services.enrolment_join(learner=learner, track=capstone.track)
    return learner


def staff():
    return quick_user(is_staff=True, is_superuser=True)


def ledger_total(user) -> int:
    return PointsEntry.objects.filter(learner=user).aggregate(s=Sum("amount"))["s"] or 0


def submitted(capstone=None, **fields):
    capstone = capstone or make_capstone()
    learner = enrolled_learner(capstone)
    submission = services.capstone_submit(learner=learner, capstone=capstone, **{**GOOD, **fields})
    return learner, capstone, submission


def snapshot(submission):
    return CapstoneSubmission.objects.filter(pk=submission.pk).values().get()


# --- services: the state machine --------------------------------------------------------------


def test_draft_then_submit_stores_fields_and_renders_the_writeup():
    capstone = make_capstone()
    learner = enrolled_learner(capstone)
    draft = services.capstone_submission_save(
        learner=learner,
        capstone=capstone,
        title="",
        link="",
        writeup="Half *done*",
        constraints_met=[CONSTRAINTS[1]],
    )
    assert draft.status == SubmissionStatus.DRAFT
    assert draft.writeup_html == "<p>Half <em>done</em></p>"
    assert draft.constraints_met == [CONSTRAINTS[1]] and draft.track_id == capstone.track_id

    sub = services.capstone_submit(learner=learner, capstone=capstone, **GOOD)
    assert sub.pk == draft.pk
    sub.refresh_from_db()
    assert sub.status == SubmissionStatus.SUBMITTED and sub.submitted_at is not None
    assert sub.writeup_html == "<p>I built <strong>it</strong>.</p>"
    assert sub.constraints_met == CONSTRAINTS
    assert ledger_total(learner) == 0


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": "  "}, "title", "Give your submission a title"),
        (
            {"link": "", "writeup": "   "},
            services.LINK_OR_WRITEUP,  # the two fields together, not the link alone
            "Add a link to your work or a write-up",
        ),
        (
            {"constraints_met": CONSTRAINTS[:1]},
            "constraints_met",
            "Tick “Written up in a notebook”",
        ),
        ({"link": "ftp://example.com/x"}, "link", "Use an http:// or https:// link"),
        ({"link": "javascript:alert(1)"}, "link", "Use an http:// or https:// link"),
        ({"link": "example.com"}, "link", "Use an http:// or https:// link"),
        ({"writeup": "x" * 50_001}, "writeup", "under 50,000 characters"),
    ],
)
def test_submit_refuses_incomplete_work_and_changes_nothing(fields, field, message):
    capstone = make_capstone()
    learner = enrolled_learner(capstone)
    with pytest.raises(services.SubmissionInvalid) as caught:
        services.capstone_submit(learner=learner, capstone=capstone, **{**GOOD, **fields})
    assert any(message in text for text in caught.value.errors[field])
    assert not CapstoneSubmission.objects.exists()


def test_a_draft_may_be_incomplete_but_not_have_a_bad_link():
    capstone = make_capstone()
    learner = enrolled_learner(capstone)
    services.capstone_submission_save(
        learner=learner, capstone=capstone, title="", link="", writeup="", constraints_met=[]
    )
    with pytest.raises(services.SubmissionInvalid, match="Use an http:// or https:// link"):
        services.capstone_submission_save(
            learner=learner,
            capstone=capstone,
            title="t",
            link="data:text/html,hi",
            writeup="",
            constraints_met=[],
        )
    assert CapstoneSubmission.objects.get().title == ""


def test_not_enrolled_or_left_learners_cannot_submit():
    capstone = make_capstone()
    stranger = UserFactory()
    with pytest.raises(services.ServiceError, match="Enrol in Track .* to work on its capstone"):
        services.capstone_submit(learner=stranger, capstone=capstone, **GOOD)
    learner = enrolled_learner(capstone)
    services.enrolment_leave(learner=learner, track=capstone.track)
    with pytest.raises(services.ServiceError, match="Enrol in Track .* to work on its capstone"):
        services.capstone_submission_save(learner=learner, capstone=capstone, **GOOD)
    assert not CapstoneSubmission.objects.exists()


def test_submitted_work_is_read_only_until_changes_are_requested():
    learner, capstone, sub = submitted()
    before = snapshot(sub)
    for write in (services.capstone_submission_save, services.capstone_submit):
        with pytest.raises(services.ServiceError, match="is submitted, so it can't be changed"):
            write(learner=learner, capstone=capstone, **{**GOOD, "title": "Sneaky edit"})
    assert snapshot(sub) == before


def test_full_cycle_changes_requested_edit_resubmit_pass():
    learner, capstone, sub = submitted()
    reviewer = staff()
    services.capstone_review(
        via="admin",
        reviewer=reviewer,
        submission=sub,
        decision="changes_requested",
        comments="Add a *test set* score. <script>alert(1)</script>",
    )
    sub.refresh_from_db()
    assert sub.status == SubmissionStatus.CHANGES_REQUESTED and sub.reviewer == reviewer
    assert (
        "<em>test set</em>" in sub.reviewer_comments_html
        and "<script" not in sub.reviewer_comments_html
    )
    assert ledger_total(learner) == 0

    services.capstone_submission_save(
        learner=learner, capstone=capstone, **{**GOOD, "writeup": "Now with a score."}
    )
    sub.refresh_from_db()
    assert sub.status == SubmissionStatus.CHANGES_REQUESTED and sub.writeup == "Now with a score."

    services.capstone_submit(
        learner=learner, capstone=capstone, **{**GOOD, "writeup": "Now with a score: 98%."}
    )
    sub.refresh_from_db()
    assert sub.status == SubmissionStatus.SUBMITTED

    services.capstone_review(
        via="admin", reviewer=reviewer, submission=sub, decision="passed", comments="Great work."
    )
    sub.refresh_from_db()
    assert sub.status == SubmissionStatus.PASSED and sub.reviewed_at is not None
    assert list(
        PointsEntry.objects.filter(learner=learner).values_list("kind", "amount", "capstone")
    ) == [("award", 150, capstone.pk)]
    assert ledger_total(learner) == 150 == Profile.objects.get(user=learner).points_total


def test_double_pass_is_refused_and_awards_once():
    learner, capstone, sub = submitted()
    reviewer = staff()
    services.capstone_review(
        via="admin", reviewer=reviewer, submission=sub, decision="passed", comments=""
    )
    before = snapshot(sub)
    # A second reviewer still holding the stale, "submitted" object.
    with pytest.raises(services.ServiceError, match="this one is passed"):
        services.capstone_review(
            via="admin", reviewer=staff(), submission=sub, decision="passed", comments=""
        )
    with pytest.raises(services.ServiceError, match="this one is passed"):
        services.capstone_review(
            via="admin",
            reviewer=reviewer,
            submission=sub,
            decision="changes_requested",
            comments="No",
        )
    assert snapshot(sub) == before
    assert PointsEntry.objects.filter(learner=learner).count() == 1
    assert ledger_total(learner) == 150 == Profile.objects.get(user=learner).points_total


@pytest.mark.parametrize(
    ("who", "decision", "comments", "message"),
    [
        ("learner", "passed", "", "You don.t review this capstone"),
        ("self", "passed", "", "can't review your own"),
        ("staff", "changes_requested", "  ", "comments are required"),
        ("staff", "maybe", "", "Choose a decision"),
    ],
)
def test_bad_reviews_are_refused_with_the_database_unchanged(who, decision, comments, message):
    learner, capstone, sub = submitted()
    reviewer = {"learner": UserFactory(), "self": learner, "staff": staff()}[who]
    if who == "self":
        learner.is_staff = True
        learner.save()
    before = snapshot(sub)
    with pytest.raises(services.ServiceError, match=message):
        services.capstone_review(
            via="admin", reviewer=reviewer, submission=sub, decision=decision, comments=comments
        )
    assert snapshot(sub) == before
    assert not PointsEntry.objects.exists()


def test_drafts_cannot_be_reviewed():
    capstone = make_capstone()
    learner = enrolled_learner(capstone)
    draft = services.capstone_submission_save(learner=learner, capstone=capstone, **GOOD)
    with pytest.raises(services.ServiceError, match="this one is draft"):
        services.capstone_review(
            via="admin", reviewer=staff(), submission=draft, decision="passed", comments=""
        )
    assert CapstoneSubmission.objects.get().status == SubmissionStatus.DRAFT


def test_passing_the_last_required_item_issues_the_certificate():
    module = ModuleFactory()
    resource = ResourceFactory(module=module, minutes=30)
    capstone = make_capstone(module=module)
    learner = enrolled_learner(capstone)
    services.progress_set_status(learner=learner, resource=resource, status="done")
    sub = services.capstone_submit(learner=learner, capstone=capstone, **GOOD)
    assert not Certificate.objects.exists()  # the capstone must pass first

    services.capstone_review(
        via="admin", reviewer=staff(), submission=sub, decision="passed", comments=""
    )
    certificate = Certificate.objects.get(learner=learner, track=capstone.track)
    assert certificate.summary == {
        "modules": 1,
        "units": 2,
        "resources_done": 1,
        "capstones_passed": 1,
    }
    assert ledger_total(learner) == 30 + 150 == Profile.objects.get(user=learner).points_total


def test_self_review_passes_on_submit_without_email(mailoutbox, django_capture_on_commit_callbacks):
    module = ModuleFactory()
    capstone = make_capstone(module=module, review="self")
    learner = enrolled_learner(capstone)
    with django_capture_on_commit_callbacks(execute=True):
        sub = services.capstone_submit(learner=learner, capstone=capstone, **GOOD)
    assert sub.status == SubmissionStatus.PASSED and sub.reviewer is None
    assert ledger_total(learner) == 150
    assert Certificate.objects.filter(learner=learner).exists()  # it was the module's only item
    assert mailoutbox == []


def test_peer_review_waits_for_staff():
    capstone = make_capstone(review="peer")
    learner, _, sub = submitted(capstone)
    assert sub.status == SubmissionStatus.SUBMITTED and ledger_total(learner) == 0


def test_the_learner_is_emailed_once_the_review_commits(
    mailoutbox, django_capture_on_commit_callbacks
):
    learner, capstone, sub = submitted()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.capstone_review(
            via="admin",
            reviewer=staff(),
            submission=sub,
            decision="changes_requested",
            comments="Add tests.",
        )
    assert mailoutbox == []  # nothing before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    [mail] = mailoutbox
    assert mail.to == [learner.email]
    assert "Changes requested" in mail.subject and capstone.title in mail.subject
    assert "Add tests." in mail.body
    assert f"/tracks/{capstone.track.slug}/capstones/{capstone.slug}/" in mail.body

    services.capstone_submit(learner=learner, capstone=capstone, **GOOD)
    with django_capture_on_commit_callbacks(execute=True):
        services.capstone_review(
            via="admin", reviewer=staff(), submission=sub, decision="passed", comments=""
        )
    assert len(mailoutbox) == 2 and "passed" in mailoutbox[1].subject
    assert "150 points" in mailoutbox[1].body


def test_a_refused_review_sends_no_email(mailoutbox, django_capture_on_commit_callbacks):
    _, _, sub = submitted()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.ServiceError):
        services.capstone_review(
            via="admin", reviewer=UserFactory(), submission=sub, decision="passed", comments=""
        )
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_passing_at_once_award_once(require_postgres):
    learner, capstone, sub = submitted()
    reviewers = [staff() for _ in range(4)]
    barrier = threading.Barrier(len(reviewers))
    outcomes = []

    def review(reviewer):
        try:
            barrier.wait()
            services.capstone_review(
                via="admin", reviewer=reviewer, submission=sub, decision="passed", comments=""
            )
            outcomes.append("passed")
        except services.ServiceError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=review, args=(r,)) for r in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["passed", "refused", "refused", "refused"]
    assert PointsEntry.objects.filter(learner=learner).count() == 1
    assert ledger_total(learner) == 150 == Profile.objects.get(user=learner).points_total


# --- the page ---------------------------------------------------------------------------------


def page_url(capstone) -> str:
    return f"/tracks/{capstone.track.slug}/capstones/{capstone.slug}/"


def post(client, capstone, action, **fields):
    data = {**GOOD, **fields, "action": action}
    return client.post(page_url(capstone), data)


def test_anonymous_visitors_are_sent_to_log_in(client):
    capstone = make_capstone()
    response = client.get(page_url(capstone))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_unknown_and_archived_capstones_are_404(client, user):
    capstone = make_capstone()
    client.force_login(user)
    assert client.get(f"/tracks/{capstone.track.slug}/capstones/nope/").status_code == 404
    capstone.archived_at = timezone.now()
    capstone.save()
    assert client.get(page_url(capstone)).status_code == 404


def test_not_enrolled_sees_the_brief_and_an_enrol_hint_and_cannot_post(client, user):
    capstone = make_capstone()
    client.force_login(user)
    response = client.get(page_url(capstone))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Build <strong>something</strong> real." in html
    assert "not enrolled" in html and f'action="/tracks/{capstone.track.slug}/enrol"' in html
    assert "Save draft" not in html

    response = post(client, capstone, "submit")
    assert response.status_code == 302
    assert not CapstoneSubmission.objects.exists()
    assert "Enrol in" in client.get(response["Location"]).content.decode()


def test_enrolled_learner_sees_brief_constraints_points_review_mode_and_form(client):
    capstone = make_capstone()
    client.force_login(enrolled_learner(capstone))
    html = client.get(page_url(capstone)).content.decode()
    assert "Build <strong>something</strong> real." in html
    assert "150 points" in html and "Track lead review" in html
    for index, text in enumerate(CONSTRAINTS):
        assert f'id="constraint-{index}"' in html and text in html
    assert 'value="save"' in html and "Save draft" in html and "Submit for review" in html


def test_save_draft_then_submit_by_plain_posts(client):
    capstone = make_capstone()
    learner = enrolled_learner(capstone)
    client.force_login(learner)
    response = post(
        client, capstone, "save", title="Work in progress", link="", writeup="", constraints_met=[]
    )
    assert response.status_code == 302 and response["Location"] == page_url(capstone)
    assert CapstoneSubmission.objects.get().status == SubmissionStatus.DRAFT
    html = client.get(page_url(capstone)).content.decode()
    assert "Draft saved" in html and 'value="Work in progress"' in html

    response = post(client, capstone, "submit")
    assert response.status_code == 302
    html = client.get(page_url(capstone)).content.decode()
    assert "Submitted for review" in html and "waiting for review" in html
    assert "Save draft" not in html  # read-only now
    assert "https://github.com/me/digits" in html
    assert CapstoneSubmission.objects.get().status == SubmissionStatus.SUBMITTED


def test_a_non_http_link_is_a_field_error_and_keeps_the_input(client):
    capstone = make_capstone()
    client.force_login(enrolled_learner(capstone))
    response = post(
        client, capstone, "save", link="javascript:alert(document.cookie)", title="Mine"
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert (
        '<ul class="errorlist" id="link-errors"><li>Use an http:// or https:// link</li></ul>'
        in html
    )
    assert 'value="Mine"' in html
    assert not CapstoneSubmission.objects.exists()


def test_neither_a_link_nor_a_write_up_marks_both_and_says_so_once(client):
    capstone = make_capstone()
    client.force_login(enrolled_learner(capstone))
    response = post(client, capstone, "submit", link="", writeup="  ")
    html = response.content.decode()
    assert response.status_code == 400
    message = "Add a link to your work or a write-up (or both) before you submit."
    assert html.count(message) == 1
    assert f'<ul class="errorlist" id="work-errors" data-testid="work-errors"><li>{message}' in html
    link = re.search(r'<input [^>]*id="id_link"[^>]*>', html).group(0)
    writeup = re.search(r'<textarea [^>]*id="id_writeup"[^>]*>', html).group(0)
    for field in (link, writeup):
        assert 'aria-invalid="true"' in field
        assert "work-errors" in re.search(r'aria-describedby="([^"]*)"', field).group(1).split()
    assert 'id="link-errors"' not in html  # not the link's own error
    assert "Please fix the marked fields below" in html and not aria_problems(html)
    assert not CapstoneSubmission.objects.exists()


def test_an_unticked_constraint_says_which_one(client):
    capstone = make_capstone()
    client.force_login(enrolled_learner(capstone))
    response = post(client, capstone, "submit", constraints_met=[CONSTRAINTS[1]])
    html = response.content.decode()
    assert response.status_code == 400
    assert "Tick “Only PyTorch, TensorFlow or MXNet” once your work meets it" in html
    assert 'id="constraint-1" checked' in html and 'id="constraint-0" checked' not in html
    assert not CapstoneSubmission.objects.exists()


def test_changes_requested_shows_comments_and_lets_the_learner_resubmit(client):
    learner, capstone, sub = submitted()
    services.capstone_review(
        via="admin",
        reviewer=staff(),
        submission=sub,
        decision="changes_requested",
        comments="Report **accuracy**.",
    )
    client.force_login(learner)
    html = client.get(page_url(capstone)).content.decode()
    assert (
        "Changes requested by your reviewer" in html and "Report <strong>accuracy</strong>." in html
    )
    assert 'value="Digit classifier"' in html and "Submit for review" in html

    assert post(client, capstone, "submit", writeup="Accuracy 98%.").status_code == 302
    sub.refresh_from_db()
    assert sub.status == SubmissionStatus.SUBMITTED and sub.writeup == "Accuracy 98%."


def test_a_passed_submission_shows_passed_and_points(client):
    learner, capstone, sub = submitted()
    services.capstone_review(
        via="admin", reviewer=staff(), submission=sub, decision="passed", comments="Lovely."
    )
    client.force_login(learner)
    html = client.get(page_url(capstone)).content.decode()
    assert "<strong>Passed</strong> · 150 points awarded" in html
    assert "Lovely." in html and "Save draft" not in html
    # The header badge shows the ledger's total.
    assert '<span class="points-value" data-testid="header-points">150</span>' in html
    response = post(client, capstone, "submit", title="Changed after passing")
    assert response.status_code == 302
    assert CapstoneSubmission.objects.get().title == "Digit classifier"


def test_self_review_passes_from_the_page(client):
    module = ModuleFactory()
    capstone = make_capstone(module=module, review="self")
    learner = enrolled_learner(capstone)
    client.force_login(learner)
    html = client.get(page_url(capstone)).content.decode()
    assert "Self-review: when you submit, you vouch" in html
    response = post(client, capstone, "submit")
    html = client.get(response["Location"]).content.decode()
    assert "earned 150 points" in html and "<strong>Passed</strong>" in html
    certificate = Certificate.objects.get(learner=learner)
    assert f'href="/certificates/{certificate.code}/"' in html


XSS_WRITEUP = """# Results
<script>alert('x')</script>
<img src="x" onerror="alert(1)">
[click me](javascript:alert(1))
<a href="/tracks/" hx-post="/admin/" hx-trigger="load">boost</a>
"""


def test_writeup_html_is_sanitized_on_the_page(client):
    learner, capstone, sub = submitted(writeup=XSS_WRITEUP)
    assert "<h3>Results</h3>" in sub.writeup_html  # below the page's own headings
    client.force_login(learner)
    html = client.get(page_url(capstone)).content.decode()
    assert "<h3>Results</h3>" in html
    for bad in ("<script>alert", "onerror", "javascript:alert", "hx-post", "hx-trigger"):
        assert bad not in html
        assert bad not in sub.writeup_html


def test_page_query_count_is_constant(client):
    def build(n_constraints, n_others):
        capstone = make_capstone(constraints=[f"Rule {i}" for i in range(n_constraints)])
        learner = enrolled_learner(capstone)
        for _ in range(n_others):
            other = enrolled_learner(capstone)
            services.capstone_submit(
                learner=other,
                capstone=capstone,
                **{**GOOD, "constraints_met": capstone.constraints},
            )
        services.capstone_submit(
            learner=learner,
            capstone=capstone,
            **{**GOOD, "constraints_met": capstone.constraints},
        )
        return learner, capstone

    counts = []
    for size in (1, 10):
        learner, capstone = build(2 * size, 2 * size)
        client.force_login(learner)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page_url(capstone)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- the record of what was vouched for survives curriculum edits -------------------------------

# What a track lead's YAML edit can do: insert a constraint first and reword another.
EDITED_CONSTRAINTS = [
    "Trained on a GPU",
    "Only PyTorch, TensorFlow or MXNet",
    "Written up in a Jupyter notebook",
]


def edit_constraints(capstone, constraints=EDITED_CONSTRAINTS):
    capstone.constraints = list(constraints)
    curriculum_item_save(item=capstone)


def readonly_section(html: str) -> str:
    start = html.index('<dl class="submission-readonly">')
    return html[start : html.index("</dl>", start)]


def test_a_passed_submission_keeps_what_was_vouched_for_after_the_constraints_change(client):
    learner, capstone, sub = submitted()
    services.capstone_review(
        via="admin", reviewer=staff(), submission=sub, decision="passed", comments=""
    )
    edit_constraints(capstone)

    sub.refresh_from_db()
    assert sub.constraints_met == CONSTRAINTS
    client.force_login(learner)
    html = client.get(page_url(capstone)).content.decode()
    assert "Trained on a GPU" in html  # the brief shows today's constraints...
    vouched = readonly_section(html)  # ...the submission what the learner vouched for
    for text in CONSTRAINTS:
        assert f'<span class="visually-hidden">Met:</span> {text}</li>' in vouched
    assert "Trained on a GPU" not in vouched and "Jupyter" not in vouched
    assert "Not met" not in vouched

    client.force_login(staff())
    admin_page = client.get(f"/admin/tracker/capstonesubmission/{sub.pk}/change/").content.decode()
    assert "<li>✓ met: Only PyTorch, TensorFlow or MXNet</li>" in admin_page
    assert "<li>✓ met: Written up in a notebook</li>" in admin_page
    assert "Trained on a GPU" not in admin_page and "Jupyter" not in admin_page


def test_a_draft_ticks_by_wording_and_a_reworded_constraint_must_be_ticked_again(client):
    capstone = make_capstone()
    learner = enrolled_learner(capstone)
    services.capstone_submission_save(learner=learner, capstone=capstone, **GOOD)
    edit_constraints(capstone)

    client.force_login(learner)
    html = client.get(page_url(capstone)).content.decode()
    # Ticks follow the text, not the position: the inserted rule and the reworded one are open.
    assert 'id="constraint-0" checked' not in html and "Trained on a GPU" in html
    assert 'id="constraint-1" checked' in html
    assert 'id="constraint-2" checked' not in html and "Written up in a Jupyter notebook" in html

    # Re-posting the form as it was before the edit is refused, naming what changed.
    response = post(client, capstone, "submit")
    html = response.content.decode()
    assert response.status_code == 400
    assert "“Written up in a notebook” is no longer one of this capstone&#x27;s constraints" in html
    assert CapstoneSubmission.objects.get().status == SubmissionStatus.DRAFT
    with pytest.raises(services.SubmissionInvalid) as caught:
        services.capstone_submit(
            learner=learner,
            capstone=capstone,
            **{**GOOD, "constraints_met": ["Only PyTorch, TensorFlow or MXNet"]},
        )
    assert any(
        "Tick “Written up in a Jupyter notebook”" in m
        for m in caught.value.errors["constraints_met"]
    )
    assert CapstoneSubmission.objects.get().constraints_met == CONSTRAINTS

    response = post(client, capstone, "submit", constraints_met=EDITED_CONSTRAINTS)
    assert response.status_code == 302
    sub = CapstoneSubmission.objects.get()
    assert sub.status == SubmissionStatus.SUBMITTED
    assert sub.constraints_met == EDITED_CONSTRAINTS


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_stored_indexes_into_the_texts_they_pointed_at():
    # Made with today's models before going back: later migrations add columns the factories set.
    capstone = make_capstone(constraints=["A", "B", "C"])
    learner = enrolled_learner(capstone)
    executor = MigrationExecutor(connection)
    executor.migrate([("tracker", "0002_site_waymark")])
    old_apps = executor.loader.project_state([("tracker", "0002_site_waymark")]).apps
    now = timezone.now()
    old_apps.get_model("tracker", "CapstoneSubmission").objects.create(
        learner_id=learner.pk,
        capstone_id=capstone.pk,
        track_id=capstone.track_id,
        title="Old row",
        constraints_met=[2, 0, 7],  # 7 no longer points at anything
        created_at=now,
        updated_at=now,
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert CapstoneSubmission.objects.get().constraints_met == ["A", "C"]
