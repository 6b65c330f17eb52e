"""`make run`'s demo cohort (cohorts/demo.py): the TechLabs track run as a cohort a few weeks
into its learning phase, a demo cohort admin, a few dozen members with generated progress over
the past weeks (ahead, on pace, behind, quiet for weeks), two project teams; created once.

One test builds the demo (loading the seeds and generating the members takes a while) and
checks it from every side."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from django.db.models import Count
from django.utils import timezone

from cohorts import demo as demo_cohort
from cohorts.models import Cohort, CohortMembership, CohortRole, Team, TeamMembership
from cohorts.pace import PaceStatus, cohort_week
from cohorts.standing import standings_for
from curriculum.loader import load_paths
from tracker import demo
from tracker.models import Enrolment, PointsEntry, Progress
from tracker.services.totals import totals_repair

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.mark.django_db
def test_the_demo_cohort(tmp_path, monkeypatch):
    credentials = tmp_path / "demo-accounts.txt"
    monkeypatch.setattr(demo, "CREDENTIALS_FILE", credentials)
    load_paths([str(SEEDS)])
    created = demo.demo_accounts_create()

    # Run by the demo cohort admin, whose account is listed with the others.
    assert demo.COHORT_ADMIN_EMAIL in {account.email for account, _ in created}
    listed = credentials.read_text()
    assert f"{demo.COHORT_ADMIN_EMAIL}\t" in listed
    assert f"/cohorts/{demo_cohort.COHORT_SLUG}/" in listed
    cohort = Cohort.objects.get(slug=demo_cohort.COHORT_SLUG)
    admins = CohortMembership.objects.filter(
        cohort=cohort, role=CohortRole.ADMIN, removed_at__isnull=True
    )
    assert [m.user.email for m in admins] == [demo.COHORT_ADMIN_EMAIL]
    assert [link.track.slug for link in cohort.cohort_tracks.all()] == [demo_cohort.TRACK_SLUG]

    # Today falls a few weeks into the learning phase; the project phase follows it.
    today = timezone.localdate()
    assert cohort_week(starts_on=cohort.starts_on, today=today) == demo_cohort.TODAY_IN_WEEK
    learning, project = cohort.phases.order_by("starts_on")
    assert learning.name == "Learning phase" and project.name == "Project phase"
    assert learning.starts_on == cohort.starts_on <= today <= learning.ends_on
    assert project.starts_on == learning.ends_on + timedelta(days=1)
    assert project.ends_on == cohort.ends_on
    weeks = sorted(cohort.module_targets.values_list("target_week", flat=True))
    assert weeks[0] == 1 and weeks[-2] == demo_cohort.LEARNING_WEEKS
    assert weeks[-1] == demo_cohort.LEARNING_WEEKS + demo_cohort.PROJECT_WEEKS

    # Members ahead, on pace and behind; the demo learner on pace among them.
    members = list(
        CohortMembership.objects.filter(cohort=cohort, role=CohortRole.MEMBER).values_list(
            "user_id", flat=True
        )
    )
    assert len(members) == len(demo_cohort.MEMBER_NAMES) + 1
    standings = standings_for(today_by_learner={pk: today for pk in members}, complete_modules={})
    statuses = [standings[pk][0].pace.status for pk in members]
    assert statuses.count(PaceStatus.AHEAD) >= 4
    assert statuses.count(PaceStatus.ON_PACE) >= 10
    assert statuses.count(PaceStatus.BEHIND) >= 10
    learner = cohort.memberships.get(user__email=demo.LEARNER_EMAIL).user_id
    assert standings[learner][0].pace.status is PaceStatus.ON_PACE

    # Some quiet for weeks (the at-risk list), two who never started.
    now = timezone.now()
    enrolments = Enrolment.objects.filter(
        learner_id__in=members, track__slug=demo_cohort.TRACK_SLUG
    )
    assert enrolments.filter(last_activity_at__lt=now - timedelta(days=14)).count() >= 4
    assert enrolments.filter(last_activity_at__isnull=True).count() == 2
    # Completions over the past weeks since the cohort started (the weekly chart), with their
    # points in the ledger at the same instants, and totals in step with both.
    done = list(Progress.objects.filter(learner_id__in=members, completed_at__isnull=False))
    assert len({(now - row.completed_at).days // 7 for row in done}) >= 4
    first_day = timezone.make_aware(datetime.combine(cohort.starts_on, time.min))
    assert min(row.completed_at for row in done) >= first_day
    assert PointsEntry.objects.filter(
        learner_id__in=members, created_at__lt=now - timedelta(days=7)
    ).exists()
    assert totals_repair(fix=False).drift == 0

    # Two project teams of members.
    teams = (
        Team.objects.filter(cohort=cohort).annotate(size=Count("team_memberships")).order_by("name")
    )
    assert [(t.name, t.size) for t in teams] == [("Team Solar", 4), ("Team Transit", 4)]
    assert all(t.project_title and t.project_link for t in teams)
    in_teams = set(TeamMembership.objects.filter(cohort=cohort).values_list("user_id", flat=True))
    assert in_teams <= set(members)

    # Running it again changes nothing.
    counts = (Progress.objects.count(), PointsEntry.objects.count(), Team.objects.count())
    assert demo.demo_accounts_create() == []
    assert Cohort.objects.count() == 1
    assert (Progress.objects.count(), PointsEntry.objects.count(), Team.objects.count()) == counts


def test_the_generated_members_come_from_a_fixed_seed():
    first = demo_cohort.demo_members(random.Random(demo_cohort.SEED))
    again = demo_cohort.demo_members(random.Random(demo_cohort.SEED))
    assert first == again and len({m.email for m in first}) == len(first)
    assert {m.kind for m in first} == {kind for kind, *_ in demo_cohort.ARCHETYPES}
