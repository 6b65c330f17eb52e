"""`make run`'s demo accounts: a learner, staff, and a track lead whose review queue holds the
learner's submitted capstone; running it again changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from curriculum.loader import load_paths
from tracker import demo
from tracker.models import CapstoneSubmission, SubmissionStatus, TrackLead

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def test_demo_lead_leads_a_seed_track_with_a_submission_waiting(client, tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "CREDENTIALS_FILE", tmp_path / "demo-accounts.txt")
    load_paths([str(SEEDS)])
    created = demo.demo_accounts_create()
    assert {account.email for account, _ in created} == {
        demo.LEARNER_EMAIL,
        demo.STAFF_EMAIL,
        demo.LEAD_EMAIL,
        demo.COHORT_ADMIN_EMAIL,
    }
    listed = (tmp_path / "demo-accounts.txt").read_text()
    assert demo.LEAD_EMAIL in listed and "track lead of nvidia-dli-cv" in listed

    role = TrackLead.objects.get(user__email=demo.LEAD_EMAIL)
    assert role.track.slug == demo.DEMO_LEAD_TRACK and role.active
    waiting = CapstoneSubmission.objects.get(learner__email=demo.LEARNER_EMAIL)
    assert waiting.status == SubmissionStatus.SUBMITTED and waiting.track == role.track

    client.force_login(role.user)
    queue = client.get("/lead/reviews/").content.decode()
    assert "Solar panel defect detector" in queue and "Dana Learner" in queue

    assert demo.demo_accounts_create() == []  # again: nothing new, nothing twice
    assert CapstoneSubmission.objects.count() == 1 and TrackLead.objects.count() == 1
