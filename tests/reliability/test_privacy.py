"""Private means private: note bodies appear on no staff screen, and every answer to a
signed-in person is `Cache-Control: private, no-store`."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import CapstoneFactory, ResourceFactory, UserFactory
from tracker import services

pytestmark = pytest.mark.django_db
SECRET = "my-private-thought-4d1e"


@pytest.fixture
def learner_with_a_note():
    learner = UserFactory()
    resource = ResourceFactory()
    services.enrolment_join(learner=learner, track=resource.track)
    services.note_save(learner=learner, resource=resource, body=f"**{SECRET}** about this")
    services.note_set_revisit(learner=learner, resource=resource, revisit=True)
    services.progress_set_status(learner=learner, resource=resource, status="done")
    return learner, resource


def admin_pages():
    """Every admin changelist, and the change and history page of every row."""
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        yield reverse("admin:{}_{}_changelist".format(*info))
        for obj in model._default_manager.all()[:20]:
            for view in ("change", "history"):
                yield reverse("admin:{}_{}_{}".format(*info, view), args=[obj.pk])


def test_no_staff_screen_shows_a_note_body(client, learner_with_a_note):
    learner, _ = learner_with_a_note
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    pages = list(admin_pages())
    assert any("resourcenote" in url for url in pages)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), url
    # Deleting the learner lists what goes with them: still no body.
    delete = reverse("admin:auth_user_delete", args=[learner.pk])
    assert SECRET not in client.get(delete).content.decode()
    # A search by the note's words finds nothing (the body is not searchable).
    changelist = reverse("admin:tracker_resourcenote_changelist")
    assert "0 results" in client.get(changelist, {"q": SECRET}).content.decode()


def test_the_writer_still_sees_their_note(client, learner_with_a_note):
    learner, resource = learner_with_a_note
    client.force_login(learner)
    assert SECRET in client.get(resource.track.get_absolute_url()).content.decode()
    assert SECRET in client.get("/me/export.json").content.decode()


def learner_pages(learner, resource) -> list[str]:
    slug = resource.track.slug
    capstone = CapstoneFactory(module=resource.module)
    return [
        "/",
        "/me/",
        "/me/revisit/",
        "/me/progress/",
        "/me/profile/",
        "/me/export.json",
        "/me/export.csv",
        f"/tracks/{slug}/",
        f"/tracks/{slug}/items/{resource.slug}/note",
        f"/tracks/{slug}/plan/",
        f"/tracks/{slug}/plan.ics",
        f"/tracks/{slug}/capstones/{capstone.slug}/",
        "/accounts/password/change/",
        "/accounts/email/",
        "/healthz",
    ]


def test_every_page_for_a_signed_in_person_is_private_and_not_stored(client, learner_with_a_note):
    learner, resource = learner_with_a_note
    client.force_login(learner)
    for url in learner_pages(learner, resource):
        response = client.get(url)
        assert response.status_code == 200, url
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives, (url, response["Cache-Control"])


def test_htmx_fragments_and_redirects_are_private_too(client, learner_with_a_note):
    learner, resource = learner_with_a_note
    client.force_login(learner)
    url = f"/tracks/{resource.track.slug}/items/{resource.slug}/status"
    fragment = client.post(url, {"status": "in_progress"}, HTTP_HX_REQUEST="true")
    redirect = client.post(url, {"status": "done"})
    for response in (fragment, redirect):
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_public_pages_for_anonymous_visitors_stay_cacheable(client):
    resource = ResourceFactory()
    for url in ["/", resource.track.get_absolute_url()]:
        assert "no-store" not in client.get(url).get("Cache-Control", "")
