"""A track as curriculum YAML (docs/curriculum-format.md): active items only, keys in the
documented order, defaults left out. Loading the output back changes nothing."""

from __future__ import annotations

import yaml

from .models import DEFAULT_CAPSTONE_POINTS, Capstone, Level, Module, Resource, ReviewMode, Track


class TrackNotFound(Exception):
    pass


class _Dumper(yaml.SafeDumper):
    """Multi-line text (Markdown) as `|` blocks; lists of a mapping indented under its key."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _put(target: dict, key: str, value, default) -> None:
    if value != default:
        target[key] = value


def track_export_yaml(*, slug: str) -> str:
    track = Track.objects.active().filter(slug=slug).first()
    if track is None:
        if Track.objects.filter(slug=slug).exists():
            raise TrackNotFound(f"track '{slug}' is archived; only active tracks are exported")
        known = Track.objects.active().order_by("slug").values_list("slug", flat=True)
        raise TrackNotFound(f"unknown track '{slug}' (known: {', '.join(known) or 'none'})")
    return track_yaml(track_export_data(track=track))


def track_yaml(data: dict) -> str:
    """A track's data (`track_export_data`) as the YAML text of its file."""
    return yaml.dump(
        {"track": data},
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )


def track_export_data(*, track: Track) -> dict:
    """The track as the plain data of its file (what `track:` holds): active items only, in
    order, defaults left out. Six queries, whatever the track's size."""
    modules = list(Module.objects.active().filter(track=track).order_by("position", "pk"))
    resources: dict[int, list[Resource]] = {}
    for resource in (
        Resource.objects.active()
        .filter(track=track)
        .select_related("linked_track")
        .order_by("position", "pk")
    ):
        resources.setdefault(resource.module_id, []).append(resource)
    capstones: dict[int, list[Capstone]] = {}
    for capstone in Capstone.objects.active().filter(track=track).order_by("position", "pk"):
        capstones.setdefault(capstone.module_id, []).append(capstone)
    module_slugs = {module.pk: module.slug for module in modules}
    module_requires: dict[int, list[str]] = {}
    for from_id, to_id in Module.requires.through.objects.filter(
        from_module__track=track
    ).values_list("from_module_id", "to_module_id"):
        if to_id in module_slugs:
            module_requires.setdefault(from_id, []).append(module_slugs[to_id])

    data: dict = {"slug": track.slug, "title": track.title}
    _put(data, "source", _source_data(track.source), {})
    _put(data, "summary", track.summary, "")
    _put(data, "prerequisites", track.prerequisites, "")
    _put(data, "level", track.level, Level.BEGINNER)
    _put(data, "requires", sorted(track.requires.values_list("slug", flat=True)), [])
    _put(data, "tags", list(track.tags), [])
    _put(data, "leads", list(track.lead_emails), [])
    data["modules"] = [
        module_data(
            module,
            sorted(module_requires.get(module.pk, [])),
            resources.get(module.pk, []),
            capstones.get(module.pk, []),
        )
        for module in modules
    ]
    return data


def module_data(
    module: Module, requires: list[str], resources: list[Resource], capstones: list[Capstone]
) -> dict:
    data: dict = {"slug": module.slug, "title": module.title}
    _put(data, "summary", module.summary, "")
    _put(data, "requires", requires, [])
    if module.days is not None:
        data["days"] = module.days
    else:
        _put(data, "weeks", module.weeks, 1)
    _put(data, "choose", dict(sorted((module.choices_required or {}).items())), {})
    _put(data, "resources", [resource_data(resource) for resource in resources], [])
    _put(data, "capstones", [capstone_data(capstone) for capstone in capstones], [])
    return data


def resource_data(resource: Resource) -> dict:
    """A resource as its file entry (reads `linked_track`: select it with the row)."""
    data: dict = {"slug": resource.slug, "title": resource.title, "kind": resource.kind}
    if resource.linked_track is not None:
        data["track"] = resource.linked_track.slug
    _put(data, "url", resource.url, "")
    _put(data, "minutes", resource.minutes, None)
    _put(data, "points", resource.points_override, None)
    _put(data, "optional", resource.optional, False)
    _put(data, "filled_in", resource.filled_in, False)
    _put(data, "choice", resource.choice, "")
    _put(data, "notes", resource.notes, "")
    return data


def capstone_data(capstone: Capstone) -> dict:
    data: dict = {"slug": capstone.slug, "title": capstone.title, "brief": capstone.brief}
    _put(data, "constraints", list(capstone.constraints), [])
    _put(data, "minutes", capstone.minutes, None)
    _put(data, "points", capstone.points, DEFAULT_CAPSTONE_POINTS)
    _put(data, "review", capstone.review, ReviewMode.LEAD)
    _put(data, "optional", capstone.optional, False)
    _put(data, "team", capstone.team, False)
    _put(data, "filled_in", capstone.filled_in, False)
    return data


def _source_data(source: dict) -> dict:
    """The track's `source:` in the format's key order."""
    return {key: source[key] for key in ("title", "author", "published", "url") if source.get(key)}
