"""Every cohort page reads in a fixed number of queries, however many members, modules and
progress rows there are; and no template runs a query."""

from __future__ import annotations

import pytest
from django.test import Client

from .dashboard_world import count_queries, grow_cohort, no_queries_while_rendering

pytestmark = pytest.mark.django_db

PAGES = {
    "dashboard": "/cohorts/{slug}/",
    "dashboard, filtered and sorted": "/cohorts/{slug}/?pace=on_pace&sort=-points&q=member",
    "member table fragment": "/cohorts/{slug}/?sort=-activity",
    "home": "/cohorts/{slug}/home/",
    "export": "/cohorts/{slug}/members.csv?sort=pace",
    "messages, everyone matching": "/cohorts/{slug}/messages/?all=1&pace=on_pace",
}


def queries_for(size: int) -> dict[str, int]:
    cohort, admin, _ = grow_cohort(
        members=3 * size, modules=2 * size, resources=3, done=size, weeks_in=size
    )
    client = Client()
    client.force_login(admin)
    counts = {}
    for name, pattern in PAGES.items():
        url = pattern.format(slug=cohort.slug)
        headers = (
            {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "member-table"}
            if ("fragment" in name)
            else {}
        )
        client.get(url, **headers)  # the tracks' structures are cached per process: warm them
        with no_queries_while_rendering():
            counts[name], response = count_queries(client, url, **headers)
        if name == "export":
            lines = b"".join(response.streaming_content).decode().splitlines()
            assert len(lines) == 3 * size + 1
    return counts


def test_every_cohort_page_runs_the_same_queries_for_ten_times_the_data(settings):
    settings.COHORT_CHART_CACHE_SECONDS = 0  # the weekly chart counted on every request
    small = queries_for(1)
    large = queries_for(10)
    assert small == large
    # Issue 13's budget is 12: the signed-in admin, the cohort, their roles, the cohort's
    # tracks, targets and phases, one query for the page of members with their count, the
    # at-risk list and the leaderboard, one for the heat map's done and passed ids, the weekly
    # chart and the header's profile.
    assert small["dashboard"] == 10, small


def test_a_query_in_a_template_fails_the_page_test():
    """The guard itself: a template that reads the database is caught."""
    from django.template import Context, Template

    cohort, admin, _ = grow_cohort(members=1, modules=1, resources=1, done=0)
    template = Template("{% for m in memberships.all %}{{ m.pk }}{% endfor %}")
    with no_queries_while_rendering(), pytest.raises(AssertionError, match="A template ran"):
        template.render(Context({"memberships": cohort.memberships}))
