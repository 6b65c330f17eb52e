"""Profile writes: display name, time zone, weekly-nudge preferences and whether cohort
leaderboards show the person by name."""

from __future__ import annotations

import zoneinfo

from django.db import transaction

from ..models import Profile, Weekday
from .progress import ServiceError, profile_get_or_create

__all__ = ["profile_update"]

DISPLAY_NAME_MAX = Profile._meta.get_field("display_name").max_length


@transaction.atomic
def profile_update(
    *,
    user,
    display_name: str,
    time_zone: str,
    nudge_enabled: bool,
    nudge_weekday: int,
    nudge_hour: int,
    show_on_leaderboards: bool | None = None,
) -> Profile:
    """Validate everything first, then save once: bad input changes nothing.
    `show_on_leaderboards` None leaves that choice as it is (sign-up, older callers)."""
    display_name = (display_name or "").strip()
    if len(display_name) > DISPLAY_NAME_MAX:
        raise ServiceError(
            f"The display name is too long ({len(display_name)} characters; "
            f"at most {DISPLAY_NAME_MAX})."
        )
    if time_zone not in zoneinfo.available_timezones():
        raise ServiceError(f"'{time_zone}' is not a known time zone (for example Europe/Berlin).")
    if nudge_weekday not in Weekday.values:
        raise ServiceError("The nudge weekday must be one of Monday to Sunday.")
    if not isinstance(nudge_hour, int) or not 0 <= nudge_hour <= 23:
        raise ServiceError("The nudge hour must be a whole hour from 0 to 23.")
    profile = profile_get_or_create(user=user)
    profile = Profile.objects.select_for_update().get(pk=profile.pk)
    profile.display_name = display_name
    profile.time_zone = time_zone
    profile.nudge_enabled = bool(nudge_enabled)
    profile.nudge_weekday = nudge_weekday
    profile.nudge_hour = nudge_hour
    fields = ["display_name", "time_zone", "nudge_enabled", "nudge_weekday", "nudge_hour"]
    if show_on_leaderboards is not None:
        profile.show_on_leaderboards = bool(show_on_leaderboards)
        fields.append("show_on_leaderboards")
    profile.save(update_fields=fields)
    user.profile = profile
    return profile
