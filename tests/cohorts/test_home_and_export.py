"""The member page and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from cohorts.models import CohortPhase, Team, TeamMembership
from tests.factories import TrackFactory, UserFactory, cohort_member, cohort_with_tracks

from .dashboard_world import build_track

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    track, built = build_track(modules=3, resources=2, title="Deep Learning")
    today = timezone.now().date()
    admin = UserFactory()
    cohort = cohort_with_tracks(
        track,
        admin=admin,
        targets={module: week for (module, _), week in zip(built, (1, 2, 3), strict=True)},
        starts_on=today - timedelta(days=8),
        ends_on=today + timedelta(weeks=6),
    )
    CohortPhase.objects.create(
        cohort=cohort,
        name="Learning phase",
        starts_on=cohort.starts_on,
        ends_on=today + timedelta(weeks=2),
        position=0,
    )
    CohortPhase.objects.create(
        cohort=cohort,
        name="Project phase",
        starts_on=today + timedelta(weeks=2, days=1),
        ends_on=cohort.ends_on,
        position=1,
    )
    now = timezone.now()

    def member(name, modules_done, points=0, **kwargs):
        return cohort_member(
            cohort,
            display_name=name,
            totals={
                track: {
                    "done_units": 2 * modules_done,
                    "required_units": 6,
                    "modules_done": modules_done,
                    "points": points,
                    "last_activity_at": now - timedelta(days=1),
                }
            },
            **kwargs,
        )

    return {"cohort": cohort, "admin": admin, "track": track, "built": built, "member": member}


def test_the_member_page_shows_phase_pace_next_target_and_team(client, world):
    ada = world["member"]("Ada", 0, points=20)
    bo = world["member"]("Bo", 1, points=40)
    world["member"]("Cy", 1)  # in no team
    now = timezone.now()
    team = Team.objects.create(
        cohort=world["cohort"],
        name="Team Vision",
        project_title="Bird detector",
        project_link="https://example.com/birds",
        created_at=now,
    )
    for user in (ada, bo):
        TeamMembership.objects.create(team=team, cohort=world["cohort"], user=user, added_at=now)
    client.force_login(ada)
    html = client.get(f"/cohorts/{world['cohort'].slug}/home/").content.decode()
    assert 'data-testid="cohort-phase">Learning phase' in html
    assert "Project phase" in html and "Week 2 of 8" in html
    assert 'data-testid="own-pace">Behind by 1 module' in html
    # The sentence's own numbers say why: 0 complete, 1 due by the end of last week.
    assert "0 modules complete</span>; 1 was due by the end of last week and 2 are due" in html
    first_module = world["built"][0][0]
    due = world["cohort"].starts_on + timedelta(days=6)
    assert f"Next target: <strong>{first_module.title}</strong>" in html
    assert f'datetime="{due:%Y-%m-%d}"' in html
    assert "Bird detector" in html and "With Bo." in html
    assert "Cohort dashboard" not in html  # members do not run the cohort


def test_an_admin_sees_the_member_page_without_a_pace_of_their_own(client, world):
    world["member"]("Ada", 0, points=20)
    client.force_login(world["admin"])
    html = client.get(f"/cohorts/{world['cohort'].slug}/home/").content.decode()
    assert "Your pace" not in html and "Cohort dashboard" in html and "Ada" in html


def test_csv_has_the_table_under_the_filter_and_sort_row_by_row(client, world):
    world["member"]("Ada", 0, points=20)
    world["member"]('=HYPERLINK("http://evil")', 2, points=50)
    world["member"]("Bo", 3, points=40)
    client.force_login(world["admin"])
    response = client.get(f"/cohorts/{world['cohort'].slug}/members.csv?sort=-points&pace=")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "name",
        "Deep Learning done",
        "Deep Learning required",
        "Deep Learning percent",
        "points",
        "modules_done",
        "last_activity",
        "pace",
        "at_risk",
    ]
    assert [r[:6] + r[7:] for r in rows[1:]] == [
        ['\'=HYPERLINK("http://evil")', "4", "6", "66", "50", "2", "On pace", "no"],
        ["Bo", "6", "6", "100", "40", "3", "Ahead", "no"],
        ["Ada", "0", "6", "0", "20", "0", "Behind by 1 module", "no"],
    ]
    behind = client.get(f"/cohorts/{world['cohort'].slug}/members.csv?pace=behind")
    lines = b"".join(behind.streaming_content).decode().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Ada,")
    # A lead's track title heads columns too: never read as a formula either.
    world["cohort"].tracks.update(title="=2+2 DL")
    from curriculum.structure import structure_changed

    structure_changed(set(world["cohort"].tracks.values_list("pk", flat=True)))
    response = client.get(f"/cohorts/{world['cohort'].slug}/members.csv")
    header = next(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert header[1:4] == ["'=2+2 DL done", "'=2+2 DL required", "'=2+2 DL percent"]


def test_csv_streams_in_chunks(client, world, django_assert_max_num_queries):
    for n in range(30):
        world["member"](f"Member {n}", 1)
    client.force_login(world["admin"])
    response = client.get(f"/cohorts/{world['cohort'].slug}/members.csv")
    chunks = list(response.streaming_content)
    assert len(chunks) == 31  # one per row: nothing is built up in memory first


def test_the_next_target_is_the_first_module_of_the_plan_not_complete(client, world):
    from .dashboard_world import progress_done

    ada = world["member"]("Ada", 1)
    (first, _), (second, second_items), _ = world["built"]
    for resource in second_items:  # the second module done, the first not
        progress_done(ada, resource, when=timezone.now())
    client.force_login(ada)
    html = client.get(f"/cohorts/{world['cohort'].slug}/home/").content.decode()
    assert f"Next target: <strong>{first.title}</strong>" in html


def test_a_new_member_is_not_told_a_module_with_nothing_required_is_progress(client):
    from tests.factories import ModuleFactory, ResourceFactory, enrol
    from tracker.models import Enrolment

    track = TrackFactory(title="Vision")
    reading = ModuleFactory(track=track, title="Further reading")
    ResourceFactory(module=reading, optional=True)
    basics = ModuleFactory(track=track, title="Basics")
    ResourceFactory(module=basics)
    today = timezone.now().date()
    cohort = cohort_with_tracks(
        track,
        targets={reading: 1, basics: 2},
        starts_on=today - timedelta(days=3),
        ends_on=today + timedelta(weeks=4),
    )
    newcomer = enrol(UserFactory(), track)
    cohort_member(cohort, newcomer)
    # The rule is unchanged: the optional-only module is complete and counts towards pace.
    assert Enrolment.objects.get(learner=newcomer, track=track).modules_done == 1
    client.force_login(newcomer)
    html = client.get(f"/cohorts/{cohort.slug}/home/").content.decode()
    assert (
        'data-testid="modules-complete">0 modules complete (and 1 with nothing required, '
        "which counts as complete)</span>"
    ) in html
    assert "1 module complete" not in html
    # Its target is met from the start: the next one is the module with work to do.
    assert "Next target: <strong>Basics</strong>" in html
