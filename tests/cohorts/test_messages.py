"""Messaging members: the once-a-day limit, personalised emails through the nudges' outbox and
mailer, bounced addresses skipped, the compose page with its preview, and the log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from cohorts.models import CohortMessage, CohortMessageDelivery
from cohorts.services import messages as services
from nudges.models import BouncedAddress, DeliveryStatus
from tests.factories import UserFactory, cohort_member, cohort_with_tracks
from tests.nudges.conftest import closed_broker_url, hung_broker_url, wait_for  # noqa: F401
from tracker.services import NotAllowed

from .dashboard_world import build_track


@pytest.fixture
def world(db):
    track, built = build_track(modules=2, resources=1, title="Deep Learning")
    admin = UserFactory()
    today = timezone.now().date()
    cohort = cohort_with_tracks(
        track,
        admin=admin,
        targets={built[0][0]: 1, built[1][0]: 2},
        starts_on=today - timedelta(days=8),
        ends_on=today + timedelta(weeks=6),
        name="Spring Cohort",
    )
    members = [cohort_member(cohort, display_name=name) for name in ("Ada", "Bo", "Cy")]
    return {"cohort": cohort, "admin": admin, "members": members, "built": built}


def send(world, learners, *, now=None, subject="Hi {name}", body="Next: {next_target}"):
    return services.cohort_message_send(
        by=world["admin"],
        cohort=world["cohort"],
        learner_ids=[u.pk for u in learners],
        subject=subject,
        body=body,
        now=now,
    )


def test_a_member_is_messaged_at_most_once_a_day_and_the_skips_are_counted(world):
    ada, bo, cy = world["members"]
    now = timezone.now()
    first = send(world, [ada], now=now)
    second = send(world, [ada, bo], now=now + timedelta(minutes=5))
    assert (first.queued, first.skipped_today) == (1, 0)
    assert (second.queued, second.skipped_today) == (1, 1)
    assert second.message.selected_count == 2 and second.message.skipped_count == 1
    tomorrow = send(world, [ada, bo, cy], now=now + timedelta(days=1))
    assert (tomorrow.queued, tomorrow.skipped_today) == (3, 0)
    assert CohortMessageDelivery.objects.filter(learner=ada).count() == 2


def test_only_active_members_and_only_admins(world):
    outsider = UserFactory()
    with pytest.raises(services.MessageError, match="Select at least one member"):
        send(world, [outsider])
    with pytest.raises(NotAllowed):
        services.cohort_message_send(
            by=world["members"][0],
            cohort=world["cohort"],
            learner_ids=[world["members"][1].pk],
            subject="x",
            body="y",
        )
    with pytest.raises(services.MessageError, match="Unknown placeholder"):
        send(world, world["members"], body="Hello {email}")
    assert not CohortMessage.objects.exists()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Hi {name:d}", "{name:d}"),
        ("Hi {name!x}", "{name!x}"),
        ("Hi {name!r}", "{name!r}"),
        ("Hi {name:>99999999999999999999}", "{name:>99999999999999999999}"),
        ("Hi {name:>1000000}", "{name:>1000000}"),  # would pad every email to a megabyte
    ],
)
def test_placeholders_take_no_format_specs_or_conversions(world, text, shown):
    for fields in ({"subject": text}, {"body": text}):
        with pytest.raises(services.MessageError) as refused:
            send(world, world["members"], **fields)
        assert str(refused.value) == f"Write placeholders plainly, as {{name}}: {shown} is not one."
    assert not CohortMessage.objects.exists()
    # A message stored before this rule is personalised without running the spec.
    assert services.message_personalise("Hi {name:>99999}{pace!r}", {"name": "Ada"}) == "Hi Ada"


def test_unticking_everyone_keeps_the_list_to_tick_again(client, world):
    """Sent with every box unticked, the page came back "To 0 members" with no boxes left: the
    only way back was the dashboard."""
    ada, bo, _ = world["members"]
    client.force_login(world["admin"])
    url = f"/cohorts/{world['cohort'].slug}/messages/"
    page = client.get(url, {"learner": [ada.pk, bo.pk]}).content.decode()
    assert "Send to the ticked members" in page
    response = client.post(
        url, {"shown": [ada.pk, bo.pk], "subject": "Hi", "body": "Go", "action": "send"}
    )
    body = response.content.decode()
    assert response.status_code == 400 and "Select at least one member" in body
    assert body.count('name="learner"') == 2 and "Ada" in body and "Bo" in body
    assert not CohortMessage.objects.exists()


def test_the_email_arrives_personalised_with_a_stable_message_id(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://waymark.example"
    ada, bo, _ = world["members"]
    BouncedAddress.objects.create(
        email=bo.email.lower(), code=550, error="", flagged_at=timezone.now()
    )
    result = send(
        world, [ada, bo], subject="{cohort}: hi {name}", body="Next: {next_target}, {pace}"
    )
    report = services.cohort_message_deliver(message_id=result.message.pk)
    assert (report.sent, report.skipped) == (1, 1)
    (email,) = mail.outbox
    assert email.to == [ada.email]
    assert email.subject == "Spring Cohort: hi Ada"
    first_module = world["built"][0][0]
    assert f"Next: {first_module.title}, Behind by 1 module" in email.body
    assert "https://waymark.example/cohorts/" in email.body
    message_id = f"<cohort.{result.message.pk}.{ada.pk}@waymark.example>"
    assert email.extra_headers["Message-ID"] == message_id
    rows = {r.learner_id: r for r in CohortMessageDelivery.objects.all()}
    assert rows[ada.pk].status == DeliveryStatus.SENT and rows[ada.pk].message_id == message_id
    assert rows[bo.pk].status == DeliveryStatus.SKIPPED and "bounced" in rows[bo.pk].reason
    # Idempotent: a second run sends nothing more.
    assert services.cohort_message_deliver(message_id=result.message.pk).claimed == 0
    assert len(mail.outbox) == 1


def test_compose_preview_send_and_log(client, world):
    from django.core.cache import cache

    cache.delete(services.SWEEP_SEEN_KEY)  # no sender has run (another test's sweep may have)
    ada, bo, _ = world["members"]
    client.force_login(world["admin"])
    url = f"/cohorts/{world['cohort'].slug}/messages/"
    page = client.get(url, {"learner": [ada.pk, bo.pk]}).content.decode()
    assert "To 2 members" in page and "Preview for Ada" in page
    # Ids typed into the address: digits Python reads but the database can't are ignored.
    page = client.get(url, {"learner": [ada.pk, "²", "9" * 30]}).content.decode()
    assert "To 1 member" in page and "Preview for Ada" in page
    preview = client.post(
        url,
        {
            "learner": [ada.pk],
            "subject": "Hey {name}",
            "body": "Due {due_date}",
            "action": "preview",
        },
    )
    assert preview.status_code == 200
    assert 'data-testid="preview-subject">Hey Ada<' in preview.content.decode()
    assert not CohortMessage.objects.exists()
    sent = client.post(
        url, {"learner": [ada.pk, bo.pk], "subject": "Hey {name}", "body": "Go", "action": "send"}
    )
    assert sent.status_code == 302
    again = client.post(
        url, {"learner": [ada.pk], "subject": "Again", "body": "Go", "action": "send"}, follow=True
    )
    html = again.content.decode()
    # No sender has run here: the page says so, where it promised "within a minute".
    assert (
        "Message queued for 0 members. Waymark&#x27;s background sender is not running, so it "
        "waits until it is (see below). 1 member was skipped" in html
    )
    assert 'data-testid="sender-stopped"' in html and "has not run yet" in html
    log = html.split('data-testid="message-log"', 1)[1].split("</table>", 1)[0]
    assert "Hey {name}" in log and "Again" in log
    # Hey {name}: 2 selected, 0 skipped, 0 delivered, 2 waiting (no worker here), 0 failed.
    assert "<td>Hey{name}</td><td>2</td><td>0</td><td>0</td><td>2</td><td>0</td>" in "".join(
        log.split()
    )


def test_everyone_matching_the_filter_is_selected(client, world):
    client.force_login(world["admin"])
    url = f"/cohorts/{world['cohort'].slug}/messages/"
    page = client.get(url, {"all": "1", "q": "bo"}).content.decode()
    assert "To 1 member: everyone matching the dashboard's filter (name contains “bo”)" in page
    names = page.split('data-testid="recipient-names"', 1)[1].split("</ul>", 1)[0]
    assert "<li>Bo</li>" in names and "Ada" not in names
    assert 'type="checkbox"' not in page  # no box per member, however many match
    assert '<input type="hidden" name="q" value="bo">' in page
    track = world["cohort"].tracks.get()
    behind = client.get(url, {"all": "1", "track": track.pk, "pace": "behind"})
    assert f"dashboard's filter (in {track.title}; pace: Behind)" in behind.content.decode()
    assert f'href="/cohorts/{world["cohort"].slug}/?q=bo">cohort dashboard</a>' in page

    services.cohort_message_sweep_seen()  # beat's sweep ran a moment ago: a sender runs
    sent = client.post(
        url,
        {"all": "1", "q": "bo", "subject": "Hi {name}", "body": "Go", "action": "send"},
        follow=True,
    )
    assert "Message queued for 1 member: it goes out within a minute." in sent.content.decode()
    assert 'data-testid="sender-stopped"' not in sent.content.decode()
    message = CohortMessage.objects.get()
    ada, bo, cy = world["members"]
    assert list(message.deliveries.values_list("learner", flat=True)) == [bo.pk]

    nobody = client.post(
        url, {"all": "1", "q": "zz", "subject": "Hi", "body": "Go", "action": "send"}
    )
    assert nobody.status_code == 400
    assert "Nobody matches this filter now" in nobody.content.decode()
    assert CohortMessage.objects.count() == 1


def test_a_big_match_lists_the_first_hundred_names(client, world):
    for number in range(120):
        cohort_member(world["cohort"], display_name=f"Member {number:03}")
    client.force_login(world["admin"])
    page = client.get(f"/cohorts/{world['cohort'].slug}/messages/", {"all": "1"}).content.decode()
    assert "To 123 members: everyone in the cohort" in page and "and 23 more." in page
    names = page.split('data-testid="recipient-names"', 1)[1].split("</ul>", 1)[0]
    assert names.count("<li>") == 100


@pytest.mark.services
def test_a_real_worker_delivers_the_message_once(workers, smtp_server, settings):
    """Recorded by the view's service, handed on by beat's minutely sweep (run here as beat
    runs it) through the broker to a Celery worker, to an SMTP server on loopback: exactly one
    email per selected member, however often the sweep runs."""
    from cohorts.tasks import send_waiting_messages

    from .dashboard_world import build_track as build

    track, built = build(modules=1, resources=1)
    admin = UserFactory()
    cohort = cohort_with_tracks(track, admin=admin, targets={built[0][0]: 1})
    ada = cohort_member(cohort, display_name="Ada")
    bo = cohort_member(cohort, display_name="Bo")
    workers.start()
    result = services.cohort_message_send(
        by=admin, cohort=cohort, learner_ids=[ada.pk, bo.pk], subject="Hello {name}", body="Hi"
    )
    assert services.cohort_messages_waiting() == [result.message.pk]
    assert send_waiting_messages() == {"waiting": 1, "queued": 1}
    send_waiting_messages()  # a second sweep before the worker is done sends nothing twice
    wait_for(lambda: len(smtp_server.messages) >= 2, timeout=60, message=workers.logs())
    subjects = sorted(m["Subject"] for m in smtp_server.messages)
    assert subjects == ["Hello Ada", "Hello Bo"]
    wait_for(
        lambda: (
            CohortMessageDelivery.objects.filter(
                cohort_message=result.message, status=DeliveryStatus.SENT
            ).count()
            == 2
        ),
        timeout=30,
    )


def test_the_next_target_is_the_first_module_of_the_plan_not_complete(world, settings):
    """A member who finished the second module but not the first is told the first is next
    (as their cohort page and weekly email say), not the one after as many modules as done."""
    from tracker.services import progress_set_status

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ada = world["members"][0]
    (first, _), (_, second_items) = world["built"]
    progress_set_status(learner=ada, resource=second_items[0], status="done")
    message = send(world, [ada], body="Next: {next_target}").message
    services.cohort_message_deliver(message_id=message.pk)
    (email,) = mail.outbox
    assert f"Next: {first.title}\n" in email.body


def test_the_day_is_each_members_own(db, settings):
    """Sunday 23:30 UTC is Monday morning in Tokyo. The once-a-day limit counts each member's
    own days, and the email's figures are those of the member's day: in Tokyo the cohort's
    second week has begun and the first module is overdue."""
    from datetime import UTC, date, datetime

    from tracker.models import Profile

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    track, built = build_track(modules=2, resources=1, title="Deep Learning")
    admin = UserFactory()
    cohort = cohort_with_tracks(
        track,
        admin=admin,
        targets={built[0][0]: 1, built[1][0]: 2},
        starts_on=date(2026, 3, 2),  # a Monday
        ends_on=date(2026, 5, 31),
    )
    uma, tomo = (cohort_member(cohort, display_name=name) for name in ("Uma", "Tomo"))
    Profile.objects.filter(user=tomo).update(time_zone="Asia/Tokyo")

    def send_at(now):
        return services.cohort_message_send(
            by=admin,
            cohort=cohort,
            learner_ids=[uma.pk, tomo.pk],
            subject="Hi",
            body="{pace}",
            now=now,
        )

    sunday_night = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)
    first = send_at(sunday_night)
    days = dict(CohortMessageDelivery.objects.values_list("learner_id", "day"))
    assert days == {uma.pk: date(2026, 3, 8), tomo.pk: date(2026, 3, 9)}
    services.cohort_message_deliver(message_id=first.message.pk, now=sunday_night)
    paces = {email.to[0]: email.body.split("\n", 1)[0] for email in mail.outbox}
    assert paces == {uma.email: "On pace", tomo.email: "Behind by 1 module"}

    # An hour later it is Monday in UTC too: Uma can be messaged again, Tomo not yet.
    again = send_at(sunday_night + timedelta(hours=1))
    assert (again.queued, again.skipped_today) == (1, 1)
    assert CohortMessageDelivery.objects.get(cohort_message=again.message).learner_id == uma.pk


@pytest.mark.parametrize("broker", ["closed", "hung"])
def test_sending_never_waits_on_the_broker_and_the_sweep_finds_it_later(
    client, world, settings, broker, request, django_capture_on_commit_callbacks
):
    """Send published from the request: 0.7 s with the broker refusing, 3.2 s hung, and the
    message then stayed "waiting" for good. Now the request writes rows only; beat's sweep
    hands the message on once the broker answers."""
    import time

    from cohorts.tasks import send_waiting_messages

    settings.CELERY_BROKER_URL = request.getfixturevalue(f"{broker}_broker_url")
    ada = world["members"][0]
    client.force_login(world["admin"])
    url = f"/cohorts/{world['cohort'].slug}/messages/"
    started = time.perf_counter()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"learner": [ada.pk], "subject": "Hi", "body": "Go", "action": "send"}
        )
    assert response.status_code == 302 and time.perf_counter() - started < 0.5
    [message] = CohortMessage.objects.all()
    assert services.cohort_messages_waiting() == [message.pk]
    assert send_waiting_messages() == {"waiting": 1, "queued": 0}  # still down: kept waiting
    assert services.cohort_messages_waiting() == [message.pk]

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    services.cohort_message_deliver(message_id=message.pk)  # what the worker then does
    assert len(mail.outbox) == 1 and services.cohort_messages_waiting() == []
