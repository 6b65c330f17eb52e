"""The XSS corpus in a real browser: every Markdown field holds every payload, and the pages
that show them (track page, note editor, capstone page, the admin's review screen) are opened
in headless Chromium with JavaScript on. No dialog may open, no payload may set
`window.__xss`, no hx-* attribute may act (one would log the reader out), and no request may
leave the site. (The CSP forbids inline script as a second line of defence.)"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings
from django.test import Client

from curriculum.loader import load_paths
from curriculum.models import Capstone, Resource
from tests.factories import UserFactory
from tests.reliability.xss_corpus import PAYLOADS
from tracker import services
from tracker.models import CapstoneSubmission

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ALL = "\n\n".join(PAYLOADS)


def hostile_track(tmp_path: Path) -> None:
    document = {
        "track": {
            "slug": "hostile",
            "title": "Hostile",
            "summary": ALL,
            "prerequisites": ALL,
            "modules": [
                {
                    "slug": "m",
                    "title": "M",
                    "summary": ALL,
                    "resources": [
                        {
                            "slug": "r",
                            "title": "R",
                            "kind": "video",
                            "url": "https://example.com/v",
                            "notes": ALL,
                        }
                    ],
                    "capstones": [{"slug": "c", "title": "C", "brief": ALL, "review": "lead"}],
                }
            ],
        }
    }
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    load_paths([str(path)])


def log_in(context, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def test_no_payload_runs_or_calls_out(live_server, browser, tmp_path):
    hostile_track(tmp_path)
    resource = Resource.objects.get(slug="r")
    capstone = Capstone.objects.get(slug="c")
    learner = UserFactory()
    staff = UserFactory(is_staff=True, is_superuser=True)
    services.enrolment_join(learner=learner, track=resource.track)
    services.note_save(learner=learner, resource=resource, body=ALL)
    services.capstone_submit(
        learner=learner,
        capstone=capstone,
        title="<img src=x onerror=alert(1)>",
        link="https://example.com/work",
        writeup=ALL,
        constraints_met=[],
    )
    submission = CapstoneSubmission.objects.get(learner=learner)
    services.capstone_review(
        reviewer=staff,
        submission=submission,
        decision="changes_requested",
        comments=ALL,
        via="review_page",
    )

    site = urlsplit(live_server.url).netloc
    dialogs: list[str] = []
    left_the_site: list[str] = []

    def visit(user, paths: list[str]) -> None:
        context = browser.new_context()
        context.set_default_timeout(10_000)

        def guard(route):
            url = route.request.url
            if url.startswith("data:") or urlsplit(url).netloc == site:
                route.continue_()
            else:
                left_the_site.append(url)
                route.abort()

        context.route("**/*", guard)
        log_in(context, live_server, user)
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        for path in paths:
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
            page.wait_for_load_state("networkidle")
            # hx-get="/accounts/logout/" with hx-trigger="load" would have logged us out.
            assert urlsplit(page.url).path == path, f"{path} ended at {page.url}"
            assert page.get_by_role("button", name="Log out").count() >= 1, path
            assert page.evaluate("window.__xss") is None, path
        context.close()

    visit(
        learner,
        [
            "/tracks/hostile/",
            "/tracks/hostile/items/r/note",
            "/tracks/hostile/capstones/c/",
            "/me/",
        ],
    )
    review = submission.reviews.get()
    visit(
        staff,
        [
            f"/admin/tracker/capstonesubmission/{submission.pk}/change/",
            f"/admin/tracker/capstonereview/{review.pk}/change/",
            f"/lead/reviews/{submission.pk}/",
        ],
    )

    assert dialogs == []
    assert left_the_site == []
