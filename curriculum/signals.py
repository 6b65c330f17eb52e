"""Signals the curriculum sends, so other apps can follow the files without the loader
knowing about them (curriculum never imports tracker)."""

from django.dispatch import Signal

# Sent by the loader after it wrote a run, inside its transaction, with `track_slugs`: every
# track in the run's files (changed or not). tracker grants and revokes the YAML's `leads:`.
curriculum_loaded = Signal()
