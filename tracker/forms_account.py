"""The extra field on allauth's sign-up form: the name shown on certificates."""

from __future__ import annotations

from django import forms

from ops.forms import StrictInputForm

from . import services


class SignupForm(StrictInputForm, forms.Form):
    display_name = forms.CharField(
        label="Display name",
        max_length=100,
        help_text="The name on your certificates (they are public); you can change it later.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

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
