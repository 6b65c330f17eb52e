"""A walk over the pages a learner, a track lead, a cohort admin and staff see, with a few of
each thing on them (tracks, resources with notes, submissions, teams, invites, leads): no two
links, buttons or fields on a page share an accessible name while acting on different things
(tests/accessible_names.py). A screen reader's list of a page's controls then tells each one
apart: "Save note on Attention paper", never "Save note", "Save note"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from cohorts import services as cohort_services
from curriculum.models import ReviewMode
from tests.accessible_names import shared_names
from tests.factories import (
    CapstoneFactory,
    ModuleFactory,
    ResourceFactory,
    TrackFactory,
    UserFactory,
    enrol,
)
from tracker import services
from tracker.selectors import reviews

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@dataclass
class World:
    learner: object
    lead: object
    cohort_admin: object
    staff: object
    submission_id: int


def build() -> World:
    staff = UserFactory(username="sam", is_staff=True, is_superuser=True)
    lead, co_lead = UserFactory(username="lee"), UserFactory(username="lou")
    learner = UserFactory(username="dana", first_name="Dana", last_name="Learner")
    ana = UserFactory(username="ana", first_name="Ana", last_name="A")
    ben = UserFactory(username="ben", first_name="Ben", last_name="B")
    cohort_admin = UserFactory(username="cora")

    nlp = TrackFactory(slug="nlp", title="NLP")
    basics = ModuleFactory(track=nlp, slug="basics", title="Basics")
    models = ModuleFactory(track=nlp, slug="models", title="Models")
    resources = [
        ResourceFactory(module=module, slug=slug, title=title)
        for module, slug, title in [
            (basics, "tokens", "Tokenizers"),
            (basics, "embeddings", "Embeddings"),
            (models, "attention", "Attention paper"),
            (models, "bleu", "BLEU score"),
        ]
    ]
    project = CapstoneFactory(module=models, slug="translator", title="A translator")
    CapstoneFactory(module=basics, slug="tokenizer", title="A tokenizer", review=ReviewMode.SELF)
    vision = TrackFactory(slug="vision", title="Vision")
    conv = ModuleFactory(track=vision, slug="conv", title="Convolutions")
    ResourceFactory(module=conv)
    edges = CapstoneFactory(module=conv, title="Edge detector", review=ReviewMode.PEER)

    for person in (lead, co_lead):
        services.track_lead_grant(track=nlp, user=person, granted_by=staff)
    enrol(learner, nlp, vision)
    services.progress_set_status(learner=learner, resource=resources[0], status="done")
    services.progress_set_status(learner=learner, resource=resources[1], status="in_progress")
    for resource in resources[:3]:
        services.note_save(learner=learner, resource=resource, body=f"On *{resource.title}*")
        services.note_set_revisit(learner=learner, resource=resource, revisit=True)
    services.pace_plan_set(
        learner=learner,
        track=nlp,
        hours_per_week="3",
        target_date=None,
        today=timezone.localdate(),
    )
    services.capstone_submission_save(
        learner=learner, capstone=project, title="Mine", link="", writeup="", constraints_met=[]
    )

    def submit(person, capstone):
        return services.capstone_submit(
            learner=person,
            capstone=capstone,
            title=f"{person.username}'s {capstone.title}",
            link="https://example.com/work",
            writeup="It **works**.",
            constraints_met=list(capstone.constraints),
        )

    # The lead passed Vision's peer capstone, so their queue has a peer section too.
    enrol(lead, vision)
    services.capstone_review(
        reviewer=staff, submission=submit(lead, edges), decision="passed", comments="", via="admin"
    )
    submissions = []
    for person in (ana, ben):
        enrol(person, nlp, vision)
        submissions.append(submit(person, project))
        submit(person, edges)

    today = timezone.localdate()
    cohort = cohort_services.cohort_create(
        by=staff,
        name="Spring cohort",
        slug="spring",
        starts_on=today - timedelta(days=10),
        ends_on=today + timedelta(weeks=10),
        track_ids=[nlp.pk],
    )
    cohort_services.cohort_admin_add(by=staff, cohort=cohort, user_email=cohort_admin.email)
    for person in (learner, ana, ben):
        invite = cohort_services.invite_create(by=cohort_admin, cohort=cohort)
        cohort_services.cohort_join(user=person, code=invite.code)
    for name, member in (("Owls", learner), ("Hawks", ana)):
        team = cohort_services.team_create(by=cohort_admin, cohort=cohort, name=name)
        cohort_services.team_member_add(by=cohort_admin, team=team, user=member)
    return World(learner, lead, cohort_admin, staff, submissions[0].pk)


def walk(client, user, urls: list[str], **headers) -> list[str]:
    """What each page gets wrong: a name on controls that act on different things."""
    client.force_login(user)
    problems = []
    for url in urls:
        response = client.get(url, **headers)
        assert response.status_code == 200, url
        for name, targets in shared_names(response.content.decode()).items():
            problems.append(f"{url}: {name!r} on {len(targets)} different things: {targets}")
    return problems


@pytest.fixture
def world():
    return build()


def test_a_learners_pages(client, world):
    pages = [
        "/",
        "/me/",
        "/me/progress/",
        "/me/revisit/",
        "/me/notes/",
        "/me/profile/",
        "/tracks/nlp/",
        "/tracks/nlp/plan/",
        "/tracks/nlp/capstones/translator/",
        "/tracks/nlp/capstones/tokenizer/",
        "/cohorts/spring/home/",
        "/nudges/preview/",
    ]
    assert walk(client, world.learner, pages) == []
    # Note editors open on every resource at once, as htmx leaves the page.
    page = client.get("/tracks/nlp/").content.decode()
    for slug in ("tokens", "embeddings", "attention", "bleu"):
        page += client.get(f"/tracks/nlp/items/{slug}/note", **HX).content.decode()
    assert shared_names(page) == {}


def test_a_track_leads_pages(client, world, monkeypatch):
    monkeypatch.setattr(reviews, "QUEUE_PAGE_SIZE", 1)  # both queues on their pages
    pages = [
        "/lead/reviews/?page=2&peer_page=2",
        "/lead/",
        "/lead/reviews/",
        f"/lead/reviews/{world.submission_id}/",
        "/tracks/nlp/edit/",
        "/tracks/nlp/edit/track/",
        "/tracks/nlp/edit/resources/attention/",
        "/tracks/nlp/edit/upload/",
        "/tracks/nlp/leads/",
        "/tracks/nlp/history/",
    ]
    assert walk(client, world.lead, pages) == []
    # Every item's editor open in the outline at once.
    page = client.get("/tracks/nlp/edit/").content.decode()
    for item in (
        "modules/basics",
        "modules/models",
        "resources/tokens",
        "resources/attention",
        "capstones/translator",
        "capstones/tokenizer",
    ):
        page += client.get(f"/tracks/nlp/edit/{item}/", **HX).content.decode()
    assert shared_names(page) == {}


def test_a_cohort_admins_pages(client, world):
    pages = [
        "/cohorts/",
        "/cohorts/spring/",
        "/cohorts/spring/?sort=-points",
        "/cohorts/spring/members/",
        "/cohorts/spring/invites/",
        "/cohorts/spring/teams/",
        "/cohorts/spring/settings/",
        "/cohorts/spring/messages/",
        "/nudges/log/",
    ]
    assert walk(client, world.cohort_admin, pages) == []


def test_staffs_pages(client, world):
    assert walk(client, world.staff, ["/tracks/nlp/leads/", "/lead/", "/lead/reviews/"]) == []


def test_each_review_queue_section_s_page_links_keep_the_other_section_s_page(
    client, world, monkeypatch
):
    """Turning the peer list dropped the page the lead list was on, and the other way round."""
    monkeypatch.setattr(reviews, "QUEUE_PAGE_SIZE", 1)
    client.force_login(world.lead)
    page = client.get("/lead/reviews/?page=2&peer_page=2").content.decode()
    peer_links = re.findall(r'href="\?([^"#]*)#peer-reviews"', page)
    lead_links = re.findall(r'href="\?([^"#]*page=\d+)" hx-get=[^>]*#lead-queue', page)
    assert peer_links and all("&amp;page=2&amp;" in link for link in peer_links)
    assert lead_links and all("&amp;peer_page=2&amp;" in link for link in lead_links)
