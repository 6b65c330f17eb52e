"""The public certificate page."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ModuleFactory, ResourceFactory, UserFactory
from tests.tracker.test_capstones import GOOD, enrolled_learner, make_capstone, staff
from tracker import services
from tracker.models import Certificate, Profile

pytestmark = pytest.mark.django_db


def earn_certificate(*, name="Ada Lovelace", track_title="Deep Learning from Scratch", resources=1):
    """A small track (one module, resources done, one capstone passed) finished by a learner."""
    module = ModuleFactory(track__title=track_title)
    done = [ResourceFactory(module=module) for _ in range(resources)]
    capstone = make_capstone(module=module)
    learner = enrolled_learner(capstone, first_name=name.split()[0], last_name=name.split()[-1])
    for resource in done:
        services.progress_set_status(learner=learner, resource=resource, status="done")
    submission = services.capstone_submit(learner=learner, capstone=capstone, **GOOD)
    services.capstone_review(
        via="admin", reviewer=staff(), submission=submission, decision="passed", comments=""
    )
    return Certificate.objects.get(learner=learner)


def test_certificate_is_public_and_shows_what_was_completed(client, settings):
    settings.SITE_URL = "https://waymark.example.org"
    certificate = earn_certificate(resources=3)
    response = client.get(f"/certificates/{certificate.code}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<p class="certificate-name" data-testid="certificate-name">Ada Lovelace</p>' in html
    assert "Deep Learning from Scratch" in html
    assert certificate.issued_at.strftime("%-d %B %Y") in html
    assert certificate.summary == {
        "modules": 1,
        "units": 4,
        "resources_done": 3,
        "capstones_passed": 1,
    }
    for count, label in [(1, "module"), (3, "resources done"), (1, "capstone passed")]:
        assert f'<span class="stat">{count}</span> {label}' in html
    assert "required items" not in html
    assert f"https://waymark.example.org/certificates/{certificate.code}/" in html
    assert (
        '<meta name="robots" content="noindex">' in html and response["X-Robots-Tag"] == "noindex"
    )
    assert "Print" in html


def test_an_optional_capstone_passed_after_the_issue_counts_where_it_is_listed(client):
    certificate = earn_certificate()
    module = certificate.track.modules.get()
    extra = make_capstone(module=module, optional=True, title="Stretch project")
    submission = services.capstone_submit(learner=certificate.learner, capstone=extra, **GOOD)
    services.capstone_review(
        via="admin", reviewer=staff(), submission=submission, decision="passed", comments=""
    )
    html = client.get(certificate.get_absolute_url()).content.decode()
    assert "Stretch project" in html
    assert '<span class="stat">2</span> capstones passed' in html


def test_the_track_page_says_complete_only_while_it_is(client):
    certificate = earn_certificate(resources=2)
    client.force_login(certificate.learner)
    url = certificate.track.get_absolute_url()
    assert "Track complete." in client.get(url).content.decode()
    resource = certificate.track.resources.order_by("pk").first()
    services.progress_set_status(
        learner=certificate.learner, resource=resource, status="not_started"
    )
    html = client.get(url).content.decode()
    assert "Track complete." not in html
    assert "You completed this track before, and its certificate stays yours." in html
    assert certificate.get_absolute_url() in html


def test_the_certificate_keeps_its_snapshot_when_names_change(client):
    certificate = earn_certificate()
    certificate.track.title = "Renamed track"
    certificate.track.save()
    html = client.get(certificate.get_absolute_url()).content.decode()
    assert "Deep Learning from Scratch" in html and "Renamed track" not in html


def test_the_date_is_the_day_in_the_learners_time_zone(client):
    module = ModuleFactory()
    capstone = make_capstone(module=module)
    learner = enrolled_learner(capstone)
    Profile.objects.filter(user=learner).update(time_zone="Pacific/Auckland")
    submission = services.capstone_submit(learner=learner, capstone=capstone, **GOOD)
    late_evening_utc = datetime(2026, 1, 1, 20, 0, tzinfo=UTC)
    services.capstone_review(
        via="admin",
        reviewer=staff(),
        submission=submission,
        decision="passed",
        comments="",
        now=late_evening_utc,
    )
    html = client.get(Certificate.objects.get().get_absolute_url()).content.decode()
    assert '<time datetime="2026-01-02">2 January 2026</time>' in html


def test_unknown_codes_are_404(client):
    certificate = earn_certificate()
    assert client.get("/certificates/not-a-real-code/").status_code == 404
    assert client.get(f"/certificates/{certificate.code[:-1]}/").status_code == 404


def test_codes_are_long_and_random():
    first, second = earn_certificate(), earn_certificate()
    assert len(first.code) >= 24 and first.code != second.code


def test_the_learner_is_told_it_is_shareable(client):
    certificate = earn_certificate()
    client.force_login(certificate.learner)
    assert "This page is public" in client.get(certificate.get_absolute_url()).content.decode()
    client.force_login(UserFactory())
    assert "This page is public" not in client.get(certificate.get_absolute_url()).content.decode()


@pytest.mark.parametrize("logged_in", [False, True])
def test_certificate_page_query_count_is_constant(client, logged_in):
    counts = []
    for size in (1, 10):
        certificates = [earn_certificate(resources=2 * size) for _ in range(size)]
        if logged_in:
            client.force_login(certificates[-1].learner)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(certificates[-1].get_absolute_url()).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_learner_without_a_display_name_is_never_named_by_email(client):
    module = ModuleFactory(track__title="Tiny")
    resource = ResourceFactory(module=module)
    learner = UserFactory(email="private.person@example.com", first_name="", last_name="")
    services.enrolment_join(learner=learner, track=module.track)
    certificate = services.progress_set_status(
        learner=learner, resource=resource, status="done"
    ).certificate
    body = client.get(certificate.get_absolute_url()).content.decode()
    assert "private.person" not in body
    assert "A Waymark learner" in body


def test_a_track_completed_by_a_curriculum_change_offers_its_certificate(client):
    module = ModuleFactory(track__slug="tiny", track__title="Tiny")
    done, last = ResourceFactory(module=module), ResourceFactory(module=module)
    learner = UserFactory()
    services.enrolment_join(learner=learner, track=module.track)
    services.progress_set_status(learner=learner, resource=done, status="done")
    client.force_login(learner)
    refused = client.post("/tracks/tiny/certificate", follow=True)
    assert "Tiny is not complete yet" in refused.content.decode()
    assert not Certificate.objects.exists()

    last.archived_at = datetime.now(UTC)  # the lead removed the one item left, as a reload does
    last.save()
    page = client.get("/tracks/tiny/").content.decode()
    assert "Get your certificate" in page
    response = client.post("/tracks/tiny/certificate")
    certificate = Certificate.objects.get(learner=learner)
    assert response.status_code == 302 and response["Location"] == certificate.get_absolute_url()


def test_a_track_without_capstones_shows_no_capstone_count(client):
    """fast.ai's track has none: "0 capstones passed" read as a shortfall."""
    resource = ResourceFactory(module=ModuleFactory(track__title="Practical DL"))
    learner = UserFactory()
    services.enrolment_join(learner=learner, track=resource.track)
    certificate = services.progress_set_status(
        learner=learner, resource=resource, status="done"
    ).certificate
    html = client.get(certificate.get_absolute_url()).content.decode()
    assert '<span class="stat">1</span> resource done' in html
    assert "capstone" not in html.lower().split("what was completed", 1)[1].split("</ul>", 1)[0]
