"""The nudge pages: the staff log, previews (one's own from the profile, anyone's for staff) and
the one-click unsubscribe link; and `send_nudges`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from nudges import emails, schedule, selectors, services
from nudges.models import DeliveryStatus, NudgeDelivery
from tests.factories import UserFactory

from .conftest import make_learner

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 9, 9, 0, 5, tzinfo=UTC)


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True)


def add_rows(learners, week="2026-W11", status=DeliveryStatus.SKIPPED, reason="Not enrolled."):
    sent = status == DeliveryStatus.SENT
    for learner in learners:
        NudgeDelivery.objects.create(
            learner=learner,
            week=week,
            due_at=NOW,
            status=status,
            reason=reason,
            sent_at=NOW if sent else None,
            message_id="<nudge.x@y>" if sent else "",
            created_at=NOW,
            updated_at=NOW,
        )


# --- the log --------------------------------------------------------------------------------


def test_only_staff_see_the_nudge_log(client, user, staff):
    url = reverse("nudges:log")
    assert client.get(url).status_code == 302  # log in first
    client.force_login(user)
    assert client.get(url).status_code == 403
    client.force_login(staff)
    assert client.get(url).status_code == 200


def test_the_log_shows_sent_skipped_and_failed_rows_and_filters_them(client, staff):
    sent, skipped, failed = make_learner(), make_learner(), make_learner()
    add_rows([sent], status=DeliveryStatus.SENT, reason="")
    add_rows([skipped], reason="Not enrolled in any track.")
    add_rows([failed], status=DeliveryStatus.FAILED, reason="Recipient refused: 550 No such user")
    add_rows([failed], week="2026-W10", status=DeliveryStatus.FAILED, reason="Older failure")
    client.force_login(staff)
    page = client.get(reverse("nudges:log")).content.decode()
    for text in (
        "Not enrolled in any track.",
        "Recipient refused: 550 No such user",
        "&lt;nudge.x@y&gt;",
    ):
        assert text in page
    only_failed = client.get(reverse("nudges:log"), {"status": "failed", "week": "2026-W11"})
    body = only_failed.content.decode()
    assert "Recipient refused" in body and "Older failure" not in body
    assert "Not enrolled" not in body and "1 row." in body
    by_email = client.get(reverse("nudges:log"), {"q": skipped.email}).content.decode()
    assert "Not enrolled in any track." in by_email and "Recipient refused" not in by_email
    bad = client.get(reverse("nudges:log"), {"week": "2026-W99"})
    assert bad.status_code == 400 and "2026 has no ISO week 99" in bad.content.decode()


def test_the_log_answers_an_htmx_filter_with_the_results_only(client, staff):
    add_rows([make_learner()])
    client.force_login(staff)
    response = client.get(reverse("nudges:log"), {"status": "skipped"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="log-results">') and "<html" not in body


def test_the_log_pages_at_fifty_rows(client, staff):
    add_rows([make_learner() for _ in range(55)])
    client.force_login(staff)
    first = client.get(reverse("nudges:log")).content.decode()
    assert "page 1 of 2" in first and "Next page" in first
    second = client.get(reverse("nudges:log"), {"page": 2}).content.decode()
    assert second.count("<tr>") == 1 + 5  # header row and five rows


def test_the_log_takes_the_same_queries_for_ten_times_the_rows(
    client, staff, django_assert_num_queries
):
    add_rows([make_learner() for _ in range(4)])
    client.force_login(staff)
    client.get(reverse("nudges:log"))  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("nudges:log"))
    add_rows([make_learner() for _ in range(36)])
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(reverse("nudges:log"))
    assert response.content.decode().count("<tr>") == 41


# --- previews -------------------------------------------------------------------------------


def test_a_learner_previews_their_own_nudge_from_the_profile(client, small_track):
    learner = make_learner(zone="Europe/Berlin", track=small_track)
    client.force_login(learner)
    profile = client.get(reverse("tracker:profile")).content.decode()
    assert reverse("nudges:preview_own") in profile and "Nudge log" not in profile
    page = client.get(reverse("nudges:preview_own")).content.decode()
    assert "Your weekly nudge" in page and "Europe/Berlin" in page
    assert "Item intro-video" in page and "Plain-text version" in page


def test_markup_in_names_and_titles_is_text_on_the_preview(client, staff, small_track):
    """The plain-text part was printed unescaped: a member's display name of
    `<b hx-post=/accounts/email/ ... hx-trigger=load>` ran as the previewing admin, added an
    address to their account and led to its takeover. Titles came through the same way."""
    from tracker import services as tracker_services

    payload = '<b hx-post=/accounts/email/ hx-trigger=load id="pwn">Ann</b>'
    learner = make_learner(track=small_track)
    profile = tracker_services.profile_get_or_create(user=learner)
    tracker_services.profile_update(
        user=learner,
        display_name=payload,
        time_zone=profile.time_zone,
        nudge_enabled=True,
        nudge_weekday=profile.nudge_weekday,
        nudge_hour=profile.nudge_hour,
    )
    small_track.resources.filter(slug="intro-video").update(title='<i id="pwn2">x</i>')
    from curriculum.structure import structure_changed

    structure_changed({small_track.pk})
    client.force_login(staff)
    page = client.get(reverse("nudges:preview", args=[learner.pk])).content.decode()
    plain = page[page.index('<pre class="nudge-text">') :].split("</pre>", 1)[0]
    assert "&lt;b hx-post=/accounts/email/" in plain and "&lt;i id=" in plain
    assert "<b hx-post" not in page and '<i id="pwn2">' not in page


@pytest.mark.parametrize(
    ("weekday", "hour", "says"),
    [
        (3, 9, "Not sent yet this week."),  # Thursday: still to come
        (2, 10, "It is on its way: it goes out with the sender's next run."),  # two hours ago
        (0, 9, "It was not sent: a nudge goes out at most 24 hours after its time"),  # Monday
    ],
)
def test_the_preview_says_where_this_weeks_nudge_is(client, small_track, weekday, hour, says):
    learner = make_learner(
        weekday=weekday, hour=hour, track=small_track, date_joined=datetime(2026, 11, 1, tzinfo=UTC)
    )
    client.force_login(learner)
    with time_machine.travel(datetime(2026, 11, 25, 12, tzinfo=UTC), tick=False):  # Wednesday
        page = client.get(reverse("nudges:preview_own")).content.decode()
    assert says.replace("'", "&#x27;") in page or says in page


def test_a_learner_who_joined_after_this_weeks_time_waits_for_next_weeks(client, small_track):
    """A new account read "It was not sent: ... Waymark's sender did not run", though nothing
    had failed: this week's time had passed before it existed."""
    learner = make_learner(
        weekday=0, hour=9, track=small_track, date_joined=datetime(2026, 11, 25, 8, tzinfo=UTC)
    )
    client.force_login(learner)
    with time_machine.travel(datetime(2026, 11, 25, 12, tzinfo=UTC), tick=False):  # Wednesday
        page = client.get(reverse("nudges:preview_own")).content.decode()
    assert "your first nudge goes out next week" in page and "was not sent" not in page


