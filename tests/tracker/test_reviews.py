"""Capstone review by leads, staff and peers: the queue, the review page, emails after commit,
the audit trail from every screen, and constant query counts on every lead page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from curriculum.models import ReviewMode
from tests.factories import CapstoneFactory, ModuleFactory, ResourceFactory, UserFactory, enrol
from tests.tracker.test_capstones import GOOD, ledger_total
from tracker import services
from tracker.models import (
    CapstoneReview,
    CapstoneSubmission,
    Certificate,
    ReviewVia,
    SubmissionStatus,
)
from tracker.selectors import reviews as reviews_selectors

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def person(email=None, **kwargs):
    user = UserFactory(**({"email": email} if email else {}), **kwargs)
    services.profile_update(
        user=user,
        display_name=f"Name of {user.username}",
        time_zone="UTC",
        nudge_enabled=False,
        nudge_weekday=0,
        nudge_hour=9,
    )
    return user


def staff():
    return person(is_staff=True)


def lead_of(*tracks):
    user = person()
    granter = staff()
    for track in tracks:
        services.track_lead_grant(track=track, user=user, granted_by=granter)
    return user


def capstone(review=ReviewMode.LEAD, **kwargs):
    kwargs.setdefault("constraints", list(GOOD["constraints_met"]))
    kwargs.setdefault("points", 150)
    return CapstoneFactory(review=review, **kwargs)


def submit(cap, learner=None, **fields):
    learner = learner or person()
    enrol(learner, cap.track)
    return services.capstone_submit(learner=learner, capstone=cap, **{**GOOD, **fields})


def review(reviewer, submission, decision="passed", comments="", via=ReviewVia.REVIEW_PAGE):
    return services.capstone_review(
        reviewer=reviewer, submission=submission, decision=decision, comments=comments, via=via
    )


# --- who may review ------------------------------------------------------------------------


def test_leads_review_their_tracks_staff_review_all_learners_none():
    cap, other_cap = capstone(), capstone()
    submission = submit(cap)
    lead, other_lead, learner = lead_of(cap.track), lead_of(other_cap.track), person()
    for outsider in (other_lead, learner):
        with pytest.raises(services.NotAllowed, match="You don't review this capstone"):
            review(outsider, submission)
    assert CapstoneSubmission.objects.get().status == SubmissionStatus.SUBMITTED
    review(lead, submission)
    assert CapstoneSubmission.objects.get().status == SubmissionStatus.PASSED
    review(staff(), submit(cap))


def test_peer_capstones_are_reviewed_by_learners_who_passed_them_never_their_own():
    cap = capstone(review=ReviewMode.PEER)
    lead = lead_of(cap.track)
    first = submit(cap)
    review(lead, first)  # nobody passed yet: the lead reviews the first one
    peer = first.learner
    second = submit(cap)
    stranger = person()
    with pytest.raises(services.NotAllowed):
        review(stranger, second)
    review(peer, second, "changes_requested", "Add a test set score.")
    assert CapstoneSubmission.objects.get(pk=second.pk).reviewer == peer

    # A learner who passed a *lead* capstone is no peer reviewer of it.
    lead_cap = capstone(module=cap.module)
    passed = submit(lead_cap, learner=peer)
    review(lead, passed)
    with pytest.raises(services.NotAllowed):
        review(peer, submit(lead_cap))


# --- the queue -------------------------------------------------------------------------------


def test_queue_lists_the_leads_tracks_oldest_first_and_filters(client):
    cap, other_cap = capstone(), capstone()
    lead = lead_of(cap.track)
    older = submit(cap, title="Older work")
    newer = submit(cap, title="Newer work")
    CapstoneSubmission.objects.filter(pk=older.pk).update(
        submitted_at=newer.submitted_at.replace(year=2020)
    )
    submit(other_cap, title="Someone else's track")
    passed = submit(cap, title="Already passed")
    review(lead, passed)

    client.force_login(lead)
    body = client.get("/lead/reviews/").content.decode()
    assert body.index("Older work") < body.index("Newer work")
    assert "Someone else's track" not in body and "Already passed" not in body

    body = client.get("/lead/reviews/?status=passed").content.decode()
    assert "Already passed" in body and "Older work" not in body
    body = client.get(f"/lead/reviews/?status=all&track={other_cap.track.pk}").content.decode()
    assert "Someone else's track" not in body, "a track they don't lead is no filter"


def test_queue_filters_over_htmx_answer_with_the_fragment_only(client):
    cap = capstone()
    lead = lead_of(cap.track)
    submit(cap, title="Waiting work")
    client.force_login(lead)
    response = client.get("/lead/reviews/?status=waiting", HTTP_HX_TARGET="lead-queue", **HX)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="lead-queue"') and "Waiting work" in body
    assert "<html" not in body


def test_queue_paginates_and_keeps_its_filters(client):
    cap = capstone()
    lead = lead_of(cap.track)
    for index in range(27):
        submit(cap, title=f"Work {index:02d}")
    client.force_login(lead)
    first = client.get("/lead/reviews/").content.decode()
    assert "Work 24" in first and "Work 25" not in first and "page 1 of 2" in first
    assert "?status=waiting&amp;page=2" in first
    second = client.get("/lead/reviews/?status=waiting&page=2").content.decode()
    assert "Work 25" in second and "Work 26" in second and "Work 00" not in second


def test_peer_section_lists_other_learners_waiting_work_of_capstones_they_passed(client):
    cap = capstone(review=ReviewMode.PEER)
    first = submit(cap)
    review(lead_of(cap.track), first)
    peer = first.learner
    waiting = submit(cap, title="Please review me")
    client.force_login(peer)
    body = client.get("/lead/reviews/").content.decode()
    assert 'id="peer-reviews"' in body and "Please review me" in body
    assert "Your tracks" not in body  # no lead section for a peer
    assert client.get(f"/lead/reviews/{waiting.pk}/").status_code == 200
    # ... and the capstone page points them there.
    page = client.get(f"/tracks/{cap.track.slug}/capstones/{cap.slug}/").content.decode()
    assert "1 waiting for a peer review" in page


def test_learners_without_a_review_role_get_403_on_the_queue_and_404_on_submissions(client):
    cap = capstone()
    submission = submit(cap)
    client.force_login(person())
    assert client.get("/lead/reviews/").status_code == 403
    assert client.get("/lead/").status_code == 403
    response = client.get(f"/lead/reviews/{submission.pk}/")
    assert response.status_code == 404 and GOOD["title"] not in response.content.decode()
    assert client.get("/lead/reviews/999999/").status_code == 404


# --- the review page -----------------------------------------------------------------------


def test_a_lead_passes_a_submission_points_certificate_email_audit(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    module = ModuleFactory()
    cap = capstone(module=module)
    resource = ResourceFactory(module=module)
    learner = person()
    enrol(learner, cap.track)
    services.progress_set_status(learner=learner, resource=resource, status="done")
    submission = submit(cap, learner=learner)
    lead = lead_of(cap.track)
    client.force_login(lead)

    page = client.get(f"/lead/reviews/{submission.pk}/").content.decode()
    assert "I built <strong>it</strong>." in page and "Name of" in page
    assert learner.email not in page  # leads see the public name, not the address

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/lead/reviews/{submission.pk}/",
            {"decision": "passed", "comments": "Great *work*. <script>x()</script>"},
        )
    assert response.status_code == 302 and response["Location"] == "/lead/reviews/"
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PASSED and submission.reviewer == lead
    assert ledger_total(learner) == resource.points + 150
    assert Certificate.objects.filter(learner=learner, track=cap.track).exists()
    record = CapstoneReview.objects.get()
    assert (record.reviewer, record.decision, record.via) == (lead, "passed", "review_page")
    assert "<em>work</em>" in record.comments_html and "<script" not in record.comments_html
    assert [m.to for m in mailoutbox] == [[learner.email]]
    assert "passed" in mailoutbox[0].subject and "Great *work*." in mailoutbox[0].body
    assert "You finished" in mailoutbox[0].body  # this pass completed the track

    # An optional capstone passed later completes nothing new: no second congratulation.
    extra = capstone(module=module, optional=True)
    later = submit(extra, learner=learner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/lead/reviews/{later.pk}/", {"decision": "passed", "comments": ""})
    assert "passed" in mailoutbox[-1].subject and "You finished" not in mailoutbox[-1].body

    follow = client.get("/lead/reviews/?status=passed").content.decode()
    assert "Passed “Digit classifier”" in follow and "they were emailed" in follow
    history = client.get(f"/lead/reviews/{submission.pk}/").content.decode()
    assert 'data-testid="review-history-entry"' in history and "Review page" in history
    assert "Your review" not in history  # decided: no form any more


def test_requesting_changes_needs_comments_shown_next_to_the_field(client):
    cap = capstone()
    submission = submit(cap)
    client.force_login(lead_of(cap.track))
    response = client.post(
        f"/lead/reviews/{submission.pk}/", {"decision": "changes_requested", "comments": " "}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="comments-errors"' in body and "comments are required" in body
    assert CapstoneSubmission.objects.get().status == SubmissionStatus.SUBMITTED
    assert not CapstoneReview.objects.exists()


def test_a_second_decision_on_the_same_submission_changes_nothing(client):
    cap = capstone()
    submission = submit(cap)
    lead = lead_of(cap.track)
    review(staff(), submission, "changes_requested", "Fix it")
    client.force_login(lead)
    response = client.post(f"/lead/reviews/{submission.pk}/", {"decision": "passed"}, follow=True)
    assert "already reviewed (changes requested); nothing was changed" in response.content.decode()
    assert CapstoneSubmission.objects.get().status == SubmissionStatus.CHANGES_REQUESTED
    assert CapstoneReview.objects.count() == 1


def test_lead_of_another_track_gets_404_and_peers_see_no_audit_trail(client):
    cap = capstone(review=ReviewMode.PEER)
    first = submit(cap)
    review(staff(), first, via=ReviewVia.ADMIN)
    second = submit(cap)
    client.force_login(lead_of(capstone().track))
    assert client.get(f"/lead/reviews/{second.pk}/").status_code == 404
    assert client.post(f"/lead/reviews/{second.pk}/", {"decision": "passed"}).status_code == 404
    client.force_login(first.learner)  # a peer now
    page = client.get(f"/lead/reviews/{second.pk}/").content.decode()
    assert "Your review" in page and "Review history" not in page


def test_the_learner_opening_the_review_page_of_their_own_work_goes_to_their_page(client):
    cap = capstone()
    submission = submit(cap)
    client.force_login(submission.learner)
    response = client.get(f"/lead/reviews/{submission.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/tracks/{cap.track.slug}/capstones/{cap.slug}/"


def test_drafts_are_invisible_to_reviewers(client):
    cap = capstone()
    learner = person()
    enrol(learner, cap.track)
    draft = services.capstone_submission_save(learner=learner, capstone=cap, **GOOD)
    client.force_login(staff())
    assert client.get(f"/lead/reviews/{draft.pk}/").status_code == 404
    assert GOOD["title"] not in client.get("/lead/reviews/?status=all").content.decode()


# --- emails to leads -------------------------------------------------------------------------


def test_each_lead_is_emailed_once_per_arrival_after_commit(
    mailoutbox, django_capture_on_commit_callbacks
):
    cap = capstone()
    first, second = lead_of(cap.track), lead_of(cap.track)
    lead_of(capstone().track)  # leads another track: no email
    learner = person()
    enrol(learner, cap.track)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.capstone_submission_save(learner=learner, capstone=cap, **GOOD)
    assert callbacks == []  # a draft tells nobody
    with django_capture_on_commit_callbacks(execute=True):
        submission = services.capstone_submit(learner=learner, capstone=cap, **GOOD)
    assert sorted(m.to[0] for m in mailoutbox) == sorted([first.email, second.email])
    assert all(len(m.to) == 1 for m in mailoutbox)  # nobody sees the other leads' addresses
    assert f"/lead/reviews/{submission.pk}/" in mailoutbox[0].body
    assert cap.title in mailoutbox[0].subject

    mailoutbox.clear()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(services.ServiceError),  # a double click: refused, no email
    ):
        services.capstone_submit(learner=learner, capstone=cap, **GOOD)
    assert mailoutbox == []


def test_a_track_without_a_lead_emails_staff_who_review_for_it(
    mailoutbox, django_capture_on_commit_callbacks
):
    """TechLabs' track has no lead: a submission there told nobody while the learner read
    "the track's leads review this capstone"."""
    cap = capstone()
    admin, other_admin = staff(), staff()
    person(is_staff=True, is_active=False)  # a former staff member: not emailed
    with django_capture_on_commit_callbacks(execute=True):
        submission = submit(cap)
    assert sorted(m.to[0] for m in mailoutbox) == sorted([admin.email, other_admin.email])
    assert "which has no lead: staff review its capstones" in mailoutbox[0].body
    assert f"/lead/reviews/{submission.pk}/" in mailoutbox[0].body
    mailoutbox.clear()
    lead = lead_of(cap.track)  # once it has a lead, the lead alone hears of it
    with django_capture_on_commit_callbacks(execute=True):
        submit(cap)
    assert [m.to for m in mailoutbox] == [[lead.email]]


def test_self_review_emails_no_lead_but_is_audited(mailoutbox, django_capture_on_commit_callbacks):
    cap = capstone(review=ReviewMode.SELF)
    lead_of(cap.track)
    with django_capture_on_commit_callbacks(execute=True):
        submission = submit(cap)
    assert mailoutbox == []
    record = CapstoneReview.objects.get(submission=submission)
    assert (record.reviewer, record.decision, record.via) == (None, "passed", "self")


# --- the audit trail from every screen -------------------------------------------------------


def test_admin_single_review_and_bulk_pass_are_audited_and_checked(client):
    cap = capstone()
    one, two, three = submit(cap), submit(cap), submit(cap)
    admin_user = person(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    client.post(
        f"/admin/tracker/capstonesubmission/{one.pk}/change/",
        {"decision": "changes_requested", "review_comments": "Needs a README"},
    )
    client.post(
        "/admin/tracker/capstonesubmission/",
        {"action": "pass_selected", "_selected_action": [two.pk, three.pk]},
    )
    records = {
        (r.submission_id, r.decision, r.via, r.reviewer_email) for r in CapstoneReview.objects.all()
    }
    assert records == {
        (one.pk, "changes_requested", "admin", admin_user.email),
        (two.pk, "passed", "admin_bulk", admin_user.email),
        (three.pk, "passed", "admin_bulk", admin_user.email),
    }
    page = client.get(f"/admin/tracker/capstonesubmission/{one.pk}/change/").content.decode()
    assert "Review history (audit trail)" in page and "Needs a README" in page


def test_the_bulk_action_refuses_what_the_single_review_refuses(client):
    """Staff reviewing their own submission is refused in bulk exactly as one by one."""
    cap = capstone()
    admin_user = person(is_staff=True, is_superuser=True)
    own = submit(cap, learner=admin_user)
    client.force_login(admin_user)
    response = client.post(
        "/admin/tracker/capstonesubmission/",
        {"action": "pass_selected", "_selected_action": [own.pk]},
        follow=True,
    )
    assert "can&#x27;t review your own submission" in response.content.decode()
    assert CapstoneSubmission.objects.get().status == SubmissionStatus.SUBMITTED
    assert not CapstoneReview.objects.exists()


# --- query counts (data grown tenfold, same count) ---------------------------------------------


def _grow_reviews(cap, lead, n):
    for index in range(n):
        submission = submit(cap)
        if index % 3 == 1:
            review(lead, submission, "changes_requested", "More please")
        elif index % 3 == 2:
            review(lead, submission)


def _same_count(client, url, grow, *, warm=True, **headers):
    """The page's queries at two sizes, the session's read left out (a query with SQLite's
    database sessions, none with PostgreSQL's Redis-cached ones)."""
    counts = []
    if warm:
        client.get(url, **headers)
    for n in (2, 20):
        grow(n)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, **headers)
        assert response.status_code == 200
        counts.append(sum('"django_session"' not in q["sql"] for q in queries.captured_queries))
    assert counts[0] == counts[1], counts
    return counts[1]


