"""A capstone archived while learners have work on it (in the editor, with its module, or by a
YAML upload): the archive confirmations say what waits, learners keep a read-only page of
their own work, the review queue and page mark the removed capstone (pass yes, changes no),
and restoring brings everything back."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from curriculum.curation import services as curation
from curriculum.models import Capstone
from tests.aria import aria_problems
from tests.curriculum.curation_world import HX, TRACK_YAML, build
from tests.factories import UserFactory, enrol
from tracker import permissions, services
from tracker.models import Certificate, PointsEntry, ReviewVia, SubmissionStatus

pytestmark = pytest.mark.django_db

PAGE = "/tracks/pets/capstones/final/"
WORK = {"title": "Cat or dog", "link": "https://example.com/pets", "writeup": "It *works*."}


@pytest.fixture
def world():
    return build()


def learner_with(world, status: str, title: str = "Cat or dog"):
    """A learner enrolled in the pets track whose work on the capstone has `status`."""
    learner = UserFactory()
    enrol(learner, world.track)
    capstone = Capstone.objects.get(track=world.track, slug="final")
    fields = {**WORK, "title": title, "constraints_met": []}
    if status == SubmissionStatus.DRAFT:
        return services.capstone_submission_save(learner=learner, capstone=capstone, **fields)
    submission = services.capstone_submit(learner=learner, capstone=capstone, **fields)
    if status in (SubmissionStatus.PASSED, SubmissionStatus.CHANGES_REQUESTED):
        comments = "Well *done*." if status == SubmissionStatus.PASSED else "Add a *test set*."
        submission = services.capstone_review(
            reviewer=world.lead,
            submission=submission,
            decision=status,
            comments=comments,
            via=ReviewVia.REVIEW_PAGE,
        )
    return submission


def archive(world, kind="capstones", slug="final"):
    curation.curation_item_archive(user=world.lead, track=world.track, kind=kind, slug=slug)


def restore(world, kind="capstones", slug="final"):
    curation.curation_item_restore(user=world.lead, track=world.track, kind=kind, slug=slug)


def archived() -> bool:
    return Capstone.objects.get(track__slug="pets", slug="final").archived_at is not None


def text(response) -> str:
    """The page's text as a person reads it: tags dropped, entities decoded, spaces joined."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def confirm_dialog(body: str, kind: str, slug: str) -> str:
    """The hx-confirm text of the Archive form of `kind`/`slug` on the outline."""
    form = re.search(rf'<form[^>]*action="/tracks/pets/edit/{kind}/{slug}/archive"[^>]*>', body)
    return unescape(re.search(r'hx-confirm="([^"]*)"', form.group(0)).group(1))


# --- the confirmation ----------------------------------------------------------------------


def test_the_archive_dialog_counts_the_waiting_submissions_and_drafts(client, world):
    learner_with(world, SubmissionStatus.SUBMITTED, "First")
    learner_with(world, SubmissionStatus.SUBMITTED, "Second")
    learner_with(world, SubmissionStatus.DRAFT)
    learner_with(world, SubmissionStatus.PASSED)  # kept, nothing to say about it
    client.force_login(world.lead)
    body = client.get("/tracks/pets/edit/").content.decode()
    capstone = confirm_dialog(body, "capstones", "final")
    assert capstone.startswith("Archive Final project? 2 submissions are waiting for review:")
    assert "they stay in the review queue, marked as from a removed capstone" in capstone
    assert "can still be passed (not sent back for changes)" in capstone
    assert "1 draft (not submitted yet, or sent back for changes): its learner can" in capstone
    assert "no longer edit or submit it" in capstone
    module = confirm_dialog(body, "modules", "one")  # the module takes the capstone along
    assert "2 submissions are waiting for review" in module and "1 draft" in module
    # A capstone nobody has unfinished work on, and a resource, say nothing of submissions.
    assert "waiting" not in confirm_dialog(body, "modules", "two")
    assert "waiting" not in confirm_dialog(body, "resources", "video")


def test_without_javascript_archiving_asks_first_and_says_what_happens(client, world):
    learner_with(world, SubmissionStatus.SUBMITTED)
    learner_with(world, SubmissionStatus.CHANGES_REQUESTED)
    client.force_login(world.lead)
    asked = client.post("/tracks/pets/edit/capstones/final/archive")
    assert asked.status_code == 200 and not archived()
    said = text(asked)
    assert "Archive the capstone Final project?" in said
    assert "1 submission is waiting for review: it stays in the review queue" in said
    assert "1 draft (not submitted yet, or sent back for changes)" in said
    assert "can still open their own submissions" in said
    assert 'href="/tracks/pets/edit/#capstone-final"' in asked.content.decode()  # Keep it
    assert not aria_problems(asked.content.decode())
    done = client.post("/tracks/pets/edit/capstones/final/archive", {"confirmed": "1-1"})
    assert done.status_code == 302 and archived()


