"""The curriculum loader: YAML files → tracks, modules, resources and capstones.

    from curriculum.loader import load_paths, CurriculumInvalid
    report = load_paths(["seeds/"])            # or check=True, dry_run=True, prune=True
    print(report.summary_line())               # created N, updated N, archived N, unchanged N

Stages: `parse` (YAML → nodes with line/column, safety caps), `schema` (the format, one file),
`crossref` (across files and against the database), `apply` (plan, then bulk writes).
Every error of every file is collected first; any error means nothing is written.
The format is documented in docs/curriculum-format.md.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction

from ..models import ChangeHow
from ..signals import curriculum_loaded
from .apply import LoadReport, build_plan, lock_for_writing, write_plan
from .crossref import check_tracks, tracks_in_db
from .errors import CurriculumInvalid, LoadError
from .parse import decode_bytes, nodes_from_data, parse_text, read_text
from .schema import TrackSpec, validate_file

__all__ = [
    "CurriculumInvalid",
    "LoadError",
    "LoadReport",
    "collect_files",
    "load_paths",
    "load_specs",
    "lock_for_writing",
    "read_data",
    "read_upload",
]

YAML_SUFFIXES = (".yaml", ".yml")


def collect_files(paths: list[str]) -> tuple[list[tuple[Path, str]], list[LoadError]]:
    """(file, path as shown in messages) for each YAML file named or inside a named folder."""
    files: list[tuple[Path, str]] = []
    errors: list[LoadError] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())
            if not found:
                errors.append(
                    LoadError(
                        given,
                        1,
                        1,
                        "this folder has no .yaml or .yml files: name the files themselves, or the folder that holds them",
                    )
                )
            candidates = [(p, str(p)) for p in found]
        elif path.is_file():
            candidates = [(path, given)]
        elif path.exists():
            errors.append(
                LoadError(
                    given,
                    1,
                    1,
                    "this is not a regular file or folder: name a .yaml file, or a folder of them",
                )
            )
            continue
        else:
            errors.append(LoadError(given, 1, 1, "no such file or folder: check the path"))
            continue
        for file, display in candidates:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                files.append((file, display))
    if not paths:
        errors.append(
            LoadError(".", 1, 1, "no paths given: name at least one .yaml file or folder")
        )
    return files, errors


def _read_specs(files: list[tuple[Path, str]]) -> tuple[list[TrackSpec], list[LoadError]]:
    specs: list[TrackSpec] = []
    errors: list[LoadError] = []
    max_bytes = getattr(settings, "CURRICULUM_MAX_FILE_BYTES", 1_000_000)
    for file, display in files:
        text, error = read_text(file, display=display, max_bytes=max_bytes)
        if error is None:
            root, error = parse_text(text, display=display)
        if error is not None:
            errors.append(error)
            continue
        spec, file_errors = validate_file(root, display=display, source_path=display)
        errors.extend(file_errors)
        if spec is not None:
            specs.append(spec)
    return specs, errors


def load_paths(
    paths: list[str],
    *,
    check: bool = False,
    dry_run: bool = False,
    prune: bool = False,
    how: str = ChangeHow.LOAD,
    changed_by=None,
) -> LoadReport:
    """Validate every file, then (unless `check` or `dry_run`) write the changes in one
    transaction. Raises CurriculumInvalid with every error found; then nothing is written.
    `report.plan` lists each change as a line ("create resource track/slug"). Every row written
    is recorded in the curriculum history as made `how`, by `changed_by` (None: a command)."""
    files, errors = collect_files(list(paths))
    specs, file_errors = _read_specs(files)
    errors.extend(file_errors)
    if errors:  # checks across files and against the database need every file valid first
        raise CurriculumInvalid(errors)
    return load_specs(
        specs,
        files=len(files),
        check=check,
        dry_run=dry_run,
        prune=prune,
        how=how,
        changed_by=changed_by,
    )


def read_upload(
    data: bytes, *, display: str, source_path: str, expect_slug: str | None = None
) -> TrackSpec:
    """One uploaded file (bytes) read and validated exactly as a file on disk would be; with
    `expect_slug`, a file for another track is refused at its `slug`. Raises CurriculumInvalid."""
    max_bytes = getattr(settings, "CURRICULUM_MAX_FILE_BYTES", 1_000_000)
    text, error = decode_bytes(data, display=display, max_bytes=max_bytes, size=len(data))
    if error is None:
        root, error = parse_text(text, display=display)
    if error is not None:
        raise CurriculumInvalid([error])
    return _checked_spec(root, display=display, source_path=source_path, expect_slug=expect_slug)


def read_data(data: dict, *, display: str, source_path: str, expect_slug: str) -> TrackSpec:
    """A track given as plain data (what `track:` holds; the exporter builds it, the browser
    edits it),
    validated by the same schema as a file. Raises CurriculumInvalid."""
    return _checked_spec(
        nodes_from_data({"track": data}),
        display=display,
        source_path=source_path,
        expect_slug=expect_slug,
    )


def _checked_spec(root, *, display: str, source_path: str, expect_slug: str | None) -> TrackSpec:
    spec, errors = validate_file(root, display=display, source_path=source_path)
    if errors:
        raise CurriculumInvalid(errors)
    if expect_slug is not None and spec.slug != expect_slug:
        at = spec.slug_at
        raise CurriculumInvalid(
            [
                LoadError(
                    display,
                    at.line,
                    at.column,
                    at.where.says(
                        f"this file is for the track `{spec.slug}`, not `{expect_slug}`: upload "
                        "it from that track's editor, or, for a new track, add the file to "
                        "seeds/ and run load_curriculum"
                    ),
                    field=at.where.path,
                    item=at.where.item,
                )
            ]
        )
    return spec


def load_specs(
    specs: list[TrackSpec],
    *,
    files: int = 1,
    check: bool = False,
    dry_run: bool = False,
    prune: bool = False,
    how: str = ChangeHow.LOAD,
    changed_by=None,
    before_write=None,
) -> LoadReport:
    """Check validated tracks across each other and the database, plan, and (unless `check`
    or `dry_run`) write, in one transaction. `before_write()` runs inside it, after the lock
    and before anything is read (a caller's last check; raising there writes nothing). A dry
    run leaves the plan on `report.changes`."""
    report = LoadReport(files=files, tracks=len(specs))
    writing = not (check or dry_run)
    with transaction.atomic():
        if writing:
            lock_for_writing()
            if before_write is not None:
                before_write()
        db = tracks_in_db()
        errors = check_tracks(specs, db, prune=prune)
        if errors:
            raise CurriculumInvalid(errors)
        plan = build_plan(specs, db, prune=prune, report=report)
        if not writing:
            report.changes = plan
            return report
        write_plan(plan, specs, db, how=how, changed_by=changed_by)
        if how != ChangeHow.BROWSER:
            # In the same transaction: what follows from the files (track leads) commits or
            # rolls back with them. A browser edit never changes `leads:`.
            curriculum_loaded.send(sender=load_paths, track_slugs=[spec.slug for spec in specs])
    return report