def test_a_learner_who_turned_nudges_off_reads_it_about_their_own_profile(client, small_track):
    from tracker import services as tracker_services

    learner = make_learner(track=small_track)
    profile = tracker_services.profile_get_or_create(user=learner)
    tracker_services.profile_update(
        user=learner,
        display_name=profile.display_name,
        time_zone=profile.time_zone,
        nudge_enabled=False,
        nudge_weekday=profile.nudge_weekday,
        nudge_hour=profile.nudge_hour,
    )
    client.force_login(learner)
    page = client.get(reverse("nudges:preview_own")).content.decode()
    assert "Weekly nudges are turned off in your profile." in page

    # This week's log entry says it too, to them, about their own profile.
    week = schedule.current_week(now=timezone.now(), zone=schedule.zone_or_utc(profile.time_zone))
    add_rows([learner], week=week, reason=selectors.SKIP_UNSUBSCRIBED)
    page = client.get(reverse("nudges:preview_own")).content.decode()
    assert "<strong>skipped</strong> (Weekly nudges are turned off in your profile.)" in page
    assert "their profile" not in page


def test_a_learner_with_nothing_enrolled_is_told_there_is_no_email(client):
    learner = make_learner()
    client.force_login(learner)
    page = client.get(reverse("nudges:preview_own")).content.decode()
    assert "No email this week:" in page and "Not enrolled in any track." in page
    assert "Not sent yet this week" not in page  # nothing will be: the card says why


