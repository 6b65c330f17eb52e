"""Sign-up, log-in and password reset answer the same whether or not an address has an
account. Sign-up needs mandatory email verification for that: a known address gets an email
("you already have an account") instead of an error on the page."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
KNOWN = "known@example.com"
UNKNOWN = "nobody@example.com"


def page_text(response, email: str) -> str:
    """The visible answer, with what legitimately differs (tokens, the typed address) blanked."""
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    text = re.sub(r'"X-CSRFToken": "[^"]+"', "", text)
    return text.replace(email, "EMAIL")


def answer(url: str, data: dict, email: str):
    client = Client(REMOTE_ADDR="192.0.2.200")
    response = client.post(url, data, follow=True)
    return response.status_code, response.redirect_chain, page_text(response, email)


@pytest.fixture
def known():
    return UserFactory(email=KNOWN)


def test_sign_up_answers_the_same_for_a_known_address(known, mailoutbox):
    def sign_up(email):
        data = {
            "email": email,
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
            "display_name": "Someone",
        }
        return answer("/accounts/signup/", data, email)

    assert sign_up(KNOWN) == sign_up(UNKNOWN)
    assert get_user_model().objects.filter(email=KNOWN).count() == 1
    # Each address got one email: a confirmation link, or "you already have an account".
    assert sorted(m.to[0] for m in mailoutbox) == [KNOWN, UNKNOWN]
    to_known = next(m for m in mailoutbox if m.to == [KNOWN])
    assert "already" in to_known.body.lower()


class CountingHasher(MD5PasswordHasher):
    """The tests' fast hasher, counting how often a password is hashed."""

    hashed = 0

    def encode(self, password, salt):
        CountingHasher.hashed += 1
        return super().encode(password, salt)


def test_sign_up_takes_as_long_for_a_known_address(known, settings, mailoutbox):
    """A known address skipped hashing the password: answered about 100 ms sooner, which told
    anyone timing sign-ups that the address has an account. Both hash once now."""
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    counts = []
    for email in (KNOWN, UNKNOWN):
        CountingHasher.hashed = 0
        Client(REMOTE_ADDR="192.0.2.201").post(
            "/accounts/signup/",
            {
                "email": email,
                "password1": "a-long-Passphrase-42",
                "password2": "a-long-Passphrase-42",
                "display_name": "Someone",
            },
        )
        counts.append(CountingHasher.hashed)
    assert counts[0] == counts[1] >= 1


def test_log_in_answers_the_same_for_an_unknown_address_and_a_wrong_password(known):
    def log_in(email):
        return answer("/accounts/login/", {"login": email, "password": "wrong guess"}, email)

    status, chain, text = log_in(KNOWN)
    assert (status, chain, text) == log_in(UNKNOWN)
    assert "not correct" in text


def test_password_reset_answers_the_same_for_an_unknown_address(known, mailoutbox):
    def reset(email):
        return answer("/accounts/password/reset/", {"email": email}, email)

    assert reset(KNOWN) == reset(UNKNOWN)
    assert sorted(m.to[0] for m in mailoutbox) == [KNOWN, UNKNOWN]
    assert "/accounts/password/reset/key/" in next(m for m in mailoutbox if m.to == [KNOWN]).body
    assert (
        "/accounts/password/reset/key/" not in next(m for m in mailoutbox if m.to == [UNKNOWN]).body
    )


def test_an_unconfirmed_address_logs_in_only_after_confirming(client, mailoutbox):
    learner = UserFactory(email="new@example.com", email_verified=False)
    response = client.post(
        "/accounts/login/",
        {"login": learner.email, "password": "correct horse battery staple"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/accounts/confirm-email/"
    assert client.get("/me/").status_code == 302
    assert "/accounts/confirm-email/" in mailoutbox[-1].body
