"""Reads behind the track page, the status/notes fragments and /me/revisit/.

`learner_track_page` loads everything the track page shows in a fixed number of queries
(track + modules + resources + capstones + prerequisites, then the learner's enrolment,
progress, notes and capstone submissions; when the track has resources of kind track, the
learner's progress in those tracks too) and joins it in Python into rows the template walks
without touching the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from curriculum.models import Capstone, Module, Resource, Track
from curriculum.selectors import track_with_contents

from ..completion import ModuleProgress, TrackProgress, track_progress
from ..models import (
    CapstoneSubmission,
    Certificate,
    Enrolment,
    Progress,
    ProgressStatus,
    ResourceNote,
    SubmissionStatus,
)
from .core import done_ids, learner_tracks_progress, progress_by_resource

__all__ = [
    "ChoiceGroup",
    "LinkedTrack",
    "ResourceRow",
    "CapstoneRow",
    "ModuleRow",
    "TrackPageState",
    "learner_track_page",
    "active_enrolment",
    "note_for",
    "RevisitGroup",
    "revisit_groups",
]

# The four buttons of the status control, in the order they are shown.
STATUS_BUTTONS = [(status.value, status.label) for status in ProgressStatus]


@dataclass(frozen=True)
class ChoiceGroup:
    """A module's choice group as the page describes it: finish `required` of `size`."""

    name: str
    required: int
    size: int


@dataclass(frozen=True)
class LinkedTrack:
    """The track a resource of kind track stands for, and the learner's progress in it (None
    for visitors who are not logged in)."""

    track: Track
    progress: TrackProgress | None = None


@dataclass
class ResourceRow:
    resource: Resource
    progress: Progress | None = None
    note: ResourceNote | None = None
    group: ChoiceGroup | None = None
    linked: LinkedTrack | None = None

    @property
    def status(self) -> str:
        return self.progress.status if self.progress else ProgressStatus.NOT_STARTED

    @property
    def status_label(self) -> str:
        return ProgressStatus(self.status).label

    @property
    def status_buttons(self) -> list[tuple[str, str, bool]]:
        return [(value, label, value == self.status) for value, label in STATUS_BUTTONS]

    @property
    def changed_since_done(self) -> bool:
        """The lead changed it (title, url or notes) after the learner finished it."""
        changed = self.resource.content_changed_at
        return (
            self.status == ProgressStatus.DONE
            and changed is not None
            and self.progress.completed_at is not None
            and changed > self.progress.completed_at
        )

    @property
    def revisit(self) -> bool:
        return bool(self.note and self.note.revisit)


@dataclass
class CapstoneRow:
    capstone: Capstone
    submission: CapstoneSubmission | None = None

    @property
    def passed(self) -> bool:
        return self.submission is not None and self.submission.status == SubmissionStatus.PASSED


@dataclass
class ModuleRow:
    module: Module
    progress: ModuleProgress | None
    # Prerequisite modules the learner has not completed yet (soft lock: shown, not enforced).
    unfinished_requires: list[Module] = field(default_factory=list)
    resources: list[ResourceRow] = field(default_factory=list)
    capstones: list[CapstoneRow] = field(default_factory=list)

    @property
    def locked(self) -> bool:
        return bool(self.unfinished_requires)


@dataclass
class TrackPageState:
    track: Track
    enrolment: Enrolment | None
    completion: TrackProgress | None
    modules: list[ModuleRow]
    progress: dict[int, Progress] = field(default_factory=dict)
    notes: dict[int, ResourceNote] = field(default_factory=dict)
    submissions: dict[int, CapstoneSubmission] = field(default_factory=dict)
    certificate: Certificate | None = None

    @property
    def enrolled(self) -> bool:
        return self.enrolment is not None and self.enrolment.active

    @property
    def left(self) -> bool:
        return self.enrolment is not None and not self.enrolment.active

    def row_for(self, resource_id: int) -> tuple[ModuleRow, ResourceRow] | None:
        for module_row in self.modules:
            for row in module_row.resources:
                if row.resource.id == resource_id:
                    return module_row, row
        return None


def _choice_groups(module: Module) -> dict[str, ChoiceGroup]:
    sizes: dict[str, int] = {}
    for resource in module.resources.all():
        if resource.choice and not resource.optional:
            sizes[resource.choice] = sizes.get(resource.choice, 0) + 1
    return {
        name: ChoiceGroup(name, min(module.required_in_group(name), size), size)
        for name, size in sizes.items()
    }


