"""Waymark's allauth adapter: three changes to allauth's behaviour.

Signing up with an address that has an account answers as a new sign-up does (allauth sends
that address a note instead), but it skipped hashing the password: about 100 ms faster, which
told anyone timing it that the address has an account. It hashes one now, so both take as long.

An email address longer than the column that keeps it (254 characters) is refused with a
message; allauth's field has no limit of its own, so the address was cut short on SQLite and
failed to save on PostgreSQL.

The confirmation link in the sign-up email carries where the person was going (`next`, such
as a cohort invite's `/join/<code>/`). The link is often opened in another browser (a phone's
mail app), where the sign-up's session is not: without it, confirming there lost the invite.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from ops.safety import same_site_path


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        limit = app_settings.EMAIL_MAX_LENGTH
        if len(email) > limit:
            raise forms.ValidationError(
                f"An email address can be at most {limit} characters (this one has {len(email)})."
            )
        taken = (
            EmailAddress.objects.filter(email__iexact=email).exists()
            or get_user_model().objects.filter(email__iexact=email).exists()
        )
        if taken:
            make_password(secrets.token_urlsafe(16))  # the time a new account's password takes
        return super().clean_email(email)

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        url = super().get_email_confirmation_url(request, emailconfirmation)
        if request is None:
            return url
        going_to = request.POST.get("next") or request.GET.get("next") or ""
        if going_to and same_site_path(request, going_to):
            return f"{url}?{urlencode({'next': going_to})}"
        return url
