"""The cohort dashboard as an admin uses it: pace through the page, sort, filter, pages, the
HTMX fragment and the plain links, the heat map, the weekly chart, at-risk and leaderboard."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from tests.factories import UserFactory, cohort_member, cohort_with_tracks

from .dashboard_world import build_track, progress_done

pytestmark = pytest.mark.django_db


def rows(html: str) -> list[str]:
    """The member names in the table, in order."""
    table = html.split('data-testid="member-table"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<th scope="row">([^<]*)</th>', table)


def pace_of(html: str, name: str) -> str:
    table = html.split('data-testid="member-table"', 1)[1].split("</table>", 1)[0]
    row = table.split(f'<th scope="row">{name}</th>', 1)[1].split("</tr>", 1)[0]
    return re.search(r'<span class="pace [^"]*">([^<]*)</span>', row).group(1)


@pytest.fixture
def world():
    """A cohort in its week 2 (starts 8 days ago), modules due at the end of weeks 1, 2 and 3."""
    track, built = build_track(modules=3, resources=2)
    admin = UserFactory()
    today = timezone.now().date()
    cohort = cohort_with_tracks(
        track,
        admin=admin,
        targets={module: week for (module, _), week in zip(built, (1, 2, 3), strict=True)},
        starts_on=today - timedelta(days=8),
        ends_on=today + timedelta(weeks=6),
    )
    now = timezone.now()

    def member(name, modules_done, *, points=0, days_ago=1, **kwargs):
        return cohort_member(
            cohort,
            display_name=name,
            totals={
                track: {
                    "done_units": 2 * modules_done,
                    "required_units": 6,
                    "modules_done": modules_done,
                    "points": points,
                    "last_activity_at": None if days_ago is None else now - timedelta(days_ago),
                }
            },
            **kwargs,
        )

    return {"cohort": cohort, "admin": admin, "track": track, "built": built, "member": member}


def dashboard(client, world, query="", **headers):
    client.force_login(world["admin"])
    response = client.get(f"/cohorts/{world['cohort'].slug}/{query}", **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_pace_status_edges_through_the_page(client, world):
    world["member"]("Nothing done", 0)  # week 1's module is late
    world["member"]("On the target week", 1)  # week 2's module is due this week: on pace
    world["member"]("All of this week", 2)
    world["member"]("Beyond this week", 3)
    html = dashboard(client, world)
    assert pace_of(html, "Nothing done") == "Behind by 1 module"
    assert pace_of(html, "On the target week") == "On pace"
    assert pace_of(html, "All of this week") == "On pace"
    assert pace_of(html, "Beyond this week") == "Ahead"
    assert "Week 2 of 8" in html


def member_row(html: str, name: str) -> str:
    """The table row of the member named `name` (as the page writes it)."""
    table = html.split('data-testid="member-table"', 1)[1].split("</table>", 1)[0]
    return next(row for row in table.split("<tr")[1:] if f'<th scope="row">{name}</th>' in row)


def test_each_member_row_shows_their_figures_and_escapes_their_name(client, world):
    from tracker.models import Enrolment

    odd = world["member"]("<b>Ben & Co</b>", 1, points=7, days_ago=None)
    world["member"]("Long quiet", 1, points=3, days_ago=20)
    gone = world["member"]("Gone", 2)
    Enrolment.objects.filter(learner=gone).update(left_at=timezone.now())
    html = dashboard(client, world)
    title = world["track"].title

    odd_row = member_row(html, "&lt;b&gt;Ben &amp; Co&lt;/b&gt;")
    assert "<b>" not in html.split('data-testid="member-table"', 1)[1].split("</table>", 1)[0]
    assert (
        f'<input type="checkbox" name="learner" value="{odd.pk}" id="select-{odd.pk}">' in odd_row
    )
    assert "Select &lt;b&gt;Ben &amp; Co&lt;/b&gt;</label>" in odd_row
    assert f'aria-label="&lt;b&gt;Ben &amp; Co&lt;/b&gt;: {title}">33%</progress>' in odd_row
    assert '<progress max="6" value="2"' in odd_row
    assert "<td>7</td>" in odd_row
    assert '<span class="meta">None yet</span>' in odd_row
    assert '<span class="pace pace-on_pace">On pace</span></td>' in odd_row

    quiet_row = member_row(html, "Long quiet")
    day = timezone.now() - timedelta(20)
    assert f">{day.day} {day:%b %Y}</time>" in quiet_row
    assert '<span class="at-risk-tag">At risk</span>' in quiet_row

    assert '<span class="meta">Not enrolled</span>' in member_row(html, "Gone")


def test_last_activity_is_the_day_it_was_where_the_admin_is(client, world):
    from tracker.models import Enrolment, Profile

    member = world["member"]("Emil", 1)
    late_evening_utc = (timezone.now() - timedelta(days=3)).replace(hour=3, minute=33)
    Enrolment.objects.filter(learner=member).update(last_activity_at=late_evening_utc)
    Profile.objects.update_or_create(
        user=world["admin"], defaults={"time_zone": "America/Los_Angeles"}
    )
    row = member_row(dashboard(client, world), "Emil")
    day_there = late_evening_utc - timedelta(days=1)  # 03:33 UTC is the evening before in LA
    assert f">{day_there.day} {day_there:%b %Y}</time>" in row
    Profile.objects.filter(user=world["admin"]).update(time_zone="UTC")
    row = member_row(dashboard(client, world), "Emil")
    assert f">{late_evening_utc.day} {late_evening_utc:%b %Y}</time>" in row


def test_a_member_without_a_display_name_is_listed_by_their_account_name(client, world):
    from tracker.models import ANONYMOUS_LEARNER_NAME

    world["member"]("", 1, user=UserFactory(first_name="Lin", last_name="Lee"))
    world["member"](" ", 1, user=UserFactory(first_name="", last_name=""))
    world["member"]("Ada", 1, user=UserFactory(first_name="Not", last_name="Shown"))
    assert rows(dashboard(client, world)) == [ANONYMOUS_LEARNER_NAME, "Ada", "Lin Lee"]


def test_without_a_pace_plan_there_is_no_pace_status(client, world):
    from cohorts.models import CohortModuleTarget

    CohortModuleTarget.objects.filter(cohort=world["cohort"]).delete()
    world["member"]("Ada", 0)
    assert pace_of(dashboard(client, world), "Ada") == "No pace plan"


def test_sort_by_any_column_both_ways(client, world):
    world["member"]("Bea", 1, points=30, days_ago=5)
    world["member"]("ada", 3, points=10, days_ago=1)
    world["member"]("Cy", 0, points=20, days_ago=None)
    assert rows(dashboard(client, world)) == ["ada", "Bea", "Cy"]
    assert rows(dashboard(client, world, "?sort=-name")) == ["Cy", "Bea", "ada"]
    assert rows(dashboard(client, world, "?sort=-points")) == ["Bea", "Cy", "ada"]
    assert rows(dashboard(client, world, "?sort=points")) == ["ada", "Cy", "Bea"]
    assert rows(dashboard(client, world, "?sort=-activity")) == ["ada", "Bea", "Cy"]
    assert rows(dashboard(client, world, "?sort=pace")) == ["Cy", "Bea", "ada"]
    track_sort = f"?sort=-track-{world['track'].pk}"
    assert rows(dashboard(client, world, track_sort)) == ["ada", "Bea", "Cy"]


def sort_headers(html: str) -> dict[str, tuple[str | None, str]]:
    """Per sortable column (its link's id): the header's aria-sort (None when absent) and the
    link's accessible name (its text, the visually hidden part included)."""
    head = html.split('data-testid="member-table"', 1)[1].split("</thead>", 1)[0]
    cells = re.findall(
        r'<th scope="col"(?: aria-sort="(\w+)")?><a id="sort-([\w-]+)"[^>]*>(.*?)</a></th>', head
    )
    return {link: (aria or None, re.sub(r"<[^>]+>", "", text)) for aria, link, text in cells}


def test_sortable_headers_say_what_they_do_and_the_sorted_one_its_order(client, world):
    world["member"]("Ada", 1)
    title = world["track"].title
    html = dashboard(client, world)
    assert '<caption class="visually-hidden">Members, sorted by Name, ascending</caption>' in html
    assert sort_headers(html) == {
        "name": ("ascending", "Name, sort descending"),
        "track-1": (None, f"Progress in {title}, sort ascending"),
        "points": (None, "Points, sort descending"),  # most points first
        "activity": (None, "Last activity, sort descending"),  # most recent first
        "pace": (None, "Pace, sort ascending"),
    }
    fragment = dashboard(
        client, world, "?sort=-points", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="member-table"
    )
    assert "Members, sorted by Points, descending</caption>" in fragment
    headers = sort_headers(fragment)
    assert headers["points"] == ("descending", "Points, sort ascending")
    assert headers["name"] == (None, "Name, sort ascending")
    track = dashboard(client, world, f"?sort=track-{world['track'].pk}")
    assert f"Members, sorted by Progress in {title}, ascending</caption>" in track
    assert sort_headers(track)["track-1"] == ("ascending", f"Progress in {title}, sort descending")


def test_filters_by_pace_at_risk_name_and_track(client, world):
    world["member"]("Behind Bo", 0)
    world["member"]("Quiet Quinn", 2, days_ago=20)
    world["member"]("Keen Kim", 3)
    assert rows(dashboard(client, world, "?pace=behind")) == ["Behind Bo"]
    assert rows(dashboard(client, world, "?pace=ahead")) == ["Keen Kim"]
    assert rows(dashboard(client, world, "?pace=on_pace")) == ["Quiet Quinn"]
    assert rows(dashboard(client, world, "?pace=at_risk")) == ["Quiet Quinn"]
    assert rows(dashboard(client, world, "?q=KIM")) == ["Keen Kim"]
    assert "No members match." in dashboard(client, world, "?q=zzz")
    other = build_track(modules=1, resources=1, title="Other")[0]
    refused = client.get(f"/cohorts/{world['cohort'].slug}/?track={other.pk}")
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
    assert len(rows(dashboard(client, world, f"?track={world['track'].pk}"))) == 3


def test_a_name_is_found_without_its_accents(client, world):
    world["member"]("Zoë Müller", 1)
    world["member"]("Ximena López", 1)
    world["member"]("Jürgen Großmann", 1)
    world["member"]("Percent 100%_sure", 1)
    assert rows(dashboard(client, world, "?q=muller")) == ["Zoë Müller"]
    assert rows(dashboard(client, world, "?q=ZOE")) == ["Zoë Müller"]
    assert rows(dashboard(client, world, "?q=müll")) == ["Zoë Müller"]
    assert rows(dashboard(client, world, "?q=lopez")) == ["Ximena López"]
    assert rows(dashboard(client, world, "?q=grossmann")) == ["Jürgen Großmann"]
    assert rows(dashboard(client, world, "?q=100%25_")) == ["Percent 100%_sure"]  # literal


def test_behind_by_more_than_one_module_is_at_risk(client, world):
    from cohorts.models import CohortModuleTarget

    # Week 2: move every target to week 1, so two modules are late for someone with none.
    CohortModuleTarget.objects.filter(cohort=world["cohort"]).update(target_week=1)
    world["member"]("Amy, two behind", 1)
    world["member"]("Three behind", 0)
    html = dashboard(client, world)
    assert pace_of(html, "Three behind") == "Behind by 3 modules"
    at_risk = html.split('data-testid="at-risk"', 1)[1].split("</ul>", 1)[0]
    names = re.findall(r'<label for="risk-\d+">([^<]*)</label>', at_risk)
    assert names == ["Three behind", "Amy, two behind"]  # the most behind first, not by name


def test_pages_of_fifty_with_links_that_keep_the_filter(client, world):
    for n in range(55):
        world["member"](f"Member {n:02d}", 1)
    html = dashboard(client, world, "?sort=-name&pace=on_pace")
    assert len(rows(html)) == 50 and rows(html)[0] == "Member 54"
    assert "55 members, showing 1–50 (page 1 of 2)" in html
    link = re.search(r'<a id="page-next" href="\?([^"]*)"[^>]*>Next page</a>', html).group(1)
    query = parse_qs(link.replace("&amp;", "&"))
    assert query == {"sort": ["-name"], "pace": ["on_pace"], "page": ["2"]}
    second = dashboard(client, world, "?" + link.replace("&amp;", "&"))
    assert rows(second) == ["Member 04", "Member 03", "Member 02", "Member 01", "Member 00"]
    # A page past the end shows the last page.
    assert rows(dashboard(client, world, "?sort=-name&pace=on_pace&page=9")) == rows(second)


def test_htmx_gets_the_table_fragment_and_every_control_works_without_javascript(client, world):
    world["member"]("Ada", 1)
    html = dashboard(client, world)
    form = html.split('class="member-filters"', 1)[0].rsplit("<form", 1)[1]
    assert 'method="get"' in form and f'action="/cohorts/{world["cohort"].slug}/"' in form
    for anchor in re.findall(r"<a [^>]*hx-get[^>]*>", html):
        assert 'href="' in anchor  # a real link under every HTMX one
    fragment = dashboard(
        client, world, "?sort=-points", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="member-table"
    )
    assert fragment.lstrip().startswith('<div id="member-table">')
    assert "<html" not in fragment and "Ada" in fragment


def test_a_sort_by_column_brings_the_filter_form_up_to_date(client, world):
    world["member"]("Ada", 1)
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "member-table"}
    fragment = dashboard(client, world, "?pace=behind&sort=-points", **htmx)
    form = fragment.split('<form method="get" action="/cohorts/', 2)[-1]
    assert 'id="member-filters"' in form and 'hx-swap-oob="true"' in form
    assert re.search(r'<option value="-points"[^>]*selected', form)
    assert re.search(r'<option value="behind"[^>]*selected', form)
    # A change made in the form itself: the form already shows it, and keeps its focus.
    from_form = dashboard(client, world, "?pace=behind", HTTP_HX_TRIGGER="member-filters", **htmx)
    assert 'id="member-filters"' not in from_form