@pytest.mark.parametrize("why", ["turned off", "bounced", "no address"])
def test_a_learner_who_gets_no_email_is_not_given_a_due_time(client, staff, small_track, why):
    """With nudges turned off, the address refused for good or no address at all, the preview
    said "Due Monday 30 Nov 2026, 09:00 UTC" above "No email this week: ..."."""
    learner = make_learner(track=small_track)
    if why == "turned off":
        learner.profile.nudge_enabled = False
        learner.profile.save(update_fields=["nudge_enabled"])
    elif why == "bounced":
        services.address_flag(email=learner.email, code=550, error="550 5.1.1 No such user")
    else:
        type(learner).objects.filter(pk=learner.pk).update(email="")
    for viewer in (learner, staff):
        client.force_login(viewer)
        page = client.get(reverse("nudges:preview", args=[learner.pk])).content.decode()
        assert "No email this week:" in page
        assert "Due " not in page
        assert "Nothing is due this week: no email goes out (the reason is below)." in page


def test_a_skipped_weeks_row_is_told_without_a_due_time(client, small_track):
    learner = make_learner(track=small_track)
    learner.profile.nudge_enabled = False
    learner.profile.save(update_fields=["nudge_enabled"])
    week = schedule.current_week(now=timezone.now(), zone=schedule.zone_or_utc("UTC"))
    add_rows([learner], week=week, reason=selectors.SKIP_UNSUBSCRIBED)
    client.force_login(learner)
    page = client.get(reverse("nudges:preview_own")).content.decode()
    assert "This week's nudge: <strong>skipped</strong>" in page
    assert "Due " not in page and "Nothing is due" not in page


def test_staff_preview_anyones_nudge_and_learners_nobody_elses(client, staff, small_track):
    learner, other = make_learner(track=small_track), make_learner(track=small_track)
    url = reverse("nudges:preview", kwargs={"learner_id": learner.pk})
    client.force_login(other)
    # 404, as for an id nobody has: nobody learns whether an account exists.
    assert client.get(url).status_code == 404
    assert client.get(reverse("nudges:preview", kwargs={"learner_id": 999_999})).status_code == 404
    client.force_login(learner)
    assert client.get(url).status_code == 200  # their own, by id too
    client.force_login(staff)
    page = client.get(url).content.decode()
    assert f"Weekly nudge for {learner.email}" in page and "Item intro-video" in page
    missing = reverse("nudges:preview", kwargs={"learner_id": 999_999})
    assert client.get(missing).status_code == 404
    staff_profile = client.get(reverse("tracker:profile")).content.decode()
    assert reverse("nudges:log") in staff_profile


def test_the_preview_runs_a_fixed_number_of_queries(
    client, small_track, django_assert_max_num_queries
):
    learner = make_learner(track=small_track)
    client.force_login(learner)
    client.get(reverse("nudges:preview_own"))
    with django_assert_max_num_queries(30):
        client.get(reverse("nudges:preview_own"))


# --- unsubscribe ----------------------------------------------------------------------------


