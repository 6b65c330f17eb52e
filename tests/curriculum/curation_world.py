"""A small loaded track, its lead, a learner with progress, for the curation tests."""

from __future__ import annotations

from dataclasses import dataclass

from curriculum.loader import load_specs, read_upload
from curriculum.models import Track
from tests.factories import UserFactory, enrol
from tracker import services

# The headers of a request htmx makes.
HX = {"HTTP_HX_REQUEST": "true"}

TRACK_YAML = """\
track:
  slug: pets
  title: Pets course
  summary: Learn to classify *pets*.
  modules:
    - slug: one
      title: Lesson one
      resources:
        - slug: video
          title: Lesson video
          kind: video
          url: https://example.com/video
          minutes: 20
        - slug: notebook
          title: Lesson notebook
          kind: notebook
          url: https://example.com/nb
      capstones:
        - slug: final
          title: Final project
          brief: Build a **classifier**.
    - slug: two
      title: Lesson two
      resources:
        - slug: paper
          title: A paper
          kind: paper
          url: https://example.com/paper
"""


def load_text(text: str, *, how: str = "load_curriculum", user=None, display="seeds/pets.yaml"):
    spec = read_upload(text.encode(), display=display, source_path=display)
    return load_specs([spec], how=how, changed_by=user)


@dataclass
class World:
    track: Track
    lead: object
    staff: object
    learner: object
    other_lead: object


def build(*, progress: bool = True) -> World:
    load_text(TRACK_YAML)
    track = Track.objects.get(slug="pets")
    staff = UserFactory(username="staff", is_staff=True, is_superuser=True)
    lead = UserFactory(username="lead")
    services.track_lead_grant(track=track, user=lead, granted_by=staff)
    load_text(TRACK_YAML.replace("slug: pets", "slug: other").replace("Pets", "Other"))
    other_lead = UserFactory(username="otherlead")
    services.track_lead_grant(
        track=Track.objects.get(slug="other"), user=other_lead, granted_by=staff
    )
    learner = UserFactory(username="learner")
    if progress:
        enrol(learner, track)
        services.progress_set_status(
            learner=learner, resource=track.resources.get(slug="notebook"), status="done"
        )
    return World(track=track, lead=lead, staff=staff, learner=learner, other_lead=other_lead)