def test_a_bad_filter_value_is_named_and_the_rest_applies(client, world):
    world["member"]("Ada", 1)
    client.force_login(world["admin"])
    response = client.get(f"/cohorts/{world['cohort'].slug}/?pace=sideways&q=ada")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice" in html and rows(html) == ["Ada"]


def test_heat_map_counts_units_per_module_for_the_page(client, world):
    learner = world["member"]("Ada", 1)
    now = timezone.now()
    (first, first_items), (second, second_items), _ = world["built"]
    for resource in first_items:
        progress_done(learner, resource, when=now)
    progress_done(learner, second_items[0], when=now)
    html = dashboard(client, world)
    table = html.split('data-testid="heat-table"', 1)[1].split("</table>", 1)[0]
    ada = table.split('<th scope="row">Ada</th>', 1)[1].split("</tr>", 1)[0]
    assert re.findall(r"<td>([^<]*)</td>", ada) == ["2 of 2", "1 of 2", "0 of 2"]


def test_heat_map_headers_name_each_module_and_its_due_week_escaped(client):
    track, built = build_track(modules=2, resources=1, title="R&D <b>")
    admin = UserFactory()
    today = timezone.now().date()
    cohort = cohort_with_tracks(
        track, admin=admin, targets={built[1][0]: 4}, starts_on=today - timedelta(days=8)
    )
    cohort_member(cohort, display_name="Ada")
    client.force_login(admin)
    html = client.get(f"/cohorts/{cohort.slug}/").content.decode()

    table = html.split('data-testid="heat-table"', 1)[1].split("</thead>", 1)[0]
    assert re.findall(r'<th scope="col">([^<]*)</th>', table) == [
        "Member",
        "R&amp;D &lt;b&gt; module 1: R&amp;D &lt;b&gt; module 1",
        "R&amp;D &lt;b&gt; module 2: R&amp;D &lt;b&gt; module 2 (due week 4)",
    ]
    shaded = html.split('data-testid="heat-map"', 1)[1].split("</thead>", 1)[0]
    assert re.findall(r'<th title="([^"]*)">(\d+)</th>', shaded) == [
        ("R&amp;D &lt;b&gt; module 1", "1"),
        ("R&amp;D &lt;b&gt; module 2, due week 4", "2"),
    ]