def test_without_javascript_counts_that_changed_since_are_asked_again(client, world):
    learner_with(world, SubmissionStatus.SUBMITTED)
    client.force_login(world.lead)
    client.post("/tracks/pets/edit/capstones/final/archive")  # asked: 1 waiting
    learner_with(world, SubmissionStatus.SUBMITTED, "Meanwhile")
    again = client.post("/tracks/pets/edit/capstones/final/archive", {"confirmed": "1-0"})
    assert again.status_code == 200 and not archived()
    assert "changed since you were asked" in text(again)
    assert "2 submissions are waiting for review" in text(again)


def test_a_module_with_waiting_work_asks_first_without_javascript(client, world):
    learner_with(world, SubmissionStatus.SUBMITTED)
    client.force_login(world.lead)
    asked = client.post("/tracks/pets/edit/modules/one/archive")
    assert asked.status_code == 200 and not archived()
    assert "Archiving the module takes its resources and capstones along" in text(asked)
    client.post("/tracks/pets/edit/modules/one/archive", {"confirmed": "1-0"})
    assert archived()


def test_nothing_unfinished_archives_at_once_as_before(client, world):
    learner_with(world, SubmissionStatus.PASSED)
    client.force_login(world.lead)
    response = client.post("/tracks/pets/edit/capstones/final/archive")
    assert response.status_code == 302 and archived()


def test_with_javascript_the_dialog_was_the_confirmation(client, world):
    learner_with(world, SubmissionStatus.SUBMITTED)
    client.force_login(world.lead)
    stale = client.post("/tracks/pets/edit/capstones/final/archive", {"shown": "0-0"}, **HX)
    assert stale.status_code == 200 and not archived()
    said = text(stale)
    assert "Nothing was archived: learners' work on the capstone “Final project” changed" in said
    assert "1 submission is waiting for review" in said
    # The outline it brings back asks with the counts of now.
    assert "1 submission is waiting" in confirm_dialog(stale.content.decode(), "capstones", "final")
    client.post("/tracks/pets/edit/capstones/final/archive", {"shown": "1-0"}, **HX)
    assert archived()


def test_the_upload_preview_counts_the_work_on_capstones_it_archives(client, world):
    learner_with(world, SubmissionStatus.SUBMITTED)
    learner_with(world, SubmissionStatus.DRAFT)
    without = (
        TRACK_YAML.split("      capstones:\n")[0] + TRACK_YAML.split("Build a **classifier**.\n")[1]
    )
    client.force_login(world.lead)
    upload = SimpleUploadedFile("pets.yaml", without.encode(), content_type="application/yaml")
    preview = client.post("/tracks/pets/edit/upload/", {"file": upload}, follow=True)
    said = text(preview)
    assert "Capstones it archives: 1 submission is waiting for review" in said
    assert "1 draft (not submitted yet, or sent back for changes)" in said
    assert "2 learners" in said and "1 waiting for review, 1 draft 0 points" in said


# --- the learner's page ----------------------------------------------------------------------


def test_a_learner_keeps_a_read_only_page_of_their_waiting_work(client, world):
    submission = learner_with(world, SubmissionStatus.SUBMITTED)
    archive(world)
    client.force_login(submission.learner)
    page = client.get(PAGE)
    assert page.status_code == 200
    said = text(page)
    assert "This capstone was removed from Pets course" in said
    assert "can no longer be edited or submitted" in said
    assert "It is still waiting for review: a track lead may pass it" in said
    assert "Cat or dog" in said and "It <em>works</em>." in page.content.decode()
    assert 'name="action" value="submit"' not in page.content.decode()  # no form
    assert not aria_problems(page.content.decode())
    # A post (an old tab's form) changes nothing and says why.
    refused = client.post(PAGE, {**WORK, "action": "submit"}, follow=True)
    assert "was removed from its track; it takes no submissions" in text(refused)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED and submission.title == "Cat or dog"


@pytest.mark.parametrize(
    "status, shown",
    [
        (SubmissionStatus.PASSED, "It passed: you keep its points"),
        (SubmissionStatus.CHANGES_REQUESTED, "Add a test set"),
        (SubmissionStatus.DRAFT, "Cat or dog"),
    ],
)
def test_every_status_keeps_its_page_with_the_review(client, world, status, shown):
    submission = learner_with(world, status)
    archive(world, "modules", "one")  # with its module, too
    client.force_login(submission.learner)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "This capstone was removed from Pets course" in text(page) and shown in text(page)
    assert 'name="action"' not in page.content.decode()


def test_the_dashboard_links_a_passed_removed_capstone_to_its_page(client, world):
    """Its activity line had no link once the capstone was archived (the track page's anchor
    is gone): the capstone's own page is still the learner's."""
    submission = learner_with(world, SubmissionStatus.PASSED)
    archive(world)
    client.force_login(submission.learner)
    dashboard = client.get("/me/").content.decode()
    assert f'<a href="{PAGE}">Final project</a>' in dashboard
    assert client.get(PAGE).status_code == 200


