"""Reads behind the track page, its modules loaded as they come into view, the mark-done
answer and /me/revisit/.

The curriculum comes from the track's cached structure (`curriculum.structure`: no query
while the track is unchanged); the learner's state from a fixed number of queries whatever
the track's size: the track row with the learner's enrolment, certificate and the header's
figures (points, display name) joined, then their progress, notes and capstone submissions in the track (the progress query also brings
their completions in the tracks that resources of kind track stand for, and one more query
reads those tracks' versions). A visitor who is not logged in costs the track row only.

Rows hold plain values (the structure's nodes, the learner's status, note and submission), so
the template walks them without a query and without a failing lookup.

Large tracks (more than `WHOLE_TRACK_ROWS` rows) render their first modules with the page
(whole modules, `FIRST_ROWS` rows or a little more) and every other module as its heading,
its progress and a link to the page showing it (`?module=<slug>`), which htmx follows as the
module comes into view.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.http import Http404
from django.template.backends.utils import csrf_input
from django.urls import reverse
from django.utils.safestring import SafeString

from curriculum.models import Resource, Track
from curriculum.structure import (
    CapstoneNode,
    ModuleNode,
    ModuleRef,
    ResourceNode,
    TrackRef,
    TrackStructure,
    track_structure,
    track_structures,
)

from ..completion import ModuleProgress, TrackProgress, module_progress, track_progress
from ..models import (
    CapstoneSubmission,
    Certificate,
    Enrolment,
    Profile,
    Progress,
    ProgressStatus,
    ResourceNote,
    SubmissionStatus,
)
from ..sql import Statement, aware

__all__ = [
    "FIRST_ROWS",
    "WHOLE_TRACK_ROWS",
    "NO_NOTE",
    "CapstoneRow",
    "HeaderFigures",
    "LinkedTrack",
    "ModuleRow",
    "NoteState",
    "ResourceRow",
    "RevisitGroup",
    "TrackPageState",
    "active_enrolment",
    "eager_module_ids",
    "learner_track_page",
    "note_for",
    "resource_page_url",
    "revisit_groups",
    "note_groups",
    "StatusAnswer",
    "status_answer_state",
    "track_page_context",
]

# Tracks of up to this many rows (resources and capstones) come whole with the page (every
# seed track does). A larger track brings whole modules from the first until it has shown
# FIRST_ROWS rows; its other modules load as they come into view. Measured (docs/performance.md):
# a row costs about 0.15-0.2 ms of CPU to render, a module heading with its progress 0.05 ms.
WHOLE_TRACK_ROWS = 60
FIRST_ROWS = 20

_STATUS_LABELS = dict(ProgressStatus.choices)
_SUBMISSION_LABELS = dict(SubmissionStatus.choices)


def _safe(text: str) -> SafeString:
    return SafeString(text)


# The four buttons of the status control, per current status: (value, label, aria-pressed).
# Constant strings, marked safe once so the template escapes nothing per row.
_STATUS_BUTTONS = {
    current: tuple(
        (_safe(value), _safe(label), _safe("true" if value == current else "false"))
        for value, label in ProgressStatus.choices
    )
    for current in ProgressStatus.values
}


@dataclass(frozen=True, slots=True)
class NoteState:
    """A learner's note on a resource as the page shows it (a ResourceNote looks the same)."""

    body: str = ""
    body_html: str = ""
    revisit: bool = False


NO_NOTE = NoteState()
# Marked to revisit, without note text.
REVISIT_ONLY = NoteState(revisit=True)


@dataclass(frozen=True, slots=True)
class LinkedTrack:
    """The track a resource of kind track stands for, and the learner's progress in it (None
    for visitors who are not logged in)."""

    track: TrackRef
    progress: TrackProgress | None = None


@dataclass(slots=True)
class ResourceRow:
    resource: ResourceNode
    status: str = ProgressStatus.NOT_STARTED
    completed_at: datetime | None = None
    note: NoteState | ResourceNote = NO_NOTE
    linked: LinkedTrack | None = None

    @property
    def status_label(self) -> str:
        return _STATUS_LABELS[self.status]

    @property
    def status_buttons(self) -> tuple[tuple[str, str, str], ...]:
        return _STATUS_BUTTONS[self.status]

    @property
    def changed_since_done(self) -> bool:
        """The lead changed it (title, url or notes) after the learner finished it."""
        changed = self.resource.content_changed_at
        return (
            self.status == ProgressStatus.DONE
            and changed is not None
            and self.completed_at is not None
            and changed > self.completed_at
        )

    @property
    def revisit(self) -> bool:
        return self.note.revisit


