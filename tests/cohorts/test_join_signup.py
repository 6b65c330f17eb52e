"""Someone without an account opens an invite, presses "Sign up to join", confirms their address
and lands in the cohort, joined; confirming in another browser leads back to the invite."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core import mail

from cohorts import services
from tracker import permissions

pytestmark = pytest.mark.django_db


def test_sign_up_from_an_invite_ends_in_the_cohort_joined(client, cohort, admin):
    invite = services.invite_create(by=admin, cohort=cohort)
    here = f"/join/{invite.code}/"
    assert "Sign up to join" in client.get(here).content.decode()
    response = client.post(here, {"account": "new"})
    signup = response["Location"]
    assert signup == f"/accounts/signup/?next=%2Fjoin%2F{invite.code}%2F"
    assert "you will then join Spring cohort" in client.get(signup).content.decode()
    email = f"newcomer-{uuid.uuid4().hex[:8]}@example.com"  # allauth limits mails per address
    response = client.post(
        signup,
        {
            "email": email,
            "display_name": "Newcomer",
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
        },
    )
    assert response.status_code == 302
    link = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+", mail.outbox[-1].body).group(
        0
    )
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.post("/" + path)
    assert response.status_code == 302 and response["Location"] == f"/cohorts/{cohort.slug}/home/"
    assert "Welcome to Spring cohort!" in client.get(response["Location"]).content.decode()
    from django.contrib.auth import get_user_model

    newcomer = get_user_model().objects.get(email=email)
    assert permissions.is_cohort_member(newcomer, cohort)


def test_confirming_in_another_browser_still_leads_back_to_the_invite(client, cohort, admin):
    from django.test import Client

    invite = services.invite_create(by=admin, cohort=cohort)
    here = f"/join/{invite.code}/"
    client.post(
        f"/accounts/signup/?next={here}",
        {
            "email": "phone@example.com",
            "display_name": "On the phone",
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
        },
    )
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[-1].body).group(0)
    assert link.endswith(f"?next=%2Fjoin%2F{invite.code}%2F")
    phone = Client()  # the mail app's browser: none of the sign-up's session
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    page = phone.get(path).content.decode()
    carried = re.search(r'<input type="hidden" name="next" value="([^"]+)"', page).group(1)
    assert carried == here
    response = phone.post(path.split("?", 1)[0], {"next": carried})
    assert response.status_code == 302 and response["Location"] == here
    log_in = phone.get(here).content.decode()
    assert "Log in to join" in log_in  # one press more there: that browser pressed nothing


def test_a_confirmation_link_never_carries_another_sites_address(client):
    client.post(
        "/accounts/signup/?next=https://evil.example.com/",
        {
            "email": "careful@example.com",
            "display_name": "Careful",
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
        },
    )
    assert "evil.example.com" not in mail.outbox[-1].body