def test_lead_home_query_count_is_constant(client):
    lead = person()
    granter = staff()
    client.force_login(lead)

    def grow(n):
        for _ in range(n):
            cap = capstone()
            services.track_lead_grant(track=cap.track, user=lead, granted_by=granter)
            submit(cap)

    assert _same_count(client, "/lead/", grow) <= 5


def test_review_queue_query_count_is_constant(client):
    cap = capstone(review=ReviewMode.PEER)
    lead = lead_of(cap.track)
    peer_cap = capstone(review=ReviewMode.PEER)
    passed = submit(peer_cap, learner=lead)
    review(staff(), passed)  # the lead is also a peer reviewer elsewhere: both sections show
    client.force_login(lead)

    def grow(n):
        _grow_reviews(cap, lead, n)
        for _ in range(n):
            submit(peer_cap)

    assert _same_count(client, "/lead/reviews/?status=all", grow) <= 9


@pytest.mark.parametrize("section", ["lead", "peer"])
def test_review_queue_fragment_query_count_is_constant(client, section, monkeypatch):
    """A page turned in either section answers with that section and, out of band, the other
    section's page links: the same queries whatever the size, none for the other's rows."""
    monkeypatch.setattr(reviews_selectors, "QUEUE_PAGE_SIZE", 3)  # both sections on pages
    cap = capstone(review=ReviewMode.PEER)
    lead = lead_of(cap.track)
    peer_cap = capstone(review=ReviewMode.PEER)
    review(staff(), submit(peer_cap, learner=lead))  # a peer reviewer elsewhere too
    client.force_login(lead)

    def grow(n):
        _grow_reviews(cap, lead, n)
        for _ in range(n):
            submit(peer_cap)

    url = "/lead/reviews/?status=all&page=2&peer_page=2"
    headers = {**HX, "HTTP_HX_TARGET": f"{section}-queue"}
    assert _same_count(client, url, grow, **headers) <= 6
    other = "peer" if section == "lead" else "lead"
    body = client.get(url, **headers).content.decode()
    assert f'<div id="{other}-pages" hx-swap-oob="true">' in body  # counted above


