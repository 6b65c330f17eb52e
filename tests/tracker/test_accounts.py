"""Accounts through django-allauth: sign-up with a display name, email log-in, log-out,
password change and reset by email, and CSRF on every write (HTMX included)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import ResourceFactory, UserFactory
from tracker.models import Profile

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def test_sign_up_with_a_display_name_confirms_the_address_and_lands_on_the_dashboard(
    client, mailoutbox
):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "ada@example.com",
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
            "display_name": "Ada L.",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/accounts/confirm-email/"
    user = get_user_model().objects.get(email="ada@example.com")
    assert Profile.objects.get(user=user).display_name == "Ada L."
    assert client.get("/me/").status_code == 302  # not logged in before confirming

    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mailoutbox[0].body).group(0)
    confirm_path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert client.get(confirm_path).status_code == 200
    confirm_page = client.get(confirm_path).content.decode()
    done = client.post(confirm_path, follow=True)
    assert done.redirect_chain[-1][0] == "/me/"
    assert "Ada L." in done.content.decode()
    # allauth names the account by the name Ada chose, never the username made up for her.
    assert "for user Ada L.." in confirm_page and f"for user {user.username}." not in confirm_page
    assert "Successfully signed in as Ada L." in done.content.decode()
    assert "user Ada L. has given" in mailoutbox[0].body


def test_sign_up_with_bad_input_says_what_and_creates_nobody(client):
    response = client.post(
        "/accounts/signup/", {"email": "not-an-email", "password1": "short", "password2": "other"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid email address" in body
    assert not get_user_model().objects.exists()


def test_log_in_by_email_and_log_out(client):
    user = UserFactory(email="grace@example.com")
    response = client.post("/accounts/login/", {"login": "grace@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/me/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/me/").status_code == 302
    assert user.is_active


def test_wrong_password_is_refused_with_a_message(client):
    UserFactory(email="grace@example.com")
    response = client.post("/accounts/login/", {"login": "grace@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()


def test_password_reset_sends_an_email_with_a_working_link(client, mailoutbox):
    user = UserFactory(email="linus@example.com")
    client.post("/accounts/password/reset/", {"email": "linus@example.com"})
    assert len(mailoutbox) == 1
    link = re.search(
        r"https?://[^\s]+/accounts/password/reset/key/[^\s]+", mailoutbox[0].body
    ).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else "/" + path
    done = client.post(
        form_url, {"password1": "brand-New-Secret-77", "password2": "brand-New-Secret-77"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-New-Secret-77")


def test_password_change(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        "/accounts/password/change/",
        {
            "oldpassword": PASSWORD,
            "password1": "another-Secret-99",
            "password2": "another-Secret-99",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-Secret-99")


def test_learner_pages_need_log_in(client):
    for url in ["/me/", "/me/revisit/", "/me/progress/", "/me/profile/", "/me/export.json"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(
            "/accounts/login/"
        ), url


def test_htmx_writes_without_the_csrf_token_are_refused():
    resource = ResourceFactory()
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    url = f"/tracks/{resource.track.slug}/items/{resource.slug}/status"
    response = client.post(url, {"status": "done"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    # The token from the page's <body hx-headers> is what htmx sends.
    page = client.get(f"/tracks/{resource.track.slug}/").content.decode()
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page).group(1)
    client.post(f"/tracks/{resource.track.slug}/enrol", HTTP_X_CSRFTOKEN=token)
    ok = client.post(url, {"status": "done"}, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 200


def test_sign_up_needs_the_name_for_certificates(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "x@example.com",
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
        },
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not get_user_model().objects.exists()


def test_staff_reach_the_admin_by_logging_in_with_their_email(client):
    UserFactory(email="sam@example.com", is_staff=True, is_superuser=True)
    response = client.get("/admin/", follow=True)
    login_url = response.redirect_chain[-1][0]
    assert login_url.startswith("/accounts/login/")
    done = client.post(login_url, {"login": "sam@example.com", "password": PASSWORD}, follow=True)
    assert done.redirect_chain[-1][0] == "/admin/"
    assert "Waymark administration" in done.content.decode()