def test_weekly_chart_counts_members_completions_per_week(client, world):
    ada = world["member"]("Ada", 1)
    outsider = UserFactory()
    start = world["cohort"].starts_on
    monday = start - timedelta(days=start.weekday())
    items = [r for _, resources in world["built"] for r in resources]

    def at(day):
        return datetime.combine(day, time(12), tzinfo=UTC)

    progress_done(ada, items[0], when=at(monday))
    progress_done(ada, items[1], when=at(monday + timedelta(days=6)))
    progress_done(ada, items[2], when=at(monday + timedelta(days=7)))
    progress_done(ada, items[3], when=at(monday - timedelta(days=1)))  # the week before
    progress_done(outsider, items[4], when=at(monday))  # not a member
    html = dashboard(client, world)
    table = html.split('data-testid="weekly-table"', 1)[1].split("</table>", 1)[0]
    counts = re.findall(r"<td>(\d+)</td>", table)
    assert counts[:2] == ["2", "1"] and set(counts[2:]) <= {"0"}
    assert f'datetime="{monday:%Y-%m-%d}"' in table
    assert "<svg" in html and "3 completions" in html


def test_the_weekly_chart_is_recounted_after_the_time_it_says(client, world, settings):
    """The chart is kept in the shared cache for COHORT_CHART_CACHE_SECONDS and says how often
    it is recounted; the member table beside it is live."""
    settings.COHORT_CHART_CACHE_SECONDS = 300
    ada = world["member"]("Ada", 1)
    items = [r for _, resources in world["built"] for r in resources]
    now = timezone.now()
    progress_done(ada, items[0], when=now)
    first = dashboard(client, world)
    assert "1 completions by the cohort" in first and "Recounted every 5 minutes." in first
    progress_done(ada, items[1], when=now)
    assert "1 completions by the cohort" in dashboard(client, world)  # within the 5 minutes
    settings.COHORT_CHART_CACHE_SECONDS = 0  # not kept: counted on every request
    fresh = dashboard(client, world)
    assert "2 completions by the cohort" in fresh and "Recounted every" not in fresh


