"""Reads of the curriculum. Each selector owns its query shape, so pages run a fixed
number of queries however large the curriculum grows."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from .models import Capstone, Module, Resource, Track


def _active_count(model, **outer):
    """A correlated COUNT of active rows, so two counts never multiply through joins."""
    return Coalesce(
        Subquery(
            model.objects.active()
            .filter(**{key: OuterRef(value) for key, value in outer.items()})
            .order_by()
            .values(next(iter(outer)))
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def track_list() -> QuerySet[Track]:
    """Active tracks with their active module, resource and capstone counts."""
    return (
        Track.objects.active()
        .annotate(
            module_count=_active_count(Module, track="pk"),
            resource_count=_active_count(Resource, track="pk"),
            capstone_count=_active_count(Capstone, track="pk"),
        )
        .prefetch_related(
            Prefetch("requires", queryset=Track.objects.active().only("slug", "title"))
        )
        .order_by("title")
    )


def modules_with_items() -> QuerySet[Module]:
    """Active modules in order, each with its active resources, capstones and prerequisites
    prefetched in order: the shape every track page and completion count walks."""
    return (
        Module.objects.active()
        .order_by("position")
        .prefetch_related(
            Prefetch(
                "resources",
                # A resource of kind track shows its track's title and links to it.
                queryset=Resource.objects.active()
                .select_related("linked_track")
                .order_by("position"),
            ),
            Prefetch("capstones", queryset=Capstone.objects.active().order_by("position")),
            Prefetch(
                "requires", queryset=Module.objects.active().only("id", "slug", "title", "track_id")
            ),
        )
    )


def track_with_contents(*, slug: str) -> Track:
    """One active track with its active modules, and each module's active resources,
    capstones and prerequisites, in display order (404 when absent or archived)."""
    queryset = Track.objects.active().prefetch_related(
        Prefetch("modules", queryset=modules_with_items()),
        Prefetch("requires", queryset=Track.objects.active().only("slug", "title")),
    )
    return get_object_or_404(queryset, slug=slug)
