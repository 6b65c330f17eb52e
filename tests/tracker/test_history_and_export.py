import csv
import io
import json
import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import (
    CapstoneFactory,
    ModuleFactory,
    ResourceFactory,
    TrackFactory,
    UserFactory,
)
from tests.tracker.test_capstones import CONSTRAINTS, edit_constraints, staff, submitted
from tracker import services, weeks
from tracker.models import CapstoneSubmission, ResourceNote

MONDAY = date(2025, 3, 10)


# --- weekly series and chart geometry (pure) ------------------------------------------------------


def test_weekly_series_has_every_week_oldest_first_with_empty_weeks():
    series = weeks.weekly_series(
        {MONDAY: 30, MONDAY - timedelta(weeks=2): 15}, today=MONDAY + timedelta(days=3), weeks=4
    )
    assert [(w.start, w.points) for w in series] == [
        (MONDAY - timedelta(weeks=3), 0),
        (MONDAY - timedelta(weeks=2), 15),
        (MONDAY - timedelta(weeks=1), 0),
        (MONDAY, 30),
    ]


def test_chart_bars_scale_to_the_biggest_week_and_hang_below_zero_for_net_reversals():
    series = [
        weeks.WeekPoints(MONDAY - timedelta(weeks=2 - i), p) for i, p in enumerate([100, 0, -50])
    ]
    chart = weeks.bar_chart(series, width=340, height=190)
    tall, empty, negative = chart.bars
    assert tall.y == chart.top and tall.height == pytest.approx(chart.baseline - chart.top)
    assert empty.height == 0
    assert negative.negative and negative.y == chart.baseline
    assert negative.height == pytest.approx(tall.height / 2)
    assert chart.bars[-1].label  # the newest week is labelled


# --- the history page ---------------------------------------------------------------------------


def done(user, resource, *, when):
    services.enrolment_join(learner=user, track=resource.track)
    return services.progress_set_status(learner=user, resource=resource, status="done", now=when)


@pytest.mark.django_db
def test_history_needs_login(client):
    for url in ("/me/progress/", "/me/export.json", "/me/export.csv"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(
            "/accounts/login/"
        ), url


@pytest.mark.django_db
def test_history_shows_net_points_per_week_as_svg_and_table(client, user):
    now = timezone.now()
    this_week = ResourceFactory(minutes=40)
    undone = ResourceFactory(minutes=25)
    three_weeks_ago = ResourceFactory(minutes=15)
    long_ago = ResourceFactory(minutes=99)
    done(user, this_week, when=now)
    done(user, undone, when=now)
    services.progress_set_status(learner=user, resource=undone, status="in_progress", now=now)
    done(user, three_weeks_ago, when=now - timedelta(weeks=3))
    done(user, long_ago, when=now - timedelta(weeks=40))  # outside the 26 weeks
    client.force_login(user)

    body = client.get("/me/progress/").content.decode()
    assert 'data-testid="history-total">55<' in body
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert 'role="img"' in svg and 'aria-labelledby="chart-title chart-desc"' in svg
    assert 'id="chart-title"' in svg and 'id="chart-desc"' in svg
    assert svg.count('class="bar') == 26
    assert "style=" not in body and "<script>" not in body.split("</head>")[1]
    table = body[body.index('data-testid="history-table"') : body.index("</table>")]
    assert "<caption>" in table
    assert re.findall(r"<td>(-?\d+)</td>", table)[:4] == ["40", "0", "0", "15"]
    assert len(re.findall(r"<td>", table)) == 26


@pytest.mark.django_db
def test_a_week_of_more_reversals_than_awards_hangs_below_the_axis(client, user):
    now = timezone.now()
    resource = ResourceFactory(minutes=30)
    done(user, resource, when=now - timedelta(weeks=2))
    services.progress_set_status(learner=user, resource=resource, status="in_progress", now=now)
    client.force_login(user)

    body = client.get("/me/progress/").content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    titles = r'<rect class="bar( bar-negative)?"[^>]*><title>Week of [^:<]*: (-?\d+) points</title>'
    bars = re.findall(titles, svg)
    assert len(bars) == 26
    assert [points for shade, points in bars if shade] == ["-30"]
    assert [points for shade, points in bars if points != "0"] == ["30", "-30"]


@pytest.mark.django_db
def test_history_query_count_is_constant(client, user):
    client.force_login(user)
    now = timezone.now()
    for i in range(2):
        done(user, ResourceFactory(), when=now - timedelta(weeks=i))
    with CaptureQueriesContext(connection) as small:
        client.get("/me/progress/")
    for i in range(40):
        done(user, ResourceFactory(), when=now - timedelta(days=3 * i))
    with CaptureQueriesContext(connection) as large:
        client.get("/me/progress/")
    assert len(small) == len(large)


# --- own-data export ----------------------------------------------------------------------------


def learner_with_everything(user, *, title="Vision"):
    track = TrackFactory(title=title)
    module = ModuleFactory(track=track)
    finished = ResourceFactory(module=module, title=f"{title} lecture", minutes=30)
    started = ResourceFactory(module=module, title="=HYPERLINK(1)", minutes=10)
    capstone = CapstoneFactory(module=module, title=f"{title} capstone")
    services.enrolment_join(learner=user, track=track)
    services.progress_set_status(learner=user, resource=finished, status="done")
    services.progress_set_status(learner=user, resource=started, status="in_progress")
    now = timezone.now()
    ResourceNote.objects.create(
        learner=user, resource=finished, body=f"My *{title}* note", updated_at=now
    )
    CapstoneSubmission.objects.create(
        learner=user,
        capstone=capstone,
        track=track,
        title=f"{title} project",
        link="https://example.com/repo",
        created_at=now,
        updated_at=now,
    )
    return track


@pytest.mark.django_db
def test_json_export_holds_the_learners_data_and_nobody_elses(client, user):
    learner_with_everything(user, title="Vision")
    learner_with_everything(UserFactory(), title="Secret")
    client.force_login(user)
    response = client.get("/me/export.json")
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="waymark-')
    data = json.loads(response.content)
    assert data["profile"]["email"] == user.email and data["profile"]["points_total"] == 30
    assert [e["track_title"] for e in data["enrolments"]] == ["Vision"]
    assert {(p["resource_title"], p["status"], p["points"]) for p in data["progress"]} == {
        ("Vision lecture", "done", 30),
        ("=HYPERLINK(1)", "in_progress", 0),
    }
    assert [(p["kind"], p["amount"]) for p in data["points"]] == [("award", 30)]
    assert [n["body"] for n in data["notes"]] == ["My *Vision* note"]
    assert [s["title"] for s in data["capstone_submissions"]] == ["Vision project"]
    assert data["certificates"] == []
    assert data["profile"]["show_on_leaderboards"] is True
    assert data["cohorts"] == [] and data["emails"] == []
    assert "Secret" not in response.content.decode()


@pytest.mark.django_db
def test_json_export_holds_the_learners_cohorts_and_the_emails_sent_to_them(client, user):
    from cohorts.models import Team, TeamMembership
    from nudges.models import DeliveryStatus, NudgeDelivery
    from tests.cohorts.conftest import join, make_cohort

    track = learner_with_everything(user, title="Vision")
    staff = UserFactory(is_staff=True)
    cohort = make_cohort(by=staff, tracks=[track], name="Autumn crew", slug="autumn")
    join(cohort, user)
    now = timezone.now()
    team = Team.objects.create(cohort=cohort, name="Owls", project_title="Birds", created_at=now)
    TeamMembership.objects.create(team=team, cohort=cohort, user=user, added_at=now)
    for learner in (user, UserFactory()):
        NudgeDelivery.objects.create(
            learner=learner,
            week="2026-W47",
            due_at=now,
            status=DeliveryStatus.SENT,
            recipient=learner.email,
            message_id="<m@waymark>",
            sent_at=now,
            created_at=now,
            updated_at=now,
        )
    client.force_login(user)
    data = json.loads(client.get("/me/export.json").content)
    [membership] = data["cohorts"]
    assert (membership["cohort_name"], membership["role"], membership["team"]) == (
        "Autumn crew",
        "member",
        "Owls",
    )
    assert [(e["kind"], e["week"], e["to"]) for e in data["emails"]] == [
        ("weekly nudge", "2026-W47", user.email)
    ]


@pytest.mark.django_db
def test_csv_export_is_the_learners_progress_rows(client, user):
    track = learner_with_everything(user, title="Vision")
    learner_with_everything(UserFactory(), title="Secret")
    client.force_login(user)
    response = client.get("/me/export.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="waymark-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["kind"], r["resource_title"], r["status"], r["points"]) for r in rows] == [
        ("resource", "Vision lecture", "done", "30"),
        ("resource", "'=HYPERLINK(1)", "in_progress", "0"),  # never read as a formula
        ("capstone", "Vision capstone", "draft", "0"),
    ]
    assert {r["track"] for r in rows} == {track.slug}
    assert rows[0]["completed_at"] and not rows[1]["completed_at"]
    assert "Secret" not in response.content.decode()


