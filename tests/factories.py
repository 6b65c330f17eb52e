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