def test_leaderboard_shows_opted_out_members_as_anonymous(client, world):
    world["member"]("Shown Sam", 1, points=50)
    world["member"]("Hidden Hal", 1, points=70, show_on_leaderboards=False)
    world["member"]("No points", 1, points=0)
    html = dashboard(client, world)
    board = html.split('data-testid="leaderboard"', 1)[1].split("</ol>", 1)[0]
    assert "Hidden Hal" not in board
    names = re.findall(r'<span class="leader-name[^"]*">([^<]*)</span>', board)
    assert names == ["Anonymous member", "Shown Sam"]


def test_at_risk_list_and_leaderboard_show_the_first_ten_of_many(client, world):
    """Both come from the table's own query (the first few of each order): only the first
    ten of each are shown, with a link to all members at risk."""
    for n in range(13):  # quiet for 20 days: at risk; points 10, 20, ... 130
        world["member"](f"Quiet {n:02}", 1, points=10 * (n + 1), days_ago=20)
    world["member"]("Busy Bea", 1, points=5)
    world["member"]("Busy Bo", 1, points=0)
    html = dashboard(client, world)
    risk = html.split('data-testid="at-risk"', 1)[1].split("</ul>", 1)[0]
    assert risk.count("<li>") == 10 and "Busy" not in risk
    assert "All 13 members at risk" in html
    board = html.split('data-testid="leaderboard"', 1)[1].split("</ol>", 1)[0]
    names = re.findall(r'<span class="leader-name[^"]*">([^<]*)</span>', board)
    assert names == [f"Quiet {n:02}" for n in range(12, 2, -1)]
    table = html.split('data-testid="member-table"', 1)[1].split("</table>", 1)[0]
    assert table.count('data-testid="member-row"') == 15
    assert "15 members, showing 1–15" in html


def test_a_member_is_sent_to_the_member_page(client, world):
    learner = world["member"]("Ada", 1)
    client.force_login(learner)
    response = client.get(f"/cohorts/{world['cohort'].slug}/")
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == f"/cohorts/{world['cohort'].slug}/home/"


def test_a_bad_filter_over_htmx_loads_the_page_with_its_message(client, world):
    client.force_login(world["admin"])
    url = f"/cohorts/{world['cohort'].slug}/?pace=sideways"
    response = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="member-table")
    assert response.status_code == 400 and response["HX-Redirect"] == url
