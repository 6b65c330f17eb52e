"""Cohort admins and the nudge log: they see the rows of the active members of the cohorts they
run (and preview those members' nudges), and nobody else's."""

from __future__ import annotations

import html
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cohorts.models import CohortMembership, CohortRole
from tests.cohorts.member_world import cohort_with, member_of
from tests.factories import TrackFactory, UserFactory
from tracker import permissions

from .conftest import make_learner
from .test_pages import add_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohorts():
    track = TrackFactory()
    ours = cohort_with(slug="ours", tracks=[track], starts_on=date(2026, 3, 2))
    theirs = cohort_with(slug="theirs", tracks=[track], starts_on=date(2026, 3, 2))
    admin, other_admin = UserFactory(), UserFactory()
    member_of(ours, admin, role=CohortRole.ADMIN)
    member_of(theirs, other_admin, role=CohortRole.ADMIN)
    return ours, theirs, admin, other_admin


def test_a_cohort_admin_sees_only_their_members_rows(client, cohorts):
    ours, theirs, admin, _ = cohorts
    member, outsider, co_admin = make_learner(), make_learner(), UserFactory()
    removed = make_learner()
    member_of(ours, member)
    member_of(theirs, outsider)
    member_of(ours, co_admin, role=CohortRole.ADMIN)
    member_of(ours, removed)
    CohortMembership.objects.filter(user=removed).update(removed_at=timezone.now())
    add_rows([member], reason="MEMBER-ROW")
    add_rows([outsider], reason="OUTSIDER-ROW")
    add_rows([removed], reason="REMOVED-ROW")
    add_rows([co_admin], reason="CO-ADMIN-ROW")

    client.force_login(admin)
    response = client.get(reverse("nudges:log"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "members of the cohorts you run" in body
    assert "MEMBER-ROW" in body and "1 row." in body
    for hidden in ("OUTSIDER-ROW", "REMOVED-ROW", "CO-ADMIN-ROW"):
        assert hidden not in body
    # A search cannot reach beyond their members either.
    found = client.get(reverse("nudges:log"), {"q": outsider.email}).content.decode()
    assert "OUTSIDER-ROW" not in found and "0 rows." in found


def test_a_cohort_admin_previews_their_members_nudges_only(client, cohorts):
    ours, theirs, admin, other_admin = cohorts
    member, outsider = make_learner(), make_learner()
    member_of(ours, member)
    member_of(theirs, outsider)
    client.force_login(admin)
    assert client.get(reverse("nudges:preview", args=[member.pk])).status_code == 200
    assert client.get(reverse("nudges:preview", args=[outsider.pk])).status_code == 404
    # The profile links the log for them.
    assert 'href="/nudges/log/"' in client.get(reverse("tracker:profile")).content.decode()
    client.force_login(other_admin)
    assert client.get(reverse("nudges:preview", args=[member.pk])).status_code == 404


def test_a_cohort_admins_preview_holds_only_the_cohorts_tracks(client, cohorts):
    """It showed the member's progress, next items and revisit list in every track they are
    in, the cohort's or not: their business, not their cohort's."""
    from tests.factories import ModuleFactory, ResourceFactory
    from tracker import services as tracker_services

    ours, _, admin, _ = cohorts
    ResourceFactory(module=ModuleFactory(track=ours.tracks.get()), title="Cohort lesson")
    private = TrackFactory(title="Private hobby track")
    hobby = ResourceFactory(module=ModuleFactory(track=private), title="Hobby lesson")
    member = make_learner(track=private)
    member_of(ours, member)
    tracker_services.note_set_revisit(learner=member, resource=hobby, revisit=True)

    client.force_login(admin)
    page = client.get(reverse("nudges:preview", args=[member.pk])).content.decode()
    assert "Cohort lesson" in page
    assert "Hobby lesson" not in page and "private hobby track" not in page.lower()
    assert 'data-testid="tracks-left-out"' in page and "1 other track" in page
    # Not what is sent (its subject and next items can be the hobby track's): not called so.
    assert "The email, with your cohort's tracks only" in page
    assert "as it will be sent" not in page
    client.force_login(member)  # their own preview: everything
    own = client.get(reverse("nudges:preview_own")).content.decode()
    assert "Hobby lesson" in own and 'data-testid="tracks-left-out"' not in own
    assert "The email as it will be sent" in own


def test_a_cohort_admins_preview_leaves_out_the_weeks_figures_of_other_tracks(client, cohorts):
    """The preview held only the cohort's tracks, but said "In the last 7 days you finished 2
    resources and earned ... points", "Streak: 1 week in a row" and a subject of "2 done in
    the last 7 days", all of it work on the member's private track."""
    from tests.factories import ModuleFactory, ResourceFactory
    from tracker import services as tracker_services

    ours, _, admin, _ = cohorts
    ResourceFactory(module=ModuleFactory(track=ours.tracks.get()), title="Cohort lesson")
    private = TrackFactory(title="Private hobby track")
    hobby = ModuleFactory(track=private)
    member = make_learner(track=private)
    member_of(ours, member)
    for resource in (ResourceFactory(module=hobby), ResourceFactory(module=hobby)):
        tracker_services.progress_set_status(learner=member, resource=resource, status="done")
    figures = ("In the last 7 days you finished", "done in the last 7 days", "Streak: 1 week")

    client.force_login(admin)
    page = client.get(reverse("nudges:preview", args=[member.pk])).content.decode()
    assert "Cohort lesson" in page  # the email part is shown
    for figure in figures:
        assert figure not in page
    left_out = (
        "Their figures for the last 7 days (resources finished, points, streak) are left out "
        "of this preview: they count all their tracks, not only the cohort's."
    )
    assert html.unescape(page).count(left_out) == 2  # the HTML part and the plain text

    # The member's own preview, and staff's, still give them: what is sent.
    staff = UserFactory(is_staff=True)
    for viewer, url in (
        (member, reverse("nudges:preview_own")),
        (staff, reverse("nudges:preview", args=[member.pk])),
    ):
        client.force_login(viewer)
        page = client.get(url).content.decode()
        assert "In the last 7 days you finished <strong>2 resources</strong>" in page
        assert "2 done in the last 7 days" in page and "Streak: <strong>1 week</strong>" in page
        assert "left out of this preview" not in page


def test_members_and_learners_do_not_see_the_log(client, cohorts):
    ours, _, _, _ = cohorts
    member = make_learner()
    member_of(ours, member)
    client.force_login(member)
    assert client.get(reverse("nudges:log")).status_code == 403
    assert not permissions.can_view_nudge_log(member)
    assert not permissions.nudge_log_learners(member).exists()


def test_the_log_of_a_cohort_admin_takes_the_same_queries_for_ten_times_the_members(
    client, cohorts, django_assert_num_queries
):
    ours, _, admin, _ = cohorts
    few = [make_learner() for _ in range(3)]
    for learner in few:
        member_of(ours, learner)
    add_rows(few)
    client.force_login(admin)
    client.get(reverse("nudges:log"))  # the session's first request
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("nudges:log"))
    many = [make_learner() for _ in range(27)]
    for learner in many:
        member_of(ours, learner)
    add_rows(many)
    with django_assert_num_queries(len(small.captured_queries)):
        body = client.get(reverse("nudges:log")).content.decode()
    assert "30 rows." in body