@dataclass(frozen=True, slots=True)
class CapstoneRow:
    capstone: CapstoneNode
    submission_status: str = ""

    @property
    def submission_label(self) -> str:
        return _SUBMISSION_LABELS.get(self.submission_status, "")

    @property
    def passed(self) -> bool:
        return self.submission_status == SubmissionStatus.PASSED


@dataclass(slots=True)
class ModuleRow:
    module: ModuleNode
    progress: ModuleProgress | None
    # Prerequisite modules the learner has not completed yet (soft lock: shown, not enforced).
    unfinished_requires: list[ModuleRef] = field(default_factory=list)
    resources: list[ResourceRow] = field(default_factory=list)
    capstones: list[CapstoneRow] = field(default_factory=list)
    # Its rows are on this page; else a link loads them (`?module=<slug>`).
    shown: bool = True
    url: str = ""

    @property
    def locked(self) -> bool:
        return bool(self.unfinished_requires)

    @property
    def size_label(self) -> str:
        """What the link to a module not shown yet says it holds."""
        parts = []
        for count, noun in (
            (len(self.module.resources), "resource"),
            (len(self.module.capstones), "capstone"),
        ):
            if count:
                parts.append(f"{count} {noun}{'' if count == 1 else 's'}")
        return " and ".join(parts) or "nothing yet"


@dataclass(frozen=True, slots=True)
class CertificateLink:
    code: str

    def get_absolute_url(self) -> str:
        return reverse("certificate", kwargs={"code": self.code})


@dataclass(frozen=True, slots=True)
class HeaderFigures:
    """The learner's points and chosen name, for the page header (read with the track row)."""

    points_total: int
    display_name: str


@dataclass
class TrackPageState:
    track: TrackStructure
    # The learner's enrolment: None when they never enrolled (or nobody is logged in).
    enrolment_id: int | None
    left_at: datetime | None
    completion: TrackProgress | None
    modules: list[ModuleRow]
    certificate: CertificateLink | None = None
    # None for a visitor, or a learner without a profile yet (the header makes it).
    header: HeaderFigures | None = None

    @property
    def enrolled(self) -> bool:
        return self.enrolment_id is not None and self.left_at is None

    @property
    def left(self) -> bool:
        return self.enrolment_id is not None and self.left_at is not None

    def module_row(self, slug: str) -> ModuleRow | None:
        return next((row for row in self.modules if row.module.slug == slug), None)


# --- what every render of the page or its fragments is given ---------------------------------


def track_page_context(request, *, track: TrackStructure, enrolled: bool, **extra) -> dict:
    """The context every render of the track page or one of its fragments starts from: the
    variables its partials read are always set (a variable missing from the context costs a
    failed lookup per use, several per row), and the CSRF field is rendered once per
    response instead of once per form."""
    return {
        "track": track,
        "enrolled": enrolled,
        "focus_status": None,
        "autofocus": False,
        "oob": False,
        "notices": None,
        "status_error": None,
        "said": None,
        "csrf_input": csrf_input(request),
        **extra,
    }


# --- which modules come with the page --------------------------------------------------------------


def eager_module_ids(structure: TrackStructure) -> frozenset[int]:
    """The modules rendered with the page: all of a track of up to `WHOLE_TRACK_ROWS` rows;
    of a larger one, whole modules from the first until `FIRST_ROWS` rows are shown."""
    sizes = [len(m.resources) + len(m.capstones) for m in structure.modules]
    if sum(sizes) <= WHOLE_TRACK_ROWS:
        return frozenset(m.id for m in structure.modules)
    shown, rows = [], 0
    for module, size in zip(structure.modules, sizes, strict=True):
        if rows >= FIRST_ROWS:
            break
        shown.append(module.id)
        rows += size
    return frozenset(shown)