def _resource_rows(
    module: Module,
    progress: dict[int, Progress],
    notes: dict[int, ResourceNote],
    linked_progress: dict[int, TrackProgress],
) -> list[ResourceRow]:
    groups = _choice_groups(module)
    rows = []
    for resource in module.resources.all():
        linked = None
        if resource.linked_track_id is not None:
            linked = LinkedTrack(
                resource.linked_track, linked_progress.get(resource.linked_track_id)
            )
        rows.append(
            ResourceRow(
                resource,
                progress.get(resource.id),
                notes.get(resource.id),
                group=groups.get(resource.choice),
                linked=linked,
            )
        )
    return rows


def learner_track_page(*, learner, slug: str) -> TrackPageState:
    """The active track `slug` (404 when absent or archived) with the learner's state joined in.
    `learner` may be None (anonymous visitor): then only the curriculum is read."""
    track = track_with_contents(slug=slug)
    if learner is None:
        modules = [
            ModuleRow(
                module=module,
                progress=None,
                resources=_resource_rows(module, {}, {}, {}),
                capstones=[CapstoneRow(capstone) for capstone in module.capstones.all()],
            )
            for module in track.modules.all()
        ]
        return TrackPageState(track=track, enrolment=None, completion=None, modules=modules)

    enrolment = Enrolment.objects.filter(learner=learner, track=track).first()
    progress = progress_by_resource(learner=learner, track_ids=[track.pk])
    notes = {
        note.resource_id: note
        for note in ResourceNote.objects.filter(learner=learner, resource__track=track)
    }
    submissions = {
        sub.capstone_id: sub
        for sub in CapstoneSubmission.objects.filter(learner=learner, track=track)
    }
    passed = {cid for cid, sub in submissions.items() if sub.status == SubmissionStatus.PASSED}
    completion = track_progress(
        track=track, done_resource_ids=done_ids(progress), passed_capstone_ids=passed
    )
    linked_ids = {
        resource.linked_track_id
        for module in track.modules.all()
        for resource in module.resources.all()
        if resource.linked_track_id is not None
    }
    linked_progress = (
        learner_tracks_progress(learner=learner, track_ids=linked_ids) if linked_ids else {}
    )

    modules = []
    for module in track.modules.all():
        unfinished = [
            required
            for required in module.requires.all()
            if required.id in completion.modules and not completion.modules[required.id].complete
        ]
        modules.append(
            ModuleRow(
                module=module,
                progress=completion.modules.get(module.id),
                unfinished_requires=unfinished,
                resources=_resource_rows(module, progress, notes, linked_progress),
                capstones=[
                    CapstoneRow(capstone, submissions.get(capstone.id))
                    for capstone in module.capstones.all()
                ],
            )
        )
    return TrackPageState(
        track=track,
        enrolment=enrolment,
        completion=completion,
        modules=modules,
        progress=progress,
        notes=notes,
        submissions=submissions,
        certificate=Certificate.objects.filter(learner=learner, track=track).first(),
    )


def active_enrolment(*, learner, track: Track) -> Enrolment | None:
    return Enrolment.objects.filter(learner=learner, track=track, left_at__isnull=True).first()


def note_for(*, learner, resource: Resource) -> ResourceNote | None:
    return ResourceNote.objects.filter(learner=learner, resource=resource).first()


@dataclass
class RevisitGroup:
    track: Track
    notes: list[ResourceNote]


def revisit_groups(*, learner) -> list[RevisitGroup]:
    """Resources the learner flagged "revisit later", grouped by track: one query.
    Archived resources and tracks are left out (they are no longer on a track page)."""
    flagged = (
        ResourceNote.objects.filter(
            learner=learner,
            revisit=True,
            resource__archived_at__isnull=True,
            resource__track__archived_at__isnull=True,
        )
        .select_related("resource__track", "resource__module")
        .order_by(
            "resource__track__title",
            "resource__track_id",
            "resource__module__position",
            "resource__position",
        )
    )
    groups: list[RevisitGroup] = []
    for note in flagged:
        if not groups or groups[-1].track.id != note.resource.track_id:
            groups.append(RevisitGroup(track=note.resource.track, notes=[]))
        groups[-1].notes.append(note)
    return groups
