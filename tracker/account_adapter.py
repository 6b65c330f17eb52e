"""Waymark's allauth adapter: three changes to allauth's behaviour.

An email address longer than the column that keeps it (254 characters) is refused with a
message; allauth's field has no limit of its own, so the address was cut short on SQLite and
failed to save on PostgreSQL.

The confirmation link in the sign-up email carries where the person was going (`next`, such
as a cohort invite's `/join/<code>/`). The link is often opened in another browser (a phone's
mail app), where the sign-up's session is not: without it, confirming there lost the invite.

A log-in that goes back to a track page where the visitor pressed "Log in to enrol" (or "Sign
up and enrol") enrols them there, and one that goes back to a cohort invite where they pressed
"Log in to join" (or "Sign up to join") joins them (tracker/enrol_intent.py).
"""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from django import forms

from ops.safety import same_site_path

from . import enrol_intent


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        limit = app_settings.EMAIL_MAX_LENGTH
        if len(email) > limit:
            raise forms.ValidationError(
                f"An email address can be at most {limit} characters (this one has {len(email)})."
            )
        return super().clean_email(email)

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        url = super().get_email_confirmation_url(request, emailconfirmation)
        if request is None:
            return url
        going_to = request.POST.get("next") or request.GET.get("next") or ""
        if going_to and same_site_path(request, going_to):
            return f"{url}?{urlencode({'next': going_to})}"
        return url

    def post_login(self, request, user, **kwargs):
        response = super().post_login(request, user, **kwargs)
        return enrol_intent.carry_out(request, user=user, response=response)