def module_page_url(
    structure: TrackStructure, module: ModuleNode, eager: frozenset[int] | None = None
) -> str:
    """Where a module's rows are: the track page, with `?module=` when it does not come with
    the page by itself."""
    if module.id in (eager_module_ids(structure) if eager is None else eager):
        return structure.urls.page
    return f"{structure.urls.page}?module={module.slug}"


def resource_page_url(structure: TrackStructure, resource: ResourceNode) -> str:
    """The page and anchor a resource's row is shown at (a no-JavaScript form comes back here)."""
    module = structure.module(resource.module_id)
    base = module_page_url(structure, module) if module else structure.urls.page
    return f"{base}#resource-{resource.slug}"


# --- the learner's state --------------------------------------------------------------------------


# The page's reads, written out (tracker.sql): they run on every view of every track page.
_TRACK_ROW = Statement(
    """
SELECT track.id, track.structure_version FROM {track} track
 WHERE track.slug = %(slug)s AND track.archived_at IS NULL
""",
    track=Track,
)
# Enrolment and certificate are unique per learner and track; the profile per learner.
_LEARNER_TRACK_ROW = Statement(
    """
SELECT track.id, track.structure_version, enrolment.id, enrolment.left_at, certificate.code,
       profile.points_total, profile.display_name
  FROM {track} track
  LEFT JOIN {enrolment} enrolment
         ON enrolment.track_id = track.id AND enrolment.learner_id = %(learner)s
  LEFT JOIN {certificate} certificate
         ON certificate.track_id = track.id AND certificate.learner_id = %(learner)s
  LEFT JOIN {profile} profile ON profile.user_id = %(learner)s
 WHERE track.slug = %(slug)s AND track.archived_at IS NULL
""",
    track=Track,
    enrolment=Enrolment,
    certificate=Certificate,
    profile=Profile,
)
# The learner's progress, notes and capstone submissions in the track: one UNION ALL, each row
# tagged with what it is ('p', 'n', 's'); the timestamp column is typed in the first part.
_LEARNER_STATE = Statement(
    """
SELECT 'p', resource_id, status, completed_at, NULL, NULL, NULL FROM {progress}
 WHERE learner_id = %(learner)s AND track_id = %(track)s
UNION ALL
SELECT 'n', note.resource_id, NULL, {no_time}, note.body, note.body_html, note.revisit
  FROM {note} note JOIN {resource} resource ON resource.id = note.resource_id
 WHERE note.learner_id = %(learner)s AND resource.track_id = %(track)s
UNION ALL
SELECT 's', capstone_id, status, {no_time}, NULL, NULL, NULL FROM {submission}
 WHERE learner_id = %(learner)s AND track_id = %(track)s
""",
    progress=Progress,
    note=ResourceNote,
    resource=Resource,
    submission=CapstoneSubmission,
)


@dataclass(frozen=True, slots=True)
class _TrackRow:
    id: int
    structure_version: int
    enrolment_id: int | None = None
    left_at: datetime | None = None
    certificate_code: str | None = None
    header_points: int | None = None
    header_display_name: str = ""


def _track_row(*, learner, slug: str) -> _TrackRow:
    """The active track's id and structure version, with the learner's enrolment, certificate
    and the header's figures from their profile joined in (one query; 404 when the track is
    absent or archived)."""
    if learner is None:
        rows = _TRACK_ROW.rows({"slug": slug})
    else:
        rows = _LEARNER_TRACK_ROW.rows({"slug": slug, "learner": learner.pk})
    if not rows:
        raise Http404("No such track.")
    row = _TrackRow(*rows[0])
    if row.left_at is not None:
        return dataclasses.replace(row, left_at=aware(row.left_at))
    return row


def _learner_rows(
    *, learner, structure: TrackStructure, linked_ids: frozenset[int]
) -> tuple[dict, dict, dict, set[int]]:
    """(progress {resource id: (status, completed_at)}, notes {resource id: NoteState},
    submissions {capstone id: status}, done resource ids in the linked tracks): one query."""
    if linked_ids:
        return _learner_rows_with_linked(
            learner=learner, structure=structure, linked_ids=linked_ids
        )
    progress, notes, submissions = {}, {}, {}
    rows = _LEARNER_STATE.rows({"learner": learner.pk, "track": structure.id})
    for kind, item_id, status, completed_at, body, body_html, revisit in rows:
        if kind == "p":
            progress[item_id] = (status, aware(completed_at))
        elif kind == "n":
            notes[item_id] = NoteState(body, body_html, bool(revisit))
        else:
            submissions[item_id] = status
    return progress, notes, submissions, set()


