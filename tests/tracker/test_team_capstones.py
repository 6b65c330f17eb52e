"""Team capstones: one passed submission by any member of a cohort team counts for every
teammate enrolled in the capstone's track, exactly once, with their points, totals and
certificate; teammates on other tracks are not affected; the submitter's flow is unchanged."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from cohorts.models import Cohort, CohortMembership, CohortTrack, Team, TeamMembership
from curriculum.models import ReviewMode
from tests.factories import CapstoneFactory, ResourceFactory, TrackFactory, UserFactory, enrol
from tracker import services
from tracker.models import (
    CapstoneSubmission,
    Certificate,
    Enrolment,
    PointsEntry,
    ReviewVia,
    SubmissionStatus,
)

pytestmark = pytest.mark.django_db
WORK = {"link": "https://example.com/team", "writeup": "", "constraints_met": []}


def team_of(track, *members, other_tracks=()):
    """A cohort running `track` (and `other_tracks`) with one team of `members`."""
    now = timezone.now()
    cohort = Cohort.objects.create(
        slug=f"cohort-{track.pk}-{len(members)}",
        name="Semester",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        created_at=now,
        updated_at=now,
    )
    for position, linked in enumerate((track, *other_tracks)):
        CohortTrack.objects.create(cohort=cohort, track=linked, position=position)
    team = Team.objects.create(cohort=cohort, name="Team A", created_at=now)
    for member in members:
        CohortMembership.objects.create(cohort=cohort, user=member, joined_at=now)
        TeamMembership.objects.create(team=team, cohort=cohort, user=member, added_at=now)
    return team


def points(learner) -> int:
    return PointsEntry.objects.filter(learner=learner).aggregate(s=Sum("amount"))["s"] or 0


def submit(learner, capstone, title="Our project"):
    return services.capstone_submit(learner=learner, capstone=capstone, title=title, **WORK)


def review(submission, reviewer):
    return services.capstone_review(
        reviewer=reviewer,
        submission=submission,
        decision=SubmissionStatus.PASSED,
        comments="",
        via=ReviewVia.REVIEW_PAGE,
    )


def test_a_passed_team_submission_counts_once_for_every_teammate_on_the_track():
    capstone = CapstoneFactory(team=True, review=ReviewMode.LEAD, points=80, constraints=[])
    other_track = TrackFactory()
    submitter, mate, elsewhere = UserFactory(), UserFactory(), UserFactory()
    enrol(submitter, capstone.track)
    enrol(mate, capstone.track)
    enrol(elsewhere, other_track)  # a teammate from another track
    team_of(capstone.track, submitter, mate, elsewhere, other_tracks=[other_track])
    staff = UserFactory(is_staff=True)

    submission = submit(submitter, capstone)
    assert CapstoneSubmission.objects.filter(learner=mate).count() == 0  # not before it passes
    review(submission, staff)

    mine = CapstoneSubmission.objects.get(learner=mate, capstone=capstone)
    assert mine.status == SubmissionStatus.PASSED
    assert mine.via_team_submission_id == submission.pk
    assert points(mate) == points(submitter) == 80
    assert Certificate.objects.filter(learner=mate, track=capstone.track).exists()
    totals = Enrolment.objects.get(learner=mate, track=capstone.track)
    assert (totals.done_units, totals.required_units, totals.points) == (1, 1, 80)
    assert not CapstoneSubmission.objects.filter(learner=elsewhere).exists()
    assert points(elsewhere) == 0
    assert services.totals_repair(fix=False).drift == 0


def test_a_teammate_who_passed_already_or_passes_later_gets_the_points_once():
    capstone = CapstoneFactory(team=True, review=ReviewMode.LEAD, points=50, constraints=[])
    ResourceFactory(module=capstone.module)  # the track is not complete with the capstone alone
    first, second = UserFactory(), UserFactory()
    enrol(first, capstone.track)
    enrol(second, capstone.track)
    team_of(capstone.track, first, second)
    staff = UserFactory(is_staff=True)

    waiting = submit(second, capstone, title="Second's own")  # both submitted their own
    review(submit(first, capstone), staff)
    own = CapstoneSubmission.objects.get(pk=waiting.pk)
    assert own.status == SubmissionStatus.PASSED and own.title == "Second's own"
    assert own.via_team_submission_id is not None
    with pytest.raises(services.ServiceError):  # already passed: nothing left to review
        review(own, staff)
    assert points(first) == points(second) == 50
    assert not Certificate.objects.exists()  # the resource is still to do
    assert services.totals_repair(fix=False).drift == 0


def test_each_teammate_is_emailed_and_their_record_carries_the_review(
    django_capture_on_commit_callbacks, mailoutbox
):
    capstone = CapstoneFactory(team=True, review=ReviewMode.LEAD, points=40, constraints=[])
    submitter = UserFactory(email="sam@example.com")
    mate = UserFactory(email="mo@example.com")
    for learner in (submitter, mate):
        enrol(learner, capstone.track)
    team_of(capstone.track, submitter, mate)
    lead = UserFactory(is_staff=True, email="lee@example.com")
    submission = submit(submitter, capstone, title="Rover")

    with django_capture_on_commit_callbacks(execute=True):
        services.capstone_review(
            reviewer=lead,
            submission=submission,
            decision=SubmissionStatus.PASSED,
            comments="Solid *work*.",
            via=ReviewVia.REVIEW_PAGE,
        )

    mine = CapstoneSubmission.objects.get(learner=mate, capstone=capstone)
    assert mine.reviewer_comments == "Solid *work*."
    assert "<em>work</em>" in mine.reviewer_comments_html
    audit = mine.reviews.get()
    assert (audit.reviewer, audit.decision, audit.via) == (
        lead,
        SubmissionStatus.PASSED,
        ReviewVia.REVIEW_PAGE,
    )
    to_mate = [m for m in mailoutbox if m.to == ["mo@example.com"]]
    assert len(to_mate) == 1
    assert to_mate[0].subject.endswith(f"Your team's capstone “{capstone.title}” passed")
    assert "your team's submission “Rover” passed review" in to_mate[0].body
    assert "Solid *work*." in to_mate[0].body and "/certificates/" in to_mate[0].body
    assert len([m for m in mailoutbox if m.to == ["sam@example.com"]]) == 1


def test_someone_who_joins_the_team_after_it_passed_gets_the_capstone_too(
    django_capture_on_commit_callbacks, mailoutbox
):
    from cohorts import services as cohort_services

    capstone = CapstoneFactory(team=True, review=ReviewMode.LEAD, points=60, constraints=[])
    submitter, latecomer = UserFactory(), UserFactory(email="late@example.com")
    for learner in (submitter, latecomer):
        enrol(learner, capstone.track)
    team = team_of(capstone.track, submitter)
    staff = UserFactory(is_staff=True)
    review(submit(submitter, capstone), staff)
    CohortMembership.objects.create(cohort=team.cohort, user=latecomer, joined_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        cohort_services.team_member_add(by=staff, team=team, user=latecomer)

    mine = CapstoneSubmission.objects.get(learner=latecomer, capstone=capstone)
    assert mine.status == SubmissionStatus.PASSED and mine.reviewer == staff
    assert mine.via_team_submission.learner == submitter
    assert mine.reviews.get().via == ReviewVia.TEAM
    assert points(latecomer) == 60
    assert Certificate.objects.filter(learner=latecomer, track=capstone.track).exists()
    assert [m.to for m in mailoutbox] == [["late@example.com"]]
    # Taken out and put back: credited once.
    cohort_services.team_member_remove(by=staff, team=team, user=latecomer)
    cohort_services.team_member_add(by=staff, team=team, user=latecomer)
    assert points(latecomer) == 60
    assert services.totals_repair(fix=False).drift == 0


def test_an_ordinary_capstone_passes_for_its_submitter_only():
    capstone = CapstoneFactory(team=False, review=ReviewMode.SELF, constraints=[])
    submitter, mate = UserFactory(), UserFactory()
    enrol(submitter, capstone.track)
    enrol(mate, capstone.track)
    team_of(capstone.track, submitter, mate)
    submission = submit(submitter, capstone)
    assert submission.status == SubmissionStatus.PASSED
    assert submission.via_team_submission_id is None
    assert not CapstoneSubmission.objects.filter(learner=mate).exists()


def test_a_self_review_team_capstone_passes_the_team_on_submit():
    capstone = CapstoneFactory(team=True, review=ReviewMode.SELF, points=30, constraints=[])
    submitter, mate, removed = UserFactory(), UserFactory(), UserFactory()
    for learner in (submitter, mate, removed):
        enrol(learner, capstone.track)
    team = team_of(capstone.track, submitter, mate, removed)
    CohortMembership.objects.filter(cohort=team.cohort, user=removed).update(
        removed_at=timezone.now()
    )
    submit(submitter, capstone)
    assert points(mate) == 30
    assert points(removed) == 0  # removed from the cohort: no longer counted with the team


@pytest.mark.django_db(transaction=True)
def test_two_teammates_passed_at_once_each_count_exactly_once(require_postgres):
    capstone = CapstoneFactory(team=True, review=ReviewMode.LEAD, points=70, constraints=[])
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    for learner in (first, second, third):
        enrol(learner, capstone.track)
    team_of(capstone.track, first, second, third)
    submissions = [submit(first, capstone, "First's"), submit(second, capstone, "Second's")]
    reviewers = [UserFactory(is_staff=True), UserFactory(is_staff=True)]
    barrier = threading.Barrier(2)
    outcomes = []

    def pass_it(index):
        try:
            barrier.wait()
            review(submissions[index], reviewers[index])
            outcomes.append("passed")
        except services.ServiceError as refused:
            outcomes.append(str(refused))
        finally:
            connection.close()

    threads = [threading.Thread(target=pass_it, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert "passed" in outcomes  # the other was passed through the team before its review
    for learner in (first, second, third):
        assert points(learner) == 70
        assert PointsEntry.objects.filter(learner=learner).count() == 1
        assert CapstoneSubmission.objects.get(learner=learner).status == SubmissionStatus.PASSED
    assert services.totals_repair(fix=False).drift == 0


def test_the_teammates_capstone_page_says_it_passed_through_the_team(client):
    capstone = CapstoneFactory(team=True, review=ReviewMode.SELF, constraints=[])
    submitter, mate = UserFactory(), UserFactory()
    enrol(submitter, capstone.track)
    enrol(mate, capstone.track)
    services.profile_update(
        user=submitter,
        display_name="Grace H.",
        time_zone="UTC",
        nudge_enabled=False,
        nudge_weekday=0,
        nudge_hour=9,
    )
    team_of(capstone.track, submitter, mate)
    url = f"/tracks/{capstone.track.slug}/capstones/{capstone.slug}/"
    client.force_login(mate)
    assert "A team capstone" in client.get(url).content.decode()

    submit(submitter, capstone, title="Bridge sensor")
    body = client.get(url).content.decode()
    assert "Passed through your team's submission “Bridge sensor” by Grace H." in body
    client.force_login(submitter)
    assert "Passed through your team" not in client.get(url).content.decode()