@pytest.mark.django_db
def test_csv_export_points_add_up_to_the_total_with_passed_capstones(client):
    learner, capstone, submission = submitted()
    resource = ResourceFactory(module=capstone.module, minutes=20)
    services.progress_set_status(learner=learner, resource=resource, status="done")
    services.capstone_review(
        via="admin", reviewer=staff(), submission=submission, decision="passed", comments=""
    )
    client.force_login(learner)
    rows = list(csv.DictReader(io.StringIO(client.get("/me/export.csv").content.decode())))
    [capstone_row] = [r for r in rows if r["kind"] == "capstone"]
    assert (capstone_row["resource"], capstone_row["status"]) == (capstone.slug, "passed")
    assert int(capstone_row["points"]) == capstone.points and capstone_row["completed_at"]
    learner.profile.refresh_from_db()
    assert sum(int(r["points"]) for r in rows) == learner.profile.points_total > capstone.points


@pytest.mark.django_db
def test_export_query_counts_are_constant(client, user):
    client.force_login(user)
    learner_with_everything(user, title="A")
    counts = {}
    for url in ("/me/export.json", "/me/export.csv"):
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        counts[url] = len(queries)
    from nudges.models import DeliveryStatus, NudgeDelivery

    now = timezone.now()
    for i in range(10):
        learner_with_everything(user, title=f"T{i}")
        NudgeDelivery.objects.create(  # the emails sent: one query however many
            learner=user,
            week=f"2026-W{i + 10}",
            due_at=now,
            status=DeliveryStatus.SKIPPED,
            reason="Not enrolled in any track.",
            created_at=now,
            updated_at=now,
        )
    for url in ("/me/export.json", "/me/export.csv"):
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        assert len(queries) == counts[url], url
    assert len(json.loads(client.get("/me/export.json").content)["progress"]) == 22


@pytest.mark.django_db
def test_json_export_holds_the_constraint_texts_the_learner_vouched_for(client):
    learner, capstone, _ = submitted()
    edit_constraints(capstone)  # a later curriculum edit does not rewrite the record
    client.force_login(learner)
    [exported] = json.loads(client.get("/me/export.json").content)["capstone_submissions"]
    assert exported["constraints_met"] == CONSTRAINTS