def test_review_page_query_count_is_constant(client):
    cap = capstone()
    lead = lead_of(cap.track)
    target = submit(cap)
    client.force_login(lead)

    def grow(n):
        for _ in range(n):  # more decisions on this submission, more everywhere else
            review(lead, target, "changes_requested", "Again")
            services.capstone_submit(learner=target.learner, capstone=cap, **GOOD)
        _grow_reviews(cap, lead, n)

    assert _same_count(client, f"/lead/reviews/{target.pk}/", grow) <= 6


def test_track_leads_page_query_count_is_constant(client):
    cap = capstone()
    admin_user = staff()
    client.force_login(admin_user)
    track = cap.track

    def grow(n):
        for index in range(n):
            user = person()
            services.track_lead_grant(track=track, user=user, granted_by=admin_user)
            if index % 2:
                services.track_lead_revoke(track=track, user=user, revoked_by=admin_user)
        track.lead_emails = [
            *track.lead_emails,
            *(f"w{len(track.lead_emails) + i}@x.org" for i in range(n)),
        ]
        track.save(update_fields=["lead_emails"])

    assert _same_count(client, f"/tracks/{track.slug}/leads/", grow) <= 6


def test_leads_find_their_tools_in_the_header_and_on_the_track_page(client):
    cap = capstone()
    lead = lead_of(cap.track)
    client.force_login(lead)
    page = client.get(f"/tracks/{cap.track.slug}/").content.decode()
    assert 'href="/lead/"' in page and 'href="/lead/reviews/"' in page
    assert 'data-testid="lead-tools"' in page
    assert f"/lead/reviews/?status=waiting&amp;track={cap.track.pk}" in page
    client.force_login(person())
    page = client.get(f"/tracks/{cap.track.slug}/").content.decode()
    assert 'href="/lead/"' not in page and 'data-testid="lead-tools"' not in page
