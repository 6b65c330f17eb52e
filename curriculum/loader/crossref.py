"""Checks across files and against the database: track slugs unique in a run; track
`requires` and the tracks named by resources of kind track existing (in this run or the
database) and acyclic, together; plus the cycle finder that module `requires` use too."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ..models import Resource, Track
from .errors import LoadError
from .schema import Ref, TrackSpec


def find_cycles(
    edges: list[tuple[str, Ref]], outside: dict[str, list[str]]
) -> list[tuple[Ref, list[str]]]:
    """Each cycle once, reported at its first written edge: [(ref, [a, b, ..., a])].

    `edges` are the (source, ref) pairs written in the files; `outside` adds edges that are
    already in the database (for tracks this run does not load)."""
    graph: dict[str, list[str]] = {source: list(targets) for source, targets in outside.items()}
    for source, ref in edges:
        graph.setdefault(source, []).append(ref.slug)
    reported: set[frozenset[str]] = set()
    cycles: list[tuple[Ref, list[str]]] = []
    for source, ref in sorted(edges, key=lambda edge: (edge[1].line, edge[1].column)):
        route = _path(graph, ref.slug, source)
        if route is None:
            continue
        members = frozenset(route)
        if members in reported:
            continue
        reported.add(members)
        cycles.append((ref, [source, *route]))
    return cycles


def _path(graph: dict[str, list[str]], start: str, goal: str) -> list[str] | None:
    """Shortest route start → goal (both included), or None."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        if current == goal:
            route = [current]
            while previous[route[-1]] is not None:
                route.append(previous[route[-1]])
            return route[::-1]
        for following in graph.get(current, ()):
            if following not in previous:
                previous[following] = current
                queue.append(following)
    return None


@dataclass
class TrackInDb:
    pk: int
    slug: str
    archived: bool
    source_path: str
    requires: list[str]
    # Tracks its active resources of kind track name.
    references: list[str] = field(default_factory=list)


def tracks_in_db() -> dict[str, TrackInDb]:
    tracks = {
        row["slug"]: TrackInDb(
            row["pk"], row["slug"], row["archived_at"] is not None, row["source_path"], []
        )
        for row in Track.objects.values("pk", "slug", "archived_at", "source_path")
    }
    slug_by_pk = {track.pk: track.slug for track in tracks.values()}
    for from_id, to_id in Track.requires.through.objects.values_list(
        "from_track_id", "to_track_id"
    ):
        tracks[slug_by_pk[from_id]].requires.append(slug_by_pk[to_id])
    for from_id, to_id in (
        Resource.objects.active()
        .filter(linked_track__isnull=False)
        .values_list("track_id", "linked_track_id")
        .distinct()
    ):
        tracks[slug_by_pk[from_id]].references.append(slug_by_pk[to_id])
    return tracks


def check_tracks(
    specs: list[TrackSpec], db: dict[str, TrackInDb], *, prune: bool
) -> list[LoadError]:
    errors: list[LoadError] = []
    first_file: dict[str, TrackSpec] = {}
    for spec in specs:
        if spec.slug in first_file:
            other = first_file[spec.slug]
            errors.append(
                _error(
                    spec,
                    spec.slug_at,
                    f"`{spec.slug}` is also the slug of the track in {other.source_path} (line "
                    f"{other.slug_at.line}): give one of the two tracks another slug, or load "
                    "only one of the files",
                    "Another track already has this slug: choose another.",
                )
            )
        else:
            first_file[spec.slug] = spec

    # A track of the database counts unless this run archives it (--prune) or it is archived.
    loaded = set(first_file)
    available = loaded | (
        {slug for slug, track in db.items() if not track.archived} if not prune else set()
    )
    requires: list[tuple[str, Ref]] = []
    references: list[tuple[str, Ref]] = []
    sources: dict[int, TrackSpec] = {}
    for spec in first_file.values():
        for refs, edges in ((spec.requires, requires), (spec.track_refs, references)):
            for ref in refs:
                if ref.slug in available:
                    edges.append((spec.slug, ref))
                    sources[id(ref)] = spec
                else:
                    errors.append(_error(spec, ref, *_unavailable(ref, db, prune=prune)))
    # Requires alone first (their own message), then any cycle a track reference closes: a
    # track that contains itself, directly or through others, could never be completed.
    outside = {slug: track for slug, track in db.items() if slug not in loaded}
    seen: set[frozenset[str]] = set()
    for ref, cycle in find_cycles(requires, {s: t.requires for s, t in outside.items()}):
        seen.add(frozenset(cycle))
        errors.append(
            _error(
                sources[id(ref)],
                ref,
                f"`requires` goes round in a circle ({' -> '.join(cycle)}): remove one of these "
                "requirements",
                f"This makes tracks require each other in a circle ({' → '.join(cycle)}): "
                "untick one of them.",
            )
        )
    both = {slug: track.requires + track.references for slug, track in outside.items()}
    for ref, cycle in find_cycles(requires + references, both):
        if frozenset(cycle) not in seen:
            errors.append(
                _error(
                    sources[id(ref)],
                    ref,
                    f"{_named_by(ref)} makes a track contain itself ({' -> '.join(cycle)}), "
                    "so it could never be finished: remove one of these links",
                    f"This makes a track contain itself ({' → '.join(cycle)}), so it could never "
                    "be finished: choose another track.",
                )
            )
    return errors


def _unavailable(ref: Ref, db: dict[str, TrackInDb], *, prune: bool) -> tuple[str, str]:
    """Why the track `ref` names cannot be used: in the file's words, then in a form's."""
    slug, names = ref.slug, f"{_named_by(ref)} names the track `{ref.slug}`"
    if slug in db and db[slug].archived:
        return (
            f"{names}, which is archived: load its file in this run to restore it, or remove "
            "it from here",
            f"The track “{slug}” is archived: restore it first, or choose another.",
        )
    if slug in db and prune:
        return (
            f"{names}, which is not in the files given, so --prune would archive it: add its "
            "file to this run, or remove it from here",
            f"The track “{slug}” would be archived: choose another.",
        )
    return (
        f"{names}, which is neither in this run's files nor loaded: fix the slug, or load "
        "that track's file too",
        f"There is no track “{slug}”: choose another.",
    )


def _named_by(ref: Ref) -> str:
    """The value that names a track: "`requires`", or a resource's "`track`"."""
    return "`requires`" if ref.where.path.endswith("]") else ref.where.subject


def _error(spec: TrackSpec, ref: Ref, message: str, form: str) -> LoadError:
    return LoadError(
        spec.source_path,
        ref.line,
        ref.column,
        ref.where.says(message),
        field=ref.where.path,
        form=form,
        item=ref.where.item,
    )
