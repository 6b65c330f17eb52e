"""factory-boy factories shared by every test package."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from curriculum.models import Capstone, Module, Resource, ResourceKind, Track
from curriculum.services import curriculum_item_derive


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"learner{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def email_verified(user, create, extracted, **kwargs):
        """Log-in needs a confirmed address (ACCOUNT_EMAIL_VERIFICATION = mandatory):
        factory users have confirmed theirs, unless made with email_verified=False."""
        if create and user.email and extracted is not False:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)


class _Derived(factory.django.DjangoModelFactory):
    """Fill *_html and points the way the loader does, so factory rows look loaded."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        item = model_class(*args, **kwargs)
        curriculum_item_derive(item=item)
        item.save()
        return item


class TrackFactory(_Derived):
    class Meta:
        model = Track

    slug = factory.Sequence(lambda n: f"track-{n}")
    title = factory.Sequence(lambda n: f"Track {n}")
    summary = "A *track*."


class ModuleFactory(_Derived):
    class Meta:
        model = Module

    track = factory.SubFactory(TrackFactory)
    slug = factory.Sequence(lambda n: f"module-{n}")
    title = factory.Sequence(lambda n: f"Module {n}")
    position = factory.Sequence(lambda n: n)


class ResourceFactory(_Derived):
    class Meta:
        model = Resource

    module = factory.SubFactory(ModuleFactory)
    track = factory.SelfAttribute("module.track")
    slug = factory.Sequence(lambda n: f"resource-{n}")
    title = factory.Sequence(lambda n: f"Resource {n}")
    kind = ResourceKind.VIDEO
    url = "https://example.com/watch"
    minutes = 20
    points_override = None  # `points` itself is derived on create, as the loader does
    position = factory.Sequence(lambda n: n)


class CapstoneFactory(_Derived):
    class Meta:
        model = Capstone

    module = factory.SubFactory(ModuleFactory)
    track = factory.SelfAttribute("module.track")
    slug = factory.Sequence(lambda n: f"capstone-{n}")
    title = factory.Sequence(lambda n: f"Capstone {n}")
    brief = "Build **something** real."
    constraints = factory.LazyFunction(lambda: ["Only PyTorch, TensorFlow or MXNet"])
    points = 100
    position = factory.Sequence(lambda n: n)


def enrol(learner, *tracks):
    """Enrol `learner` in each track through the real service (services refuse progress,
    notes and capstone work from learners who are not enrolled)."""
    from tracker import services

    for track in tracks:
        services.enrolment_join(learner=learner, track=track)
    return learner


# --- cohorts ------------------------------------------------------------------------------------
# Rows made directly (the dashboard's tests need thousands fast); `cohorts.services` is what the
# site uses, and tests of behaviour go through it (tests/cohorts/).


class CohortFactory(factory.django.DjangoModelFactory):
    """A cohort over this week and the next eleven. `tracks=[...]` links tracks (no targets:
    add them with CohortModuleTargetFactory or `cohorts.services.cohort_targets_reset`)."""

    class Meta:
        model = "cohorts.Cohort"
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"cohort-{n}")
    name = factory.Sequence(lambda n: f"Cohort {n}")
    starts_on = factory.LazyFunction(lambda: _today())
    ends_on = factory.LazyAttribute(lambda c: c.starts_on + _days(83))
    created_at = factory.LazyFunction(lambda: _now())
    updated_at = factory.SelfAttribute("created_at")

    @factory.post_generation
    def tracks(cohort, create, extracted, **kwargs):
        from cohorts.models import CohortTrack

        for position, track in enumerate(extracted or []):
            CohortTrack.objects.create(cohort=cohort, track=track, position=position)


class CohortMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cohorts.CohortMembership"

    cohort = factory.SubFactory(CohortFactory)
    user = factory.SubFactory(UserFactory)
    role = "member"
    joined_at = factory.LazyFunction(lambda: _now())


class CohortInviteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cohorts.CohortInvite"

    cohort = factory.SubFactory(CohortFactory)
    created_at = factory.LazyFunction(lambda: _now())


class CohortModuleTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cohorts.CohortModuleTarget"

    cohort = factory.SubFactory(CohortFactory)
    module = factory.SubFactory(ModuleFactory)
    target_week = 1


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cohorts.Team"

    cohort = factory.SubFactory(CohortFactory)
    name = factory.Sequence(lambda n: f"Team {n}")
    created_at = factory.LazyFunction(lambda: _now())


class TeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cohorts.TeamMembership"

    team = factory.SubFactory(TeamFactory)
    cohort = factory.SelfAttribute("team.cohort")
    user = factory.SubFactory(UserFactory)
    added_at = factory.LazyFunction(lambda: _now())


def _now():
    from django.utils import timezone

    return timezone.now()


def _today():
    from django.utils import timezone

    return timezone.localdate()


def _days(n: int):
    from datetime import timedelta

    return timedelta(days=n)


def cohort_with_tracks(*tracks, admin=None, targets=None, **kwargs):
    """A cohort over `tracks` (in order) with `admin` as its admin; `targets` maps module →
    target week (by default none: no pace plan)."""
    from django.utils import timezone

    from cohorts.models import CohortMembership, CohortModuleTarget, CohortRole, CohortTrack

    cohort = CohortFactory(**kwargs)
    for position, track in enumerate(tracks):
        CohortTrack.objects.create(cohort=cohort, track=track, position=position)
    for module, week in (targets or {}).items():
        CohortModuleTarget.objects.create(cohort=cohort, module=module, target_week=week)
    if admin is not None:
        CohortMembership.objects.create(
            cohort=cohort, user=admin, role=CohortRole.ADMIN, joined_at=timezone.now()
        )
    return cohort


def cohort_member(
    cohort, user=None, *, joined_at=None, totals=None, display_name=None, show_on_leaderboards=True
):
    """An active member with an enrolment in each cohort track whose kept totals are set
    directly: `totals` maps track → dict of done_units, required_units, modules_done, points,
    last_activity_at (missing keys stay 0/None)."""
    from django.utils import timezone

    from cohorts.models import CohortMembership
    from tracker.models import Enrolment, Profile

    user = user or UserFactory()
    now = timezone.now()
    CohortMembership.objects.create(cohort=cohort, user=user, joined_at=joined_at or now)
    Profile.objects.update_or_create(
        user=user,
        defaults={
            "display_name": display_name if display_name is not None else f"Member {user.pk}",
            "show_on_leaderboards": show_on_leaderboards,
        },
    )
    totals = totals or {}
    for track in cohort.tracks.all():
        Enrolment.objects.update_or_create(
            learner=user,
            track=track,
            defaults={"enrolled_at": joined_at or now, **totals.get(track, {})},
        )
    return user
