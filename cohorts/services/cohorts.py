"""Creating and editing a cohort: its details and tracks, its phases and its pace plan."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from curriculum.markdown import render_markdown
from curriculum.models import Module, Track
from tracker import permissions
from tracker.services import enrolment_join

from ..models import (
    NAME_MAX,
    TARGET_WEEK_MAX,
    Cohort,
    CohortMembership,
    CohortModuleTarget,
    CohortPhase,
    CohortRole,
    CohortTrack,
)
from ..pace import default_target_weeks, week_ends_on
from .errors import CohortInvalid, NotAllowed

__all__ = [
    "DESCRIPTION_MAX",
    "RESERVED_SLUGS",
    "PhaseInput",
    "cohort_archive",
    "cohort_create",
    "cohort_phases_set",
    "cohort_restore",
    "cohort_targets_reset",
    "cohort_targets_set",
    "cohort_update",
    "default_targets",
    "target_due_on",
]

# /cohorts/new/ is a page and /join/ the invite flow: no cohort may take those names.
RESERVED_SLUGS = frozenset({"new", "join"})
SLUG_MAX = Cohort._meta.get_field("slug").max_length
DESCRIPTION_MAX = Cohort._meta.get_field("description").max_length
# Long enough for any program; a cohort dated from year 1 drew a dashboard of 105,707 weeks.
COHORT_MAX_DAYS = 5 * 365
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class PhaseInput:
    name: str
    starts_on: date
    ends_on: date


# --- details and tracks -------------------------------------------------------------------------


def _check_details(
    *, name: str, slug: str, starts_on, ends_on, track_ids, description: str, cohort=None
) -> tuple[str, str, str, list[Track]]:
    errors: dict[str | None, list[str]] = defaultdict(list)
    name = (name or "").strip()
    slug = (slug or "").strip().lower()
    description = (description or "").replace("\r\n", "\n").strip()
    if not name:
        errors["name"].append("Give the cohort a name.")
    elif len(name) > NAME_MAX:
        errors["name"].append(f"A name can be at most {NAME_MAX} characters.")
    if not slug:
        errors["slug"].append("Give the cohort a short name for its web address (its slug).")
    elif len(slug) > SLUG_MAX or not _SLUG.match(slug):
        errors["slug"].append(
            f"Use lowercase letters, digits and single hyphens, at most {SLUG_MAX} characters "
            "(for example spring-2026)."
        )
    elif slug in RESERVED_SLUGS:
        errors["slug"].append(f"“{slug}” is reserved for a page of the site; pick another.")
    elif Cohort.objects.filter(slug=slug).exclude(pk=getattr(cohort, "pk", None)).exists():
        errors["slug"].append(f"Another cohort already uses “{slug}”; pick another.")
    if len(description) > DESCRIPTION_MAX:
        errors["description"].append(
            f"A description can be at most {DESCRIPTION_MAX:,} characters "
            f"(this one has {len(description):,})."
        )
    if not isinstance(starts_on, date):
        errors["starts_on"].append("Give the date the cohort starts.")
    if not isinstance(ends_on, date):
        errors["ends_on"].append("Give the date the cohort ends.")
    days = (
        (ends_on - starts_on).days + 1
        if isinstance(starts_on, date) and isinstance(ends_on, date)
        else None
    )
    if days is not None and days < 1:
        errors["ends_on"].append("The cohort must end on or after the day it starts.")
    elif days is not None and days > COHORT_MAX_DAYS:
        errors["ends_on"].append(
            f"A cohort runs for at most {COHORT_MAX_DAYS // 365} years; this one would run "
            f"{days:,} days. Pick a later start or an earlier end."
        )
    tracks = _tracks(list(track_ids or []), errors, cohort=cohort)
    if errors:
        raise CohortInvalid(dict(errors))
    return name, slug, description, tracks


def _tracks(track_ids: list, errors, *, cohort) -> list[Track]:
    """The chosen tracks in the order given; archived ones only if the cohort already has them
    (a cohort keeps running through a track archived under it, but takes none new)."""
    if not track_ids:
        errors["track_ids"].append("Choose at least one track.")
        return []
    wanted = list(dict.fromkeys(track_ids))
    found = Track.objects.in_bulk([pk for pk in wanted if isinstance(pk, int)])
    kept = set()
    if cohort is not None:
        kept = set(CohortTrack.objects.filter(cohort=cohort).values_list("track_id", flat=True))
    tracks = []
    for pk in wanted:
        track = found.get(pk)
        if track is None:
            errors["track_ids"].append(f"There is no track with id {pk}.")
        elif track.archived_at is not None and track.pk not in kept:
            errors["track_ids"].append(f"The track “{track.title}” is archived; choose another.")
        else:
            tracks.append(track)
    return tracks


def default_targets(track_ids: Iterable[int]) -> dict[int, int]:
    """{module id: target week} from the active modules' pacing hints, each track on its own
    from week 1 (members of different tracks work side by side)."""
    by_track: dict[int, list[Module]] = defaultdict(list)
    for module in (
        Module.objects.active()
        .filter(track_id__in=list(track_ids))
        .order_by("track_id", "position", "id")
        .only("id", "track_id", "weeks", "days")
    ):
        by_track[module.track_id].append(module)
    targets = {}
    for modules in by_track.values():
        weeks = default_target_weeks(module.hint_days for module in modules)
        targets.update(
            {
                module.pk: min(week, TARGET_WEEK_MAX)
                for module, week in zip(modules, weeks, strict=True)
            }
        )
    return targets


def _add_default_targets(cohort: Cohort, track_ids: Iterable[int]) -> None:
    CohortModuleTarget.objects.bulk_create(
        [
            CohortModuleTarget(cohort=cohort, module_id=module_id, target_week=week)
            for module_id, week in default_targets(track_ids).items()
        ],
        ignore_conflicts=True,
    )


def _must_manage(by, cohort: Cohort) -> None:
    if not permissions.can_manage_cohort(by, cohort):
        raise NotAllowed(f"Only the admins of {cohort.name} (and staff) can change it.")


@transaction.atomic
def cohort_create(
    *,
    by,
    name: str,
    slug: str,
    starts_on: date,
    ends_on: date,
    track_ids: list[int],
    description: str = "",
    now: datetime | None = None,
) -> Cohort:
    """A new cohort run by `by` (who becomes its first admin), on the chosen tracks, with a
    pace plan from the modules' pacing hints."""
    if not permissions.can_create_cohort(by):
        raise NotAllowed("Only staff and people who already run a cohort can create one.")
    name, slug, description, tracks = _check_details(
        name=name,
        slug=slug,
        starts_on=starts_on,
        ends_on=ends_on,
        track_ids=track_ids,
        description=description,
    )
    now = now or timezone.now()
    try:
        with transaction.atomic():
            cohort = Cohort.objects.create(
                name=name,
                slug=slug,
                description=description,
                description_html=render_markdown(description, top_heading=3),
                starts_on=starts_on,
                ends_on=ends_on,
                created_by=by,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:  # the same slug taken a moment ago
        raise CohortInvalid.on(
            "slug", f"Another cohort already uses “{slug}”; pick another."
        ) from None
    CohortTrack.objects.bulk_create(
        [CohortTrack(cohort=cohort, track=track, position=i) for i, track in enumerate(tracks)]
    )
    _add_default_targets(cohort, [track.pk for track in tracks])
    CohortMembership.objects.create(
        cohort=cohort, user=by, role=CohortRole.ADMIN, joined_at=now, added_by=by
    )
    permissions.forget_roles(by)
    return cohort


@transaction.atomic
def cohort_update(
    *,
    by,
    cohort: Cohort,
    name: str,
    slug: str,
    starts_on: date,
    ends_on: date,
    track_ids: list[int],
    description: str = "",
    now: datetime | None = None,
) -> Cohort:
    """Change the details. A track added gets default targets and every active member is
    enrolled in it; a track taken away loses its targets (members keep their enrolments and
    progress). Phases must still fit inside the new dates."""
    _must_manage(by, cohort)
    cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
    name, slug, description, tracks = _check_details(
        name=name,
        slug=slug,
        starts_on=starts_on,
        ends_on=ends_on,
        track_ids=track_ids,
        description=description,
        cohort=cohort,
    )
    outside = [
        phase.name
        for phase in cohort.phases.all()
        if phase.starts_on < starts_on or phase.ends_on > ends_on
    ]
    if outside:
        raise CohortInvalid.on(
            "starts_on" if any(p.starts_on < starts_on for p in cohort.phases.all()) else "ends_on",
            f"The phase{'s' if len(outside) > 1 else ''} {', '.join(outside)} would lie outside "
            "these dates: change or remove it first.",
        )
    now = now or timezone.now()
    try:
        with transaction.atomic():
            Cohort.objects.filter(pk=cohort.pk).update(
                name=name,
                slug=slug,
                description=description,
                description_html=render_markdown(description, top_heading=3),
                starts_on=starts_on,
                ends_on=ends_on,
                updated_at=now,
            )
    except IntegrityError:
        raise CohortInvalid.on(
            "slug", f"Another cohort already uses “{slug}”; pick another."
        ) from None
    _set_tracks(cohort, tracks, now=now)
    cohort.refresh_from_db()
    return cohort


@transaction.atomic
def cohort_archive(*, by, cohort: Cohort, now: datetime | None = None) -> Cohort:
    """End the cohort for good: it leaves its members' and admins' pages (the cohort list, the
    member page, `/me/` and the weekly nudge), its invites let nobody in and its dashboard is
    staff's only. Nothing else changes: memberships, progress, points and certificates stay,
    and staff can restore it (`cohort_restore`). Archiving twice changes nothing."""
    if not permissions.can_archive_cohort(by, cohort):
        if cohort.archived_at is not None:
            return cohort
        raise NotAllowed(f"Only the admins of {cohort.name} (and staff) can archive it.")
    now = now or timezone.now()
    Cohort.objects.filter(pk=cohort.pk, archived_at__isnull=True).update(
        archived_at=now, updated_at=now
    )
    permissions.forget_roles(by)
    cohort.refresh_from_db()
    return cohort


@transaction.atomic
def cohort_restore(*, by, cohort: Cohort, now: datetime | None = None) -> Cohort:
    """Bring an archived cohort back, as it was (staff)."""
    if not permissions.can_restore_cohort(by, cohort):
        if cohort.archived_at is None:
            return cohort
        raise NotAllowed("Only staff can restore an archived cohort.")
    Cohort.objects.filter(pk=cohort.pk).update(archived_at=None, updated_at=now or timezone.now())
    permissions.forget_roles(by)
    cohort.refresh_from_db()
    return cohort


def _set_tracks(cohort: Cohort, tracks: list[Track], *, now: datetime) -> None:
    links = {link.track_id: link for link in CohortTrack.objects.filter(cohort=cohort)}
    wanted = [track.pk for track in tracks]
    gone = set(links) - set(wanted)
    if gone:
        CohortTrack.objects.filter(cohort=cohort, track_id__in=gone).delete()
        CohortModuleTarget.objects.filter(cohort=cohort, module__track_id__in=gone).delete()
    added = [track for track in tracks if track.pk not in links]
    for position, track in enumerate(tracks):
        link = links.get(track.pk)
        if link is None:
            CohortTrack.objects.create(cohort=cohort, track=track, position=position)
        elif link.position != position:
            link.position = position
            link.save(update_fields=["position"])
    if added:
        _add_default_targets(cohort, [track.pk for track in added])
        members = [
            membership.user
            for membership in CohortMembership.objects.filter(
                cohort=cohort, role=CohortRole.MEMBER, removed_at__isnull=True
            ).select_related("user")
        ]
        for track in added:
            if track.archived_at is None:
                for user in members:
                    enrolment_join(learner=user, track=track, now=now)


# --- phases -------------------------------------------------------------------------------------


def _day(day: date) -> str:
    """A day as the pages write it: "2 Nov 2026" (not "02 Nov 2026")."""
    return f"{day.day} {day:%b %Y}"


@transaction.atomic
def cohort_phases_set(*, by, cohort: Cohort, phases: list[PhaseInput]) -> list[CohortPhase]:
    """Replace the cohort's phases with these: each named, inside the cohort's dates, none
    overlapping another. They are kept in date order whatever order they came in."""
    _must_manage(by, cohort)
    cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
    errors: dict[str | None, list[str]] = defaultdict(list)
    seen: dict[str, int] = {}
    cleaned = []
    for row, phase in enumerate(phases):
        key = f"phases.{row}"
        name = (phase.name or "").strip()
        if not name:
            errors[f"{key}.name"].append("Give the phase a name.")
        elif len(name) > NAME_MAX:
            errors[f"{key}.name"].append(f"A name can be at most {NAME_MAX} characters.")
        elif name.casefold() in seen:
            errors[f"{key}.name"].append(f"Another phase is already called “{name}”.")
        else:
            seen[name.casefold()] = row
        if not isinstance(phase.starts_on, date):
            errors[f"{key}.starts_on"].append("Give the day the phase starts.")
        elif phase.starts_on < cohort.starts_on:
            errors[f"{key}.starts_on"].append(
                f"The cohort starts on {_day(cohort.starts_on)}; start the phase then or later."
            )
        if not isinstance(phase.ends_on, date):
            errors[f"{key}.ends_on"].append("Give the day the phase ends.")
        elif phase.ends_on > cohort.ends_on:
            errors[f"{key}.ends_on"].append(
                f"The cohort ends on {_day(cohort.ends_on)}; end the phase then or earlier."
            )
        elif isinstance(phase.starts_on, date) and phase.ends_on < phase.starts_on:
            errors[f"{key}.ends_on"].append("A phase must end on or after the day it starts.")
        cleaned.append((row, name, phase.starts_on, phase.ends_on))
    if not errors:
        ordered = sorted(cleaned, key=lambda item: (item[2], item[3]))
        for (_, earlier, _, earlier_end), (row, name, start, _) in zip(
            ordered, ordered[1:], strict=False
        ):
            if start <= earlier_end:
                errors[f"phases.{row}.starts_on"].append(
                    f"“{name}” overlaps “{earlier}”, which ends on {_day(earlier_end)}: "
                    "start it after that."
                )
    if errors:
        raise CohortInvalid(dict(errors))
    CohortPhase.objects.filter(cohort=cohort).delete()
    ordered = sorted(cleaned, key=lambda item: (item[2], item[3]))
    return CohortPhase.objects.bulk_create(
        [
            CohortPhase(cohort=cohort, name=name, starts_on=start, ends_on=end, position=i)
            for i, (_, name, start, end) in enumerate(ordered)
        ]
    )


# --- pace plan ----------------------------------------------------------------------------------


def _plan_modules(cohort: Cohort) -> dict[int, Module]:
    return Module.objects.active().filter(track__cohort_links__cohort=cohort).in_bulk()


@transaction.atomic
def cohort_targets_set(
    *, by, cohort: Cohort, target_weeks: dict[int, int]
) -> list[CohortModuleTarget]:
    """Set the target week of each module given (modules left out keep theirs): a module of the
    cohort's tracks, a week from 1 to 520."""
    _must_manage(by, cohort)
    modules = _plan_modules(cohort)
    errors: dict[str | None, list[str]] = defaultdict(list)
    for module_id, week in target_weeks.items():
        module = modules.get(module_id)
        if module is None:
            errors[None].append(f"Module {module_id} is not in this cohort's tracks.")
        elif isinstance(week, bool) or not isinstance(week, int):
            errors[f"target.{module_id}"].append(f"Give {module.title} a whole week number.")
        elif not 1 <= week <= TARGET_WEEK_MAX:
            errors[f"target.{module_id}"].append(
                f"A target week is from 1 (the cohort's first week) to {TARGET_WEEK_MAX}."
            )
    if errors:
        raise CohortInvalid(dict(errors))
    existing = {
        target.module_id: target
        for target in CohortModuleTarget.objects.select_for_update().filter(
            cohort=cohort, module_id__in=list(target_weeks)
        )
    }
    changed, created = [], []
    for module_id, week in target_weeks.items():
        target = existing.get(module_id)
        if target is None:
            created.append(CohortModuleTarget(cohort=cohort, module_id=module_id, target_week=week))
        elif target.target_week != week:
            target.target_week = week
            changed.append(target)
    CohortModuleTarget.objects.bulk_update(changed, ["target_week"])
    CohortModuleTarget.objects.bulk_create(created)
    return changed + created


@transaction.atomic
def cohort_targets_reset(*, by, cohort: Cohort) -> None:
    """Back to the targets the modules' pacing hints give."""
    _must_manage(by, cohort)
    CohortModuleTarget.objects.filter(cohort=cohort).delete()
    _add_default_targets(
        cohort, CohortTrack.objects.filter(cohort=cohort).values_list("track_id", flat=True)
    )


def target_due_on(cohort: Cohort, week: int) -> date:
    """The day a target of `week` is due (the last day of that cohort week)."""
    return week_ends_on(starts_on=cohort.starts_on, week=week)
