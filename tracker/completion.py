"""The completion rule, as a pure function over a track's structure and a learner's state.

A module is complete when every non-optional resource outside a choice group is done, each
choice group has as many members done as it asks for (one unless the module's
`choices_required` says more), and every non-optional capstone has passed. Progress is
counted in "units": one per required resource, one per member a choice group asks for, one
per required capstone. Optional resources and optional capstones never count (a passed
optional capstone still earns its points and shows on the certificate). A resource of kind
track is a resource like any other here: the progress service marks it done when its track
is complete. Archived items are not passed in, so they never block.

The structure comes as a `curriculum.structure.TrackStructure` (cached per track: no query) or,
for older callers, as model instances with their active items prefetched; the rule reads only
`id`, `optional`, `choice`, `minutes` (of resources and capstones) and `choices_required`
either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModuleProgress:
    module_id: int
    done_units: int
    total_units: int
    # Minutes of unfinished required work (choice groups count their shortest member).
    minutes_left: int
    next_resource_id: int | None
    # Every resource that would move the module on, in the order to suggest them.
    open_resource_ids: tuple[int, ...] = ()
    # Required capstones not passed yet that have no `minutes`: work without a time estimate
    # (those with one are in minutes_left).
    open_capstones: int = 0
    # The part of minutes_left that is another of the learner's tracks' time left: an open
    # resource of kind track counts that track's real time left, not its own estimate.
    linked_minutes: int = 0

    @property
    def complete(self) -> bool:
        return self.done_units >= self.total_units

    @property
    def percent(self) -> int:
        return 100 if self.total_units == 0 else (100 * self.done_units) // self.total_units


@dataclass(frozen=True)
class TrackProgress:
    track_id: int
    modules: dict[int, ModuleProgress] = field(default_factory=dict)

    @property
    def done_units(self) -> int:
        return sum(m.done_units for m in self.modules.values())

    @property
    def total_units(self) -> int:
        return sum(m.total_units for m in self.modules.values())

    @property
    def minutes_left(self) -> int:
        return sum(m.minutes_left for m in self.modules.values())

    @property
    def open_capstones(self) -> int:
        return sum(m.open_capstones for m in self.modules.values())

    @property
    def linked_minutes(self) -> int:
        return sum(m.linked_minutes for m in self.modules.values())

    @property
    def own_minutes_left(self) -> int:
        """Minutes left that no other track of the learner's counts: what a total over all
        their tracks adds up."""
        return self.minutes_left - self.linked_minutes

    @property
    def complete(self) -> bool:
        return bool(self.modules) and all(m.complete for m in self.modules.values())

    @property
    def percent(self) -> int:
        return 100 if self.total_units == 0 else (100 * self.done_units) // self.total_units

    def next_resource_id(
        self, module_order: Iterable[int], *, set_aside: frozenset[int] | set[int] = frozenset()
    ) -> int | None:
        """The first resource, in module order, that would move the track on; resources in
        `set_aside` (say, ones the learner skipped) only when nothing else is left."""
        fallback = None
        for module_id in module_order:
            module = self.modules.get(module_id)
            if module is None:
                continue
            for resource_id in module.open_resource_ids:
                if resource_id not in set_aside:
                    return resource_id
                fallback = fallback or resource_id
        return fallback


# Estimate for a resource without `minutes` (docs/learners.md): an honest middle value.
DEFAULT_MINUTES_ESTIMATE = 30


def _members(related) -> Iterable:
    """A structure node's tuple, or a model's prefetched related manager."""
    return related.all() if hasattr(related, "all") else related


def module_progress(
    *,
    module,
    done_resource_ids: set[int],
    passed_capstone_ids: set[int],
    linked_minutes_left: Mapping[int, int] | None = None,
) -> ModuleProgress:
    """`module` is a `ModuleNode` of a track structure, or a Module with `.resources` and
    `.capstones` prefetched (active only); either has `choices_required`.
    `linked_minutes_left` maps tracks the learner follows to their minutes left: an open
    resource standing for one of them counts those minutes instead of its own estimate."""
    linked = linked_minutes_left or None  # None: the common case, no lookup per resource

    def linked_left(resource) -> int | None:
        """The time left of the track `resource` stands for, when the learner follows it."""
        return linked.get(getattr(resource, "linked_track_id", None)) if linked else None

    done_units = total_units = minutes_left = linked_minutes = 0
    open_ids: list[int] = []
    groups: dict[str, list] = {}
    for resource in _members(module.resources):
        if resource.optional:
            continue
        if resource.choice:
            groups.setdefault(resource.choice, []).append(resource)
            continue
        total_units += 1
        if resource.id in done_resource_ids:
            done_units += 1
        else:
            other = linked_left(resource) if linked else None
            if other is None:
                minutes_left += _minutes(resource)
            else:
                minutes_left += other
                linked_minutes += other
            open_ids.append(resource.id)
    asks = module.choices_required or {}
    for name, members in groups.items():
        wanted = min(asks.get(name, 1), len(members))
        done = sum(1 for member in members if member.id in done_resource_ids)
        total_units += wanted
        done_units += min(done, wanted)
        if done < wanted:
            undone = [member for member in members if member.id not in done_resource_ids]
            # (minutes, the part of them another track counts), shortest first
            costs = []
            for member in undone:
                other = linked_left(member) if linked else None
                costs.append((_minutes(member), 0) if other is None else (other, other))
            shortest = sorted(costs)[: wanted - done]
            minutes_left += sum(own for own, _ in shortest)
            linked_minutes += sum(other for _, other in shortest)
            open_ids.extend(member.id for member in undone)
    open_capstones = 0
    for capstone in _members(module.capstones):
        if capstone.optional:
            continue
        total_units += 1
        if capstone.id in passed_capstone_ids:
            done_units += 1
        elif capstone.minutes is not None:
            minutes_left += capstone.minutes
        else:
            open_capstones += 1
    return ModuleProgress(
        module.id,
        done_units,
        total_units,
        minutes_left,
        next_resource_id=open_ids[0] if open_ids else None,
        open_resource_ids=tuple(open_ids),
        open_capstones=open_capstones,
        linked_minutes=linked_minutes,
    )


def track_progress(
    *,
    track,
    done_resource_ids: set[int],
    passed_capstone_ids: set[int],
    linked_minutes_left: Mapping[int, int] | None = None,
) -> TrackProgress:
    """`track` is a `TrackStructure`, or a Track with `.modules` prefetched with their
    resources and capstones."""
    return modules_progress(
        track_id=track.id,
        modules=_members(track.modules),
        done_resource_ids=done_resource_ids,
        passed_capstone_ids=passed_capstone_ids,
        linked_minutes_left=linked_minutes_left,
    )


def modules_progress(
    *,
    track_id: int,
    modules: Iterable,
    done_resource_ids: set[int],
    passed_capstone_ids: set[int],
    linked_minutes_left: Mapping[int, int] | None = None,
) -> TrackProgress:
    """A track's progress from its active modules, in order (see `module_progress`)."""
    return TrackProgress(
        track_id,
        {
            module.id: module_progress(
                module=module,
                done_resource_ids=done_resource_ids,
                passed_capstone_ids=passed_capstone_ids,
                linked_minutes_left=linked_minutes_left,
            )
            for module in modules
        },
    )


