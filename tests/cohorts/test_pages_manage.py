"""The cohort list, a new cohort, and its settings (details, phases, pace plan): plain forms
and their HTMX fragments; bad input answers next to the field and changes nothing."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from cohorts import services
from cohorts.models import Cohort, CohortModuleTarget, CohortPhase
from tests.factories import TrackFactory, UserFactory

from .conftest import join, make_cohort

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(client, user):
    client.force_login(user)
    return client


def test_the_list_shows_my_cohorts_and_staff_see_all(client, cohort, admin, track, staff):
    other = make_cohort(by=staff, tracks=[track], slug="other", name="Other cohort")
    member = UserFactory()
    join(cohort, member)
    page = signed_in(client, member).get(reverse("cohorts:list")).content.decode()
    assert "Spring cohort" in page and "Other cohort" not in page
    assert "New cohort" not in page
    page = signed_in(client, admin).get(reverse("cohorts:list")).content.decode()
    assert "Spring cohort" in page and "New cohort" in page and other.name not in page
    page = signed_in(client, staff).get(reverse("cohorts:list")).content.decode()
    assert "Spring cohort" in page and "Other cohort" in page


def test_a_learner_sees_how_to_join(client):
    page = signed_in(client, UserFactory()).get(reverse("cohorts:list")).content.decode()
    assert "not in a cohort yet" in page
    assert signed_in(client, UserFactory()).get(reverse("cohorts:new")).status_code == 403


def test_staff_create_a_cohort_in_the_browser(client, staff, track):
    response = signed_in(client, staff).post(
        reverse("cohorts:new"),
        {
            "name": "TechLabs Spring",
            "slug": "techlabs-spring",
            "description": "Learn, then *build*.",
            "starts_on": "2026-03-02",
            "ends_on": "2026-07-26",
            "tracks": [str(track.pk)],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/cohorts/techlabs-spring/settings/"
    cohort = Cohort.objects.get(slug="techlabs-spring")
    assert cohort.description_html == "<p>Learn, then <em>build</em>.</p>"
    page = client.get(response["Location"]).content.decode()
    assert "Tensors" in page and "Training loops" in page  # the pace plan table


def test_a_create_form_sent_twice_answers_as_the_first_did(client, staff, admin, track):
    """A double click: the second copy found the slug taken and said so, for a success."""
    data = {
        "name": "TechLabs Spring",
        "slug": "techlabs-spring",
        "starts_on": "2026-03-02",
        "ends_on": "2026-07-26",
        "tracks": [str(track.pk)],
    }
    url = reverse("cohorts:new")
    first = signed_in(client, staff).post(url, data)
    second = client.post(url, data, follow=True)
    assert second.redirect_chain[-1][0] == first["Location"]
    assert "TechLabs Spring is created." in second.content.decode()
    assert Cohort.objects.filter(slug="techlabs-spring").count() == 1
    # Other details, or someone else, taking the same slug: refused as before.
    services.cohort_admin_add(by=staff, cohort=Cohort.objects.get(), user_email=admin.email)
    for who, changes in ((staff, {"name": "Another"}), (admin, {})):
        response = signed_in(client, who).post(url, data | changes)
        assert response.status_code == 400, who
        assert "already uses" in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"slug": "new"}, "slug", "reserved"),
        ({"ends_on": "2026-01-01"}, "ends_on", "on or after"),
        ({"tracks": []}, "tracks", "at least one track"),
        ({"starts_on": "yesterday"}, "starts_on", "valid date"),
    ],
)
def test_bad_details_are_shown_next_to_the_field(client, staff, track, changes, field, says):
    data = {
        "name": "Spring",
        "slug": "spring",
        "starts_on": "2026-03-02",
        "ends_on": "2026-05-31",
        "tracks": [str(track.pk)],
        **changes,
    }
    response = signed_in(client, staff).post(reverse("cohorts:new"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="id_{field}-errors"' in page and says in page
    assert not Cohort.objects.exists()


def test_members_get_403_and_outsiders_404_on_settings(client, cohort):
    member = UserFactory()
    join(cohort, member)
    url = reverse("cohorts:settings", args=[cohort.slug])
    assert signed_in(client, member).get(url).status_code == 403
    assert signed_in(client, UserFactory()).get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_every_admin_page_links_to_the_others_and_the_dashboard(client, cohort, admin):
    """The dashboard linked to none of the settings, invites, members and teams pages, and
    they linked back to no dashboard: an admin went round through the cohort list."""
    signed_in(client, admin)
    names = ["dashboard", "settings", "invites", "members", "teams", "messages"]
    urls = {name: reverse(f"cohorts:{name}", args=[cohort.slug]) for name in names}
    tabs = {"dashboard": "Cohort dashboard", "settings": "Settings", "invites": "Invites"}
    tabs |= {"members": "Members", "teams": "Teams"}
    for name in names:
        page = client.get(urls[name]).content.decode()
        nav = page.split('<nav class="cohort-tabs"', 1)[1].split("</nav>", 1)[0]
        for target, label in tabs.items():
            assert re.search(rf'<a href="{urls[target]}"[^>]*>{label}</a>', nav), (name, target)
        current = re.findall(r'<a href="([^"]+)" aria-current="page"', nav)
        assert current == ([urls[name]] if name in tabs else []), name


def test_details_are_edited(client, cohort, admin, track):
    response = signed_in(client, admin).post(
        reverse("cohorts:settings", args=[cohort.slug]),
        {
            "name": "Spring 2026",
            "slug": "spring-2026",
            "description": "",
            "starts_on": cohort.starts_on.isoformat(),
            "ends_on": cohort.ends_on.isoformat(),
            "tracks": [str(track.pk)],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/cohorts/spring-2026/settings/"
    cohort.refresh_from_db()
    assert cohort.name == "Spring 2026"


def phase_data(rows, *, initial=0):
    data = {
        "phases-TOTAL_FORMS": str(len(rows)),
        "phases-INITIAL_FORMS": str(initial),
        "phases-MIN_NUM_FORMS": "0",
        "phases-MAX_NUM_FORMS": "20",
    }
    for i, (name, start, end, *delete) in enumerate(rows):
        data |= {
            f"phases-{i}-name": name,
            f"phases-{i}-starts_on": start,
            f"phases-{i}-ends_on": end,
        }
        if delete:
            data[f"phases-{i}-DELETE"] = "on"
    return data


def test_a_phase_outside_the_cohort_names_its_days_as_the_page_does(client, staff, track):
    """The messages wrote "02 Nov 2026" beside a page that says "2 Nov 2026"."""
    cohort = make_cohort(
        by=staff, tracks=[track], starts_on=date(2026, 11, 2), ends_on=date(2027, 2, 5)
    )
    url = reverse("cohorts:settings_phases", args=[cohort.slug])
    rows = [("Early", "2026-10-01", "2026-11-20"), ("Late", "2026-12-01", "2027-03-01")]
    page = signed_in(client, staff).post(url, phase_data(rows)).content.decode()
    assert "The cohort starts on 2 Nov 2026; start the phase then or later." in page
    assert "The cohort ends on 5 Feb 2027; end the phase then or earlier." in page
    rows = [("Early", "2026-11-02", "2026-12-03"), ("Late", "2026-12-01", "2027-01-01")]
    page = client.post(url, phase_data(rows)).content.decode()
    assert "“Late” overlaps “Early”, which ends on 3 Dec 2026: start it after that." in page


def test_phases_are_added_edited_and_removed(client, cohort, admin):
    start = cohort.starts_on
    url = reverse("cohorts:settings_phases", args=[cohort.slug])
    learning = (start + timedelta(days=55)).isoformat()
    project = (start + timedelta(days=56)).isoformat()
    response = signed_in(client, admin).post(
        url,
        phase_data(
            [
                ("Learning phase", start.isoformat(), learning),
                ("Project phase", project, cohort.ends_on.isoformat()),
                ("", "", ""),
            ]
        ),
    )
    assert response.status_code == 302
    assert response["Location"].endswith("/settings/#phases")
    assert list(CohortPhase.objects.values_list("name", flat=True)) == [
        "Learning phase",
        "Project phase",
    ]
    page = client.get(reverse("cohorts:settings", args=[cohort.slug])).content.decode()
    assert 'value="Learning phase"' in page and 'value="Project phase"' in page
    response = client.post(
        url,
        phase_data(
            [
                ("Learning", start.isoformat(), learning),
                ("Project phase", project, cohort.ends_on.isoformat(), "delete"),
                ("", "", ""),
            ],
            initial=2,
        ),
    )
    assert response.status_code == 302
    assert list(CohortPhase.objects.values_list("name", flat=True)) == ["Learning"]
    # A row count below zero (no page of ours sends one) removed every phase.
    response = client.post(url, phase_data([]) | {"phases-TOTAL_FORMS": "-1"})
    assert response.status_code == 400 and "could not be read" in response.content.decode()
    assert list(CohortPhase.objects.values_list("name", flat=True)) == ["Learning"]


def test_overlapping_phases_are_refused_on_the_row_over_htmx(client, cohort, admin):
    start = cohort.starts_on.isoformat()
    url = reverse("cohorts:settings_phases", args=[cohort.slug])
    response = signed_in(client, admin).post(
        url,
        phase_data([("Learning", start, cohort.ends_on.isoformat()), ("Project", start, start)]),
        **HTMX,
    )
    assert response.status_code == 200  # the fragment, with the message, swaps in
    page = response.content.decode()
    assert page.lstrip().startswith('<section class="card" aria-labelledby="phases-title"')
    assert (
        'id="id_phases-0-starts_on-errors"' in page or 'id="id_phases-1-starts_on-errors"' in page
    )
    assert "overlaps" in page
    assert not CohortPhase.objects.exists()
    # The same without JavaScript: the whole page, 400.
    response = client.post(
        url,
        phase_data([("Learning", start, cohort.ends_on.isoformat()), ("Project", start, start)]),
    )
    assert response.status_code == 400 and "<h1>" in response.content.decode()


def test_the_pace_plan_is_edited_and_reset(client, cohort, admin, track):
    tensors = track.modules.get(title="Tensors")
    url = reverse("cohorts:settings_targets", args=[cohort.slug])
    data = {
        f"target_{m.pk}": str(w)
        for m, w in CohortModuleTarget.objects.filter(cohort=cohort).values_list(
            "module", "target_week"
        )
        for m in [type("M", (), {"pk": m})]
    }
    data[f"target_{tensors.pk}"] = "5"
    response = signed_in(client, admin).post(url, data | {"action": "save"}, **HTMX)
    assert response.status_code == 200 and "Pace plan saved." in response.content.decode()
    assert CohortModuleTarget.objects.get(cohort=cohort, module=tensors).target_week == 5
    due = cohort.starts_on + timedelta(days=34)
    assert due.strftime("%-d %b %Y") in response.content.decode()
    # Reset asks first, naming what it drops; nothing changes until the admin confirms.
    response = client.post(url, {"action": "reset"}, **HTMX)
    assert 'data-testid="reset-confirm"' in response.content.decode()
    assert "Reset 1 target week to the defaults" in response.content.decode()
    assert CohortModuleTarget.objects.get(cohort=cohort, module=tensors).target_week == 5
    response = client.post(url, {"action": "reset"})  # without JavaScript: the same, as a page
    assert response["Location"].endswith("?confirm-reset#pace-plan")
    page = client.get(response["Location"]).content.decode()
    assert "1 module has a target week set for this cohort" in page
    assert "Keep the pace plan as it is" in page
    assert CohortModuleTarget.objects.get(cohort=cohort, module=tensors).target_week == 5
    response = client.post(url, {"action": "reset-confirmed"})
    assert response.status_code == 302
    assert CohortModuleTarget.objects.get(cohort=cohort, module=tensors).target_week == 2
    # With nothing of the admin's own left, reset has nothing to ask about.
    response = client.post(url, {"action": "reset"}, **HTMX)
    body = response.content.decode()
    assert "already follows the modules" in body and "reset-confirm" not in body


def test_targets_due_after_the_cohort_ends_are_flagged(client, staff, track):
    short = make_cohort(
        by=staff,
        tracks=[track],
        slug="short",
        starts_on=date(2027, 1, 4),
        ends_on=date(2027, 1, 17),  # two weeks: the defaults put the last two in weeks 3, 4
    )
    page = signed_in(client, staff).get(reverse("cohorts:settings", args=[short.slug]))
    html = page.content.decode()
    assert "2 modules are due after the cohort's last day (Sun 17 Jan 2027)" in html
    rows = re.findall(r'<tr data-testid="plan-row">.*?</tr>', html, re.S)
    flagged = [row for row in rows if "after the cohort ends" in row]
    assert len(flagged) == 2 and all("Tensors" not in row for row in flagged)
    roomy = make_cohort(by=staff, tracks=[track], slug="roomy", starts_on=date(2027, 1, 4))
    html = client.get(reverse("cohorts:settings", args=[roomy.slug])).content.decode()
    assert "after the cohort ends" not in html and "due after the cohort" not in html


def test_a_module_due_before_an_earlier_one_is_flagged(client, cohort, admin, track):
    """Module 7 due in week 5 after module 6 in week 6 went unremarked: a typo, most often."""
    tensors, loops = track.modules.order_by("position", "pk")[:2]
    CohortModuleTarget.objects.filter(cohort=cohort, module=tensors).update(target_week=6)
    CohortModuleTarget.objects.filter(cohort=cohort, module=loops).update(target_week=5)
    html = signed_in(client, admin).get(reverse("cohorts:settings", args=[cohort.slug]))
    rows = re.findall(r'<tr data-testid="plan-row">.*?</tr>', html.content.decode(), re.S)
    flagged = {
        re.search(r'<th scope="row">([^<]+)</th>', row).group(1): row
        for row in rows
        if 'data-testid="before-earlier"' in row
    }
    assert tensors.title not in flagged  # the first of the track is before nothing
    assert f"before {tensors.title}, which comes earlier in the track" in flagged[loops.title]


def test_a_bad_target_week_is_named_on_its_row(client, cohort, admin, track):
    tensors = track.modules.get(title="Tensors")
    data = {f"target_{m.pk}": "2" for m in track.modules.all()} | {f"target_{tensors.pk}": "600"}
    response = signed_in(client, admin).post(
        reverse("cohorts:settings_targets", args=[cohort.slug]), data
    )
    assert response.status_code == 400
    errors = response.content.decode().split(f'id="id_target_{tensors.pk}-errors"', 1)[1]
    # It says what a target week is, not Django's "Ensure this value is less than or equal to".
    assert errors.split("</ul>")[0].endswith(
        "<li>Give a cohort week from 1 to 520 (week 1 starts on its first day).</li>"
    )
    assert CohortModuleTarget.objects.get(cohort=cohort, module=tensors).target_week == 2


def test_cohort_admins_create_more_cohorts(client, cohort, admin):
    track = TrackFactory()
    response = signed_in(client, admin).get(reverse("cohorts:new"))
    assert response.status_code == 200 and track.title in response.content.decode()


def test_the_cohort_week_is_the_viewers_own_day(client, staff, track):
    """Sunday 23:30 in UTC is Monday morning in Tokyo: an admin there is in the cohort's second
    week already, as their own /me/ page and nudge would say."""
    from datetime import UTC, date, datetime

    import time_machine

    from tracker.services import profile_update

    cohort = make_cohort(by=staff, tracks=[track], starts_on=date(2026, 3, 2))  # a Monday
    tokyo = UserFactory(is_staff=True)
    for user, zone in ((staff, "UTC"), (tokyo, "Asia/Tokyo")):
        profile_update(
            user=user,
            display_name="",
            time_zone=zone,
            nudge_enabled=False,
            nudge_weekday=0,
            nudge_hour=9,
        )
    with time_machine.travel(datetime(2026, 3, 8, 23, 30, tzinfo=UTC), tick=False):
        for user, week in ((staff, "Week 1 of 12"), (tokyo, "Week 2 of 12")):
            page = signed_in(client, user).get(reverse("cohorts:dashboard", args=[cohort.slug]))
            label = page.content.decode().split('data-testid="cohort-week">', 1)[1]
            assert label.startswith(week)
        export = client.get(reverse("cohorts:export", args=[cohort.slug]))
        assert "members-2026-03-09.csv" in export["Content-Disposition"]