def test_learners_without_work_on_it_get_404_like_a_removed_resource(client, world):
    learner_with(world, SubmissionStatus.SUBMITTED)
    archive(world)
    client.force_login(world.learner)  # enrolled, no work on the capstone
    assert client.get(PAGE).status_code == 404
    client.force_login(world.lead)  # leads read submissions on the review page
    assert client.get(PAGE).status_code == 404


def test_permissions_for_a_removed_capstone(world):
    submission = learner_with(world, SubmissionStatus.SUBMITTED)
    capstone = submission.capstone
    assert permissions.can_request_changes(world.lead, submission)
    archive(world)
    capstone.refresh_from_db()
    submission.refresh_from_db()
    assert permissions.can_view_capstone(submission.learner, capstone, submission)
    assert not permissions.can_view_capstone(world.learner, capstone, None)
    assert not permissions.can_view_capstone(world.learner, capstone, submission)  # not theirs
    assert permissions.can_review_submission(world.lead, submission)
    assert not permissions.can_request_changes(world.lead, submission)
    assert not permissions.can_request_changes(world.other_lead, submission)


# --- reviewers ---------------------------------------------------------------------------------


def test_the_queue_and_the_review_page_mark_the_removed_capstone(client, world):
    submission = learner_with(world, SubmissionStatus.SUBMITTED)
    archive(world)
    client.force_login(world.lead)
    queue = client.get("/lead/reviews/")
    assert 'data-testid="capstone-removed">Removed from the track<' in queue.content.decode()
    page = client.get(f"/lead/reviews/{submission.pk}/")
    said = text(page)
    assert "This capstone was removed from Pets course" in said
    assert "you can still pass it" in said and "but not request changes" in said
    body = page.content.decode()
    assert 'value="passed"' in body and 'value="changes_requested"' not in body
    assert 'href="/tracks/pets/edit/#archived-title">restore the capstone</a>' in body
    assert not aria_problems(body)


def test_changes_cannot_be_requested_on_a_removed_capstone(client, world):
    submission = learner_with(world, SubmissionStatus.SUBMITTED)
    archive(world)
    client.force_login(world.lead)
    refused = client.post(
        f"/lead/reviews/{submission.pk}/",
        {"decision": "changes_requested", "comments": "More tests."},
    )
    assert refused.status_code == 400
    assert "can no longer edit or resubmit this work: pass it, or restore the capstone" in text(
        refused
    )
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED


def test_passing_a_removed_capstone_awards_its_points_and_the_certificate(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    """The archived capstone no longer counts towards the track (the completion rule leaves
    archived items out): a learner who finished everything else gets the certificate with the
    pass, and the email's link opens their page."""
    submission = learner_with(world, SubmissionStatus.SUBMITTED)
    learner = submission.learner
    for slug in ("video", "notebook", "paper"):
        services.progress_set_status(
            learner=learner, resource=world.track.resources.get(slug=slug), status="done"
        )
    archive(world)
    assert not Certificate.objects.filter(learner=learner).exists()  # not claimed yet
    client.force_login(world.lead)
    with django_capture_on_commit_callbacks(execute=True):
        passed = client.post(
            f"/lead/reviews/{submission.pk}/", {"decision": "passed", "comments": "Nice."}
        )
    assert passed.status_code == 302
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PASSED
    assert PointsEntry.objects.filter(learner=learner, capstone=submission.capstone).exists()
    assert Certificate.objects.filter(learner=learner, track=world.track).exists()
    [email] = mailoutbox
    assert "The capstone was removed from Pets course" in email.body
    assert "You finished Pets course" in email.body
    link = re.search(r"Your submission: \S+(/tracks/\S+)", email.body).group(1)
    client.force_login(learner)
    page = client.get(link)
    assert page.status_code == 200 and "It passed: you keep its points" in text(page)


# --- restoring ---------------------------------------------------------------------------------


def test_restoring_brings_everything_back(client, world):
    waiting = learner_with(world, SubmissionStatus.SUBMITTED, "Waiting work")
    sent_back = learner_with(world, SubmissionStatus.CHANGES_REQUESTED, "Sent back")
    archive(world, "modules", "one")
    restore(world, "modules", "one")
    client.force_login(world.lead)
    assert 'data-testid="capstone-removed"' not in client.get("/lead/reviews/").content.decode()
    page = client.get(f"/lead/reviews/{waiting.pk}/").content.decode()
    assert 'data-testid="capstone-removed"' not in page and 'value="changes_requested"' in page
    client.force_login(sent_back.learner)
    mine = client.get(PAGE)
    assert "removed from" not in text(mine)
    assert 'name="action" value="submit"' in mine.content.decode()  # editable again
    client.force_login(world.learner)
    assert client.get(PAGE).status_code == 200
