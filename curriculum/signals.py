"""Signals the curriculum sends, so other apps can follow the files without the loader
knowing about them (curriculum never imports tracker)."""

from django.dispatch import Signal

# Sent by the loader after it wrote a run, inside its transaction, with `track_slugs`: every
# track in the run's files (changed or not). tracker grants and revokes the YAML's `leads:`.
curriculum_loaded = Signal()

# Sent by `curriculum.structure.structure_changed` (inside the writing transaction) with
# `track_ids`: the tracks whose own structure a write changed. tracker recomputes what each
# enrolment in them has done and still needs, in the same transaction.
structures_changed = Signal()