def with_linked_tracks(
    progress: Mapping[int, TrackProgress],
    *,
    links: Mapping[int, Iterable[int]],
    recount: Callable[[int, dict[int, int]], TrackProgress],
) -> dict[int, TrackProgress]:
    """A learner's progress in each of their tracks, those with resources standing for other
    tracks of theirs (`links`: track id to the track ids its resources stand for) recounted by
    `recount(track_id, minutes left per linked track)`, the linked tracks first. Their estimate
    would count the linked track's work twice in a total over all tracks, and guess what its
    real time left says. The loader refuses cycles; one met anyway is cut where it closes."""
    counted: dict[int, TrackProgress] = {}
    open_path: set[int] = set()

    def count(track_id: int) -> TrackProgress:
        if track_id in counted:
            return counted[track_id]
        open_path.add(track_id)
        linked = {
            other: count(other).minutes_left
            for other in links.get(track_id, ())
            if other in progress and other != track_id and other not in open_path
        }
        open_path.discard(track_id)
        counted[track_id] = recount(track_id, linked) if linked else progress[track_id]
        return counted[track_id]

    for track_id in progress:
        count(track_id)
    return counted


def _minutes(resource) -> int:
    return DEFAULT_MINUTES_ESTIMATE if resource.minutes is None else resource.minutes


def required_units(structure) -> int:
    """How many units a track asks for (the total every learner's progress is counted of)."""
    empty = track_progress(track=structure, done_resource_ids=set(), passed_capstone_ids=set())
    return empty.total_units
