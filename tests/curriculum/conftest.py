"""The curation tests' shared fixtures: the small loaded track (`curation_world.build`) and
a client logged in as its lead."""

from __future__ import annotations

import pytest

from .curation_world import build


@pytest.fixture
def world():
    return build()


@pytest.fixture
def lead(client, world):
    client.force_login(world.lead)
    return client
