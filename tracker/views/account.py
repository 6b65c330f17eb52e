"""The learner's profile (/me/profile/): display name, time zone and weekly-nudge preferences,
with links to password and email management and to the data export."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from ops.forms import StrictInputForm

from .. import services
from ..models import Profile, Weekday, time_zone_named

# Offered in the time zone field's suggestions; any IANA name is accepted.
COMMON_TIME_ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Madrid",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Rome",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Kyiv",
    "Europe/Istanbul",
    "Europe/Moscow",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Nairobi",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "America/Bogota",
    "America/Mexico_City",
    "America/New_York",
    "America/Toronto",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
]


class ProfileForm(StrictInputForm, forms.Form):
    display_name = forms.CharField(
        label="Display name",
        required=False,
        max_length=Profile._meta.get_field("display_name").max_length,
        help_text="Shown on your certificates, which are public. Left empty, they say "
        "“A Waymark learner” (your email address is never shown to others).",
    )
    time_zone = forms.CharField(
        label="Time zone",
        max_length=64,
        help_text="An IANA time zone name such as Europe/Berlin. "
        "Weeks, streaks and nudges follow it.",
        widget=forms.TextInput(
            attrs={"list": "time-zones", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    nudge_enabled = forms.BooleanField(label="Send me a weekly nudge email", required=False)
    nudge_weekday = forms.TypedChoiceField(label="Nudge day", choices=Weekday.choices, coerce=int)
    nudge_hour = forms.TypedChoiceField(
        label="Nudge hour",
        coerce=int,
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        help_text="In your time zone.",
    )
    show_on_leaderboards = forms.BooleanField(
        label="Show my name on cohort leaderboards",
        required=False,
        help_text="Off: cohort leaderboards list you as an anonymous member (your cohort's "
        "admins still see your progress).",
    )

    def clean_time_zone(self):
        value = self.cleaned_data["time_zone"].strip()
        named = time_zone_named(value)
        if named is None:
            raise forms.ValidationError(
                f"'{value}' is not a known time zone (for example Europe/Berlin)."
            )
        return named


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    current = services.profile_get_or_create(user=request.user)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                services.profile_update(user=request.user, **form.cleaned_data)
            except services.ServiceError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "Your profile is saved.")
                return redirect(reverse("tracker:profile"))
    else:
        form = ProfileForm(
            initial={
                "display_name": current.display_name,
                "time_zone": current.time_zone,
                "nudge_enabled": current.nudge_enabled,
                "nudge_weekday": current.nudge_weekday,
                "nudge_hour": current.nudge_hour,
                "show_on_leaderboards": current.show_on_leaderboards,
            }
        )
    return render(
        request,
        "tracker/profile.html",
        {"form": form, "profile": current, "time_zones": COMMON_TIME_ZONES},
        status=400 if form.errors else 200,
    )