def _learner_rows_with_linked(
    *, learner, structure: TrackStructure, linked_ids: frozenset[int]
) -> tuple[dict, dict, dict, set[int]]:
    """`_learner_rows` for a track with resources of kind track (a few tracks): the progress
    query also brings the learner's completions in the tracks those stand for, and the
    submissions query their capstones."""
    progress: dict[int, tuple[str, datetime | None]] = {}
    linked_done: set[int] = set()
    condition = Q(track_id=structure.id) | Q(track_id__in=linked_ids, status=ProgressStatus.DONE)
    for resource_id, track_id, status, completed_at in Progress.objects.filter(
        condition, learner=learner
    ).values_list("resource_id", "track_id", "status", "completed_at"):
        if track_id == structure.id:
            progress[resource_id] = (status, completed_at)
        else:
            linked_done.add(resource_id)
    notes = {
        resource_id: NoteState(body, body_html, revisit)
        for resource_id, body, body_html, revisit in ResourceNote.objects.filter(
            learner=learner, resource__track_id=structure.id
        ).values_list("resource_id", "body", "body_html", "revisit")
    }
    submissions = dict(
        CapstoneSubmission.objects.filter(
            learner=learner, track_id__in=[structure.id, *linked_ids]
        ).values_list("capstone_id", "status")
    )
    return progress, notes, submissions, linked_done


def _resource_rows(
    module: ModuleNode,
    progress: dict,
    notes: dict,
    linked_progress: dict[int, TrackProgress] | None,
) -> list[ResourceRow]:
    rows = []
    for resource in module.resources:
        status, completed_at = progress.get(resource.id, (ProgressStatus.NOT_STARTED, None))
        linked = None
        if resource.linked_track is not None:
            linked = LinkedTrack(
                resource.linked_track,
                None if linked_progress is None else linked_progress.get(resource.linked_track_id),
            )
        rows.append(
            ResourceRow(resource, status, completed_at, notes.get(resource.id, NO_NOTE), linked)
        )
    return rows


def learner_track_page(
    *, learner, slug: str, open_module: str | None = None, open_item: str | None = None
) -> TrackPageState:
    """The active track `slug` (404 when absent or archived) with the learner's state joined in.
    `learner` may be None (a visitor): then only the curriculum is read. `open_module` (a
    module's slug), or the module holding `open_item` (a resource's or capstone's slug), is
    rendered in full whatever its place."""
    row = _track_row(learner=learner, slug=slug)
    structure = track_structure(row.id, row.structure_version)
    if structure is None:
        raise Http404("No such track.")
    eager = eager_module_ids(structure)
    if open_item and open_module is None:
        holder = structure.module_of_item(open_item)
        open_module = holder.slug if holder else None

    def shown(module: ModuleNode) -> bool:
        return module.id in eager or module.slug == open_module

    if learner is None:
        modules = [
            ModuleRow(
                module=module,
                progress=None,
                resources=_resource_rows(module, {}, {}, None) if shown(module) else [],
                capstones=[CapstoneRow(c) for c in module.capstones] if shown(module) else [],
                shown=shown(module),
                url=module_page_url(structure, module, eager),
            )
            for module in structure.modules
        ]
        return TrackPageState(structure, None, None, None, modules)

    linked_ids = structure.linked_track_ids
    progress, notes, submissions, linked_done = _learner_rows(
        learner=learner, structure=structure, linked_ids=linked_ids
    )
    passed = {cid for cid, status in submissions.items() if status == SubmissionStatus.PASSED}
    done = {rid for rid, (status, _) in progress.items() if status == ProgressStatus.DONE}
    completion = track_progress(track=structure, done_resource_ids=done, passed_capstone_ids=passed)
    linked_progress = {}
    if linked_ids:
        linked_progress = {
            track_id: track_progress(
                track=linked, done_resource_ids=linked_done, passed_capstone_ids=passed
            )
            for track_id, linked in track_structures(linked_ids).items()
        }
    modules = []
    for module in structure.modules:
        is_shown = shown(module)
        modules.append(
            ModuleRow(
                module=module,
                progress=completion.modules.get(module.id),
                unfinished_requires=_unfinished(module, completion),
                resources=_resource_rows(module, progress, notes, linked_progress)
                if is_shown
                else [],
                capstones=[CapstoneRow(c, submissions.get(c.id, "")) for c in module.capstones]
                if is_shown
                else [],
                shown=is_shown,
                url=module_page_url(structure, module, eager),
            )
        )
    code = row.certificate_code
    header = None
    if row.header_points is not None:
        header = HeaderFigures(row.header_points, row.header_display_name)
    return TrackPageState(
        track=structure,
        enrolment_id=row.enrolment_id,
        left_at=row.left_at,
        completion=completion,
        modules=modules,
        certificate=CertificateLink(code) if code else None,
        header=header,
    )


