"""The demo cohort for `make run` (called by `tracker.demo.demo_accounts_create`): the TechLabs
Berlin AI track run as a cohort whose learning phase is a few weeks in today, a demo cohort
admin, a few dozen members with generated progress spread over the past weeks (some ahead,
most on pace, some behind, some gone quiet for weeks, a couple who never started), and two
project teams. Everything goes through the services, with past instants, so the per-member
totals, the ledger and the activity dates are what they would be had it happened.

Generated from a fixed seed: the same members, progress and teams every time. Created once:
when the cohort exists, nothing is done (so running `make run` again changes nothing)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from curriculum.models import Module, Resource, Track
from tracker import services as tracker_services
from tracker.models import ProgressStatus

from . import services
from .models import Cohort, CohortMembership, CohortRole

COHORT_SLUG = "techlabs-berlin-demo"
COHORT_NAME = "TechLabs Berlin: Digital Shaper demo cohort"
TRACK_SLUG = "techlabs-ai"
SEED = 2020  # the year of the post the track comes from
LEARNING_WEEKS = 8
PROJECT_WEEKS = 6
TODAY_IN_WEEK = 5  # today falls in this week of the learning phase
MEMBER_DOMAIN = "demo.waymark.local"

# (how many, complete learning modules, days since their last activity): about a dozen on
# pace, some ahead, some behind, some who stopped weeks ago, two who joined and never started.
ARCHETYPES = [
    ("ahead", 6, (8, 10), (0, 3)),
    ("on pace", 14, (5, 7), (0, 5)),
    ("behind", 8, (3, 4), (1, 9)),
    ("gone quiet", 6, (1, 3), (15, 30)),
    ("never started", 2, (0, 0), None),
]

# Generated members' names: made up, from the many countries TechLabs Berlin's members came from.
MEMBER_NAMES = [
    "Amira Haddad", "Ben Kowalski", "Chiara Romano", "Daniel Osei", "Elif Yılmaz",
    "Felix Wagner", "Grace Mensah", "Hannah Fischer", "Ivan Petrov", "Julia Schmidt",
    "Kenji Watanabe", "Lena Hoffmann", "Mateo García", "Nadia Rahman", "Oskar Lindqvist",
    "Priya Nair", "Quentin Dubois", "Rosa Martínez", "Samuel Adeyemi", "Tara O'Neill",
    "Uwe Becker", "Valentina Rossi", "Wei Zhang", "Ximena López", "Yusuf Demir",
    "Zoe Müller", "Aaron Klein", "Bianca Costa", "Carlos Silva", "Dilara Aydın",
    "Emil Novak", "Fatima Benali", "Georg Weber", "Hana Sato", "Isabel Torres",
    "Jonas Richter",
]  # fmt: skip

TEAMS = [
    (
        "Team Solar",
        "Solar panel fault finder",
        "https://github.com/techlabs-demo/solar-fault-finder",
    ),
    (
        "Team Transit",
        "Berlin bus delay forecasts",
        "https://github.com/techlabs-demo/bvg-delay-forecasts",
    ),
]
TEAM_SIZE = 4


@dataclass(frozen=True)
class DemoMember:
    email: str
    name: str
    kind: str
    modules: int  # complete learning modules
    quiet_days: int | None  # days since their last activity (None: never active)


def demo_dates(today: date) -> tuple[date, date, date]:
    """The cohort's first day (a Monday, so that today is in week TODAY_IN_WEEK), the last day
    of its learning phase and the last day of the cohort."""
    starts_on = today - timedelta(days=today.weekday()) - timedelta(weeks=TODAY_IN_WEEK - 1)
    learning_ends = starts_on + timedelta(weeks=LEARNING_WEEKS, days=-1)
    return starts_on, learning_ends, learning_ends + timedelta(weeks=PROJECT_WEEKS)


def learning_targets(count: int) -> list[int]:
    """The learning modules' target weeks, spread evenly over the learning phase."""
    return [position * LEARNING_WEEKS // count + 1 for position in range(count)]


def demo_members(rng: random.Random) -> list[DemoMember]:
    kinds = []
    for kind, count, modules, quiet in ARCHETYPES:
        for _ in range(count):
            kinds.append((kind, rng.randint(*modules), rng.randint(*quiet) if quiet else None))
    rng.shuffle(kinds)
    members = []
    for number, (name, (kind, modules, quiet)) in enumerate(
        zip(MEMBER_NAMES, kinds, strict=True), start=1
    ):
        email = f"member{number:02d}@{MEMBER_DOMAIN}"
        members.append(DemoMember(email, name, kind, modules, quiet))
    return members


def demo_cohort_create(*, staff, admin, learner=None, now: datetime | None = None) -> Cohort | None:
    """Create the demo cohort (once): `staff` sets it up and hands it to `admin`, the demo
    cohort admin; `learner` (the demo learner) joins it too, on pace. Returns the new cohort,
    or None when it exists already or the TechLabs track is not loaded."""
    track = Track.objects.active().filter(slug=TRACK_SLUG).first()
    if track is None or Cohort.objects.filter(slug=COHORT_SLUG).exists():
        return None
    now = now or timezone.now()
    rng = random.Random(SEED)
    starts_on, learning_ends, ends_on = demo_dates(timezone.localdate(now))
    start = datetime.combine(starts_on, time(9), tzinfo=UTC)

    cohort = services.cohort_create(
        by=staff,
        name=COHORT_NAME,
        slug=COHORT_SLUG,
        starts_on=starts_on,
        ends_on=ends_on,
        track_ids=[track.pk],
        description=(
            "The AI track of the TechLabs Berlin **Digital Shaper Program**, run as a cohort: "
            f"{LEARNING_WEEKS} weeks of self-paced learning on Waymark, then a "
            f"{PROJECT_WEEKS}-week project phase in teams with people from other tracks. "
            "Generated demo data."
        ),
        now=start - timedelta(weeks=2),
    )
    services.cohort_admin_add(by=staff, cohort=cohort, user_email=admin.email, now=start)
    services.cohort_admin_remove(
        by=admin,
        membership=CohortMembership.objects.get(cohort=cohort, user=staff, role=CohortRole.ADMIN),
        now=start,
    )
    services.cohort_phases_set(
        by=admin,
        cohort=cohort,
        phases=[
            services.PhaseInput(name="Learning phase", starts_on=starts_on, ends_on=learning_ends),
            services.PhaseInput(
                name="Project phase", starts_on=learning_ends + timedelta(days=1), ends_on=ends_on
            ),
        ],
    )
    modules = list(Module.objects.active().filter(track=track).order_by("position", "pk"))
    learning, project = modules[:-1], modules[-1]
    targets = dict(zip([m.pk for m in learning], learning_targets(len(learning)), strict=True))
    targets[project.pk] = LEARNING_WEEKS + PROJECT_WEEKS
    services.cohort_targets_set(by=admin, cohort=cohort, target_weeks=targets)
    invite = services.invite_create(by=admin, cohort=cohort, max_uses=100, now=start)

    required = _required_resources(learning)
    joined = []
    for member in demo_members(rng):
        user = _member_account(member)
        joined_at = start + timedelta(days=rng.randint(0, 3), hours=rng.randint(8, 12))
        services.cohort_join(user=user, code=invite.code, now=joined_at)
        _progress(user, member, required, joined_at=joined_at, now=now, rng=rng)
        joined.append((user, member))
    if learner is not None:
        joined_at = start + timedelta(days=1, hours=10)
        services.cohort_join(user=learner, code=invite.code, now=joined_at)
        on_pace = DemoMember(learner.email, "", "on pace", TODAY_IN_WEEK, 1)
        _progress(learner, on_pace, required, joined_at=joined_at, now=now, rng=rng)

    candidates = [user for user, member in joined if member.kind in ("ahead", "on pace")]
    rng.shuffle(candidates)
    for number, (name, title, link) in enumerate(TEAMS):
        team = services.team_create(
            by=admin, cohort=cohort, name=name, project_title=title, project_link=link, now=now
        )
        for user in candidates[number * TEAM_SIZE : (number + 1) * TEAM_SIZE]:
            services.team_member_add(by=admin, team=team, user=user, now=now)
    return cohort


def _required_resources(modules: list[Module]) -> list[list[Resource]]:
    """Each learning module's required resources in track order (the demo marks them done),
    then its optional ones (some members read a paper or two)."""
    found = []
    for module in modules:
        items = list(
            Resource.objects.active()
            .filter(module=module)
            .select_related("track")
            .order_by("position", "pk")
        )
        found.append(
            [r for r in items if not r.optional and not r.choice] + [r for r in items if r.optional]
        )
    return found


def _member_account(member: DemoMember):
    """A generated member: no password (they fill the dashboard; the demo accounts log in)."""
    user = get_user_model().objects.create_user(
        username=member.email.split("@")[0], email=member.email, password=None
    )
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    profile = tracker_services.profile_get_or_create(user=user)
    tracker_services.profile_update(
        user=user,
        display_name=member.name,
        time_zone="Europe/Berlin",
        nudge_enabled=profile.nudge_enabled,
        nudge_weekday=profile.nudge_weekday,
        nudge_hour=profile.nudge_hour,
    )
    return user


def _progress(user, member: DemoMember, modules, *, joined_at, now, rng) -> None:
    """Mark done, in track order and at instants spread from joining to their last activity,
    the required resources of `member.modules` modules (with an optional paper now and then),
    then start on the next module: a resource or two done, one in progress."""
    if member.quiet_days is None:
        return
    steps: list[tuple[Resource, str]] = []
    for items in modules[: member.modules]:
        for resource in items:
            # Every required item; an optional paper now and then.
            if not resource.optional or rng.random() < 0.25:
                steps.append((resource, ProgressStatus.DONE))
    if member.modules < len(modules):
        upcoming = [r for r in modules[member.modules] if not r.optional]
        for resource in upcoming[: rng.randint(0, max(0, len(upcoming) - 1))]:
            steps.append((resource, ProgressStatus.DONE))
        if upcoming:
            steps.append((upcoming[min(len(upcoming) - 1, 1)], ProgressStatus.IN_PROGRESS))
    if not steps:
        return
    last = now - timedelta(days=member.quiet_days, hours=rng.randint(1, 10))
    last = max(last, joined_at + timedelta(hours=len(steps)))
    span = (last - joined_at).total_seconds()
    instants = sorted(rng.uniform(0, span) for _ in steps[:-1]) + [span]
    seen: set[int] = set()
    for (resource, status), offset in zip(steps, instants, strict=True):
        if resource.pk in seen and status == ProgressStatus.IN_PROGRESS:
            continue  # already done: starting on it again would undo it
        seen.add(resource.pk)
        tracker_services.progress_set_status(
            learner=user,
            resource=resource,
            status=status,
            now=joined_at + timedelta(seconds=offset),
        )
