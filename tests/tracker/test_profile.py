import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tracker import services
from tracker.models import Profile

pytestmark = pytest.mark.django_db

GOOD = {
    "display_name": "Ada L.",
    "time_zone": "Europe/Berlin",
    "nudge_enabled": "on",
    "nudge_weekday": "4",
    "nudge_hour": "18",
}


def saved(user) -> tuple:
    profile = Profile.objects.get(user=user)
    return (
        profile.display_name,
        profile.time_zone,
        profile.nudge_enabled,
        profile.nudge_weekday,
        profile.nudge_hour,
    )


def test_profile_needs_login(client):
    response = client.get("/me/profile/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_profile_page_shows_the_current_values_and_account_links(client, user):
    services.profile_get_or_create(user=user)
    client.force_login(user)
    body = client.get("/me/profile/").content.decode()
    assert 'value="UTC"' in body and 'list="time-zones"' in body
    assert '<option value="Europe/Berlin">' in body  # a suggestion in the datalist
    assert 'href="/accounts/password/change/"' in body and 'href="/accounts/email/"' in body
    assert 'href="/me/export.json"' in body and 'href="/me/export.csv"' in body
    for label in (
        "Display name",
        "Time zone",
        "Send me a weekly nudge email",
        "Nudge day",
        "Nudge hour",
    ):
        assert label in body


def test_saving_the_profile_redirects_with_a_message(client, user):
    client.force_login(user)
    response = client.post("/me/profile/", GOOD, follow=True)
    body = response.content.decode()
    assert response.redirect_chain == [("/me/profile/", 302)]
    assert "Your profile is saved." in body
    assert "Ada L." in body  # also in the header
    assert saved(user) == ("Ada L.", "Europe/Berlin", True, 4, 18)

    client.post("/me/profile/", {**GOOD, "nudge_enabled": ""})
    assert saved(user)[2] is False


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("time_zone", "Mars/Olympus_Mons", "is not a known time zone"),
        ("time_zone", "localtime", "is not a known time zone"),  # the server's, not a place
        ("time_zone", "Factory", "is not a known time zone"),
        ("nudge_hour", "24", "Select a valid choice"),
        ("nudge_weekday", "7", "Select a valid choice"),
        ("display_name", "x" * 101, "at most 100 characters"),
    ],
)
def test_bad_values_show_field_errors_and_save_nothing(client, user, field, value, error):
    services.profile_get_or_create(user=user)
    client.force_login(user)
    before = saved(user)
    response = client.post("/me/profile/", {**GOOD, field: value})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert saved(user) == before


def test_a_time_zone_typed_in_lower_case_is_saved_as_spelled(client, user):
    services.profile_get_or_create(user=user)
    client.force_login(user)
    response = client.post("/me/profile/", {**GOOD, "time_zone": " europe/berlin "})
    assert response.status_code == 302
    assert saved(user)[1] == "Europe/Berlin"


def test_the_service_refuses_bad_values_on_its_own(user):
    services.profile_get_or_create(user=user)
    before = saved(user)
    good = {
        "display_name": "A",
        "time_zone": "UTC",
        "nudge_enabled": True,
        "nudge_weekday": 0,
        "nudge_hour": 9,
    }
    for bad, message in [
        ({"time_zone": "Nowhere/Special"}, "not a known time zone"),
        ({"nudge_weekday": 9}, "Monday to Sunday"),
        ({"nudge_hour": -1}, "0 to 23"),
        ({"display_name": "y" * 101}, "too long"),
    ]:
        with pytest.raises(services.ServiceError, match=message):
            services.profile_update(user=user, **{**good, **bad})
    assert saved(user) == before


def test_profile_page_query_count_is_small_and_fixed(client, user):
    services.profile_get_or_create(user=user)
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        client.get("/me/profile/")
    assert len(queries) <= 4


def leaderboard_box_ticked(body: str) -> bool:
    box = re.search(r'<input[^>]*name="show_on_leaderboards"[^>]*>', body)
    assert box, "no leaderboard checkbox on the page"
    return " checked" in box.group(0)


def test_the_leaderboard_choice_is_shown_saved_and_kept_by_other_callers(client, user):
    services.profile_get_or_create(user=user)
    client.force_login(user)
    body = client.get("/me/profile/").content.decode()
    assert "Show my name on cohort leaderboards" in body
    assert leaderboard_box_ticked(body)

    response = client.post("/me/profile/", GOOD)  # the box left unticked
    assert response.status_code == 302
    assert Profile.objects.get(user=user).show_on_leaderboards is False
    body = client.get("/me/profile/").content.decode()
    assert not leaderboard_box_ticked(body)

    # A caller that does not name the choice (sign-up, the demo) leaves it as it is.
    services.profile_update(
        user=user,
        display_name="Ada",
        time_zone="UTC",
        nudge_enabled=True,
        nudge_weekday=0,
        nudge_hour=9,
    )
    assert Profile.objects.get(user=user).show_on_leaderboards is False
    client.post("/me/profile/", {**GOOD, "show_on_leaderboards": "on"})
    assert Profile.objects.get(user=user).show_on_leaderboards is True