def unsubscribe_path(learner) -> str:
    return reverse("nudges:unsubscribe", kwargs={"token": emails.unsubscribe_token(learner.pk)})


def test_opening_the_unsubscribe_link_changes_nothing_until_the_button(small_track):
    learner = make_learner(track=small_track)
    browser = Client(enforce_csrf_checks=True)  # not logged in
    page = browser.get(unsubscribe_path(learner))
    assert page.status_code == 200 and "Stop weekly nudge emails" in page.content.decode()
    learner.profile.refresh_from_db()
    assert learner.profile.nudge_enabled
    done = browser.post(unsubscribe_path(learner), {"action": "unsubscribe"})
    assert "you will get no more weekly nudges" in done.content.decode()
    learner.profile.refresh_from_db()
    assert not learner.profile.nudge_enabled
    back = browser.post(unsubscribe_path(learner), {"action": "resubscribe"})
    assert "Weekly nudges are back on." in back.content.decode()
    learner.profile.refresh_from_db()
    assert learner.profile.nudge_enabled


def test_one_click_unsubscribe_works_without_a_session_or_csrf_token_for_that_learner_only():
    learner, other = make_learner(), make_learner()
    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(
        unsubscribe_path(learner),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    learner.profile.refresh_from_db()
    other.profile.refresh_from_db()
    assert not learner.profile.nudge_enabled and other.profile.nudge_enabled


@pytest.mark.parametrize("token", ["1:forged", "not-a-token", "1"])
def test_a_forged_or_damaged_token_changes_nothing(client, token):
    learner = make_learner()
    response = client.post(
        reverse("nudges:unsubscribe", kwargs={"token": token}),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 404
    learner.profile.refresh_from_db()
    assert learner.profile.nudge_enabled


def test_a_token_for_one_learner_cannot_be_turned_into_another():
    learner = make_learner()
    token = emails.unsubscribe_token(learner.pk)
    _, signature = token.split(":", 1)
    assert emails.learner_from_token(f"{learner.pk + 1}:{signature}") is None


# --- send_nudges ----------------------------------------------------------------------------


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("send_nudges", *args, stdout=out)
    return out.getvalue()


def test_dry_run_prints_who_would_get_what_and_writes_nothing(small_track, mailoutbox):
    learner = make_learner(weekday=0, hour=9, track=small_track)
    idle = make_learner(weekday=0, hour=9)
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        output = run("--dry-run", "--week", "2026-W11")
    assert f"{learner.email} 2026-W11: would send “Next up: Item intro-video”" in output
    assert f"{idle.email} 2026-W11: would skip: Not enrolled in any track." in output
    assert "1 email(s) would be sent; nothing was written" in output
    assert NudgeDelivery.objects.count() == 0 and mailoutbox == []


def test_send_nudges_for_a_week_sends_once(small_track, mailoutbox):
    learner = make_learner(weekday=0, hour=9, track=small_track)
    not_yet = make_learner(weekday=4, hour=9, track=small_track)  # Friday: not due on Monday
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        first = run("--week", "2026-W11")
        second = run("--week", "2026-W11")
    assert "Sent 1," in first and "Sent 0," in second
    assert [m.to for m in mailoutbox] == [[learner.email]]
    assert not NudgeDelivery.objects.filter(learner=not_yet).exists()


def test_send_nudges_for_one_user_sends_now_whatever_their_hour(small_track, mailoutbox):
    learner = make_learner(weekday=4, hour=18, track=small_track)
    with time_machine.travel(NOW, tick=False):
        output = run("--user", learner.email.upper())
        again = run("--user", learner.email)
    assert "Sent 1," in output and len(mailoutbox) == 1
    assert f"Learner {learner.pk} 2026-W11: already sent." in again and "Sent 0," in again
    assert mailoutbox[0].extra_headers["Message-ID"] == f"<nudge.2026-W11.{learner.pk}@127.0.0.1>"


def test_send_nudges_without_options_is_the_dispatcher_run(small_track, mailoutbox):
    learner = make_learner(weekday=0, hour=9, track=small_track)
    with time_machine.travel(NOW, tick=False):
        output = run()
    assert "Sent 1," in output and mailoutbox[0].to == [learner.email]
    assert selectors.week_counts(week="2026-W11")["sent"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2026-05"], "'2026-05' is not an ISO week; write it as YYYY-Www"),
        (["--week", "2025-W53"], "2025 has no ISO week 53"),
        (["--user", "nobody@example.com"], "No account has the email address 'nobody@example.com'"),
    ],
)
def test_send_nudges_names_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert NudgeDelivery.objects.count() == 0


def test_services_refuse_a_bad_week():
    with pytest.raises(services.schedule.BadWeek):
        services.nudge_send_chunk(learner_ids=[1], week="2026-W54")


def test_without_a_plan_the_email_does_not_call_the_hints_your_own_plan(client, small_track):
    from tracker import services as tracker_services

    learner = make_learner(track=small_track)
    client.force_login(learner)
    page = client.get(reverse("nudges:preview_own")).content.decode()
    assert "Your pace (no plan of your own yet): projected finish" in page
    assert "the suggested schedule ends" in page and "Your own plan" not in page
    tracker_services.pace_plan_set(
        learner=learner,
        track=small_track,
        hours_per_week="3",
        target_date=None,
        today=timezone.localdate(),
    )
    assert "Your own plan: projected finish" in (
        client.get(reverse("nudges:preview_own")).content.decode()
    )


def test_the_preview_gives_the_due_time_on_the_learners_own_clock(client, staff, small_track):
    """An Auckland learner whose nudge goes out on Sunday at 08:00 read "Due Saturday 28 Nov
    2026, 19:00 UTC (Pacific/Auckland: your weekday and hour, in your time zone)": the time was
    the server's, the sentence the learner's."""
    learner = make_learner(
        zone="Pacific/Auckland",
        weekday=6,
        hour=8,
        track=small_track,
        date_joined=datetime(2026, 11, 1, tzinfo=UTC),
    )
    with time_machine.travel(datetime(2026, 11, 28, 14, tzinfo=UTC), tick=False):
        for viewer in (learner, staff):
            client.force_login(viewer)
            page = client.get(reverse("nudges:preview", args=[learner.pk])).content.decode()
            assert "Due Sunday 29 Nov 2026, 08:00 NZDT (Pacific/Auckland:" in page
            assert "19:00" not in page


def test_a_learner_whose_address_bounced_is_told_how_to_get_nudges_again(client, small_track):
    """The preview said only "Your address was refused for good (550): nothing more is sent
    to it", with nothing the learner could do about it (a new primary address is the way)."""
    learner = make_learner(track=small_track)
    services.address_flag(email=learner.email, code=550, error="550 5.1.1 No such user")
    client.force_login(learner)
    page = client.get(reverse("nudges:preview_own")).content.decode()
    assert "Your address was refused for good (550)" in page
    assert f'<a href="{reverse("account_email")}">Make another address your primary one</a>' in page


def test_only_the_learner_s_own_preview_carries_their_unsubscribe_link(client, staff, small_track):
    """Staff (and a cohort admin, through the same view) previewing someone's nudge got the
    learner's signed "Stop these emails" link: one click turned their nudges off."""
    learner = make_learner(track=small_track)
    token = emails.unsubscribe_token(learner.pk)

    client.force_login(staff)
    page = client.get(reverse("nudges:preview", args=[learner.pk])).content.decode()
    assert "Open your dashboard" in page  # the email is shown
    assert token not in page
    assert "Stop these emails (a link only the learner's own copy carries)</p>" in page

    client.force_login(learner)
    own = client.get(reverse("nudges:preview_own")).content.decode()
    assert token in own