def _unfinished(module: ModuleNode, completion: TrackProgress) -> list[ModuleRef]:
    return [
        required
        for required in module.requires
        if required.id in completion.modules and not completion.modules[required.id].complete
    ]


# --- the mark-done answer -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    """The answer to a status change: the page state it is rendered with (the track's progress,
    the certificate), the changed row, the module rows to send (the row's module first) and
    that module's progress before the change (what the change completed or undid)."""

    page: TrackPageState
    row: ResourceRow
    module_rows: list[ModuleRow]
    home_before: ModuleProgress


def status_answer_state(
    *,
    structure: TrackStructure,
    resource: ResourceNode,
    status: str,
    completed_at: datetime | None,
    note: NoteState | ResourceNote,
    done_before: frozenset[int],
    done_after: frozenset[int],
    passed: frozenset[int],
    certificate_code: str | None,
    completion: TrackProgress | None = None,
) -> StatusAnswer:
    """What the mark-done answer shows, from what the write already knows (no query): the
    changed row, the progress block of its module and of every module whose soft lock the
    change set or lifted (its module first), and the track's progress. `completion` is the
    track's progress after the change when the write worked it out."""
    if completion is None:
        completion = track_progress(
            track=structure, done_resource_ids=done_after, passed_capstone_ids=passed
        )
    home = structure.module(resource.module_id)
    before = module_progress(module=home, done_resource_ids=done_before, passed_capstone_ids=passed)
    send = [home]
    if before.complete != completion.modules[home.id].complete:
        send += structure.dependent_modules(home.id)
    rows = [
        ModuleRow(
            module=module,
            progress=completion.modules.get(module.id),
            unfinished_requires=_unfinished(module, completion),
            shown=False,
        )
        for module in send
    ]
    row = ResourceRow(resource, status, completed_at, note)
    page = TrackPageState(
        track=structure,
        enrolment_id=0,  # only an enrolled learner changes a status
        left_at=None,
        completion=completion,
        modules=rows,
        certificate=CertificateLink(certificate_code) if certificate_code else None,
    )
    return StatusAnswer(page, row, rows, before)


# --- notes and the revisit list -----------------------------------------------------------------


def active_enrolment(*, learner, track) -> Enrolment | None:
    return Enrolment.objects.filter(learner=learner, track=track, left_at__isnull=True).first()


def note_for(*, learner, resource) -> ResourceNote | None:
    return ResourceNote.objects.filter(learner=learner, resource=resource).first()


@dataclass
class RevisitGroup:
    track: Track
    notes: list[ResourceNote]


def note_groups(*, learner) -> list[RevisitGroup]:
    """Every note the learner wrote, grouped by track in track order (one query). Notes on
    archived resources or tracks are kept (they are the learner's): the page shows them
    without a link to a row that is gone."""
    notes = (
        ResourceNote.objects.filter(learner=learner)
        .exclude(body="")
        .select_related("resource__track", "resource__module")
        .order_by(
            "resource__track__title",
            "resource__track_id",
            "resource__module__position",
            "resource__module_id",
            "resource__position",
            "resource_id",
        )
    )
    groups: list[RevisitGroup] = []
    for note in notes:
        if not groups or groups[-1].track.id != note.resource.track_id:
            groups.append(RevisitGroup(track=note.resource.track, notes=[]))
        groups[-1].notes.append(note)
    return groups


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
