"""The extra field on allauth's sign-up form: the name shown on certificates."""

from __future__ import annotations

import secrets

from django import forms
from django.contrib.auth.hashers import make_password

from ops.forms import StrictInputForm

from . import services


class SignupForm(StrictInputForm, forms.Form):
    display_name = forms.CharField(
        label="Display name",
        max_length=100,
        help_text="The name on your certificates (they are public); you can change it later.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def clean(self):
        """Signing up with an address that has an account answers as a new sign-up does
        (allauth emails that address instead), but it skipped hashing the password: about
        100 ms sooner, which told anyone timing it that the address has an account. Hash one
        here, so both take as long. (allauth's sign-up form is built on this class: its
        `clean_email` has set `account_already_exists` by now.)"""
        cleaned = super().clean()
        if getattr(self, "account_already_exists", False):
            make_password(secrets.token_urlsafe(16))
        return cleaned

    def signup(self, request, user) -> None:
        """Called by allauth once the user exists, inside its sign-up transaction."""
        profile = services.profile_get_or_create(user=user)
        services.profile_update(
            user=user,
            display_name=self.cleaned_data.get("display_name", ""),
            time_zone=profile.time_zone,
            nudge_enabled=profile.nudge_enabled,
            nudge_weekday=profile.nudge_weekday,
            nudge_hour=profile.nudge_hour,
        )
