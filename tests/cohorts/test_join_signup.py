"""Someone without an account opens an invite, signs up, confirms their address and lands back
on the invite, where one click joins."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from cohorts import services
from tracker import permissions

pytestmark = pytest.mark.django_db


def test_sign_up_from_an_invite_comes_back_to_it(client, cohort, admin):
    invite = services.invite_create(by=admin, cohort=cohort)
    here = f"/join/{invite.code}/"
    page = client.get(here).content.decode()
    signup = re.search(r'href="(/accounts/signup/\?next=[^"]+)"', page).group(1)
    response = client.post(
        signup.replace("&amp;", "&"),
        {
            "email": "newcomer@example.com",
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
    assert response.status_code == 302 and response["Location"] == here
    assert "Join Spring cohort" in client.get(here).content.decode()
    client.post(here)
    from django.contrib.auth import get_user_model

    newcomer = get_user_model().objects.get(email="newcomer@example.com")
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
    assert f"/accounts/login/?next=%2Fjoin%2F{invite.code}%2F" in log_in


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
