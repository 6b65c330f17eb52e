"""The zero-set-up default under concurrent writes: SQLite behind gunicorn (4 workers), 8
learners each logging in and clicking 10 times without pause: no "database is locked", no
5xx, points consistent. `scripts/reliability.py sqlite-writers` is the 30-second version."""

from __future__ import annotations

import pytest

from scripts.learners import run_learners, summarize
from scripts.stack import Stack

pytestmark = pytest.mark.services


def test_eight_writers_through_the_web():
    # DEBUG=1 only spares collectstatic: the database settings are the same either way.
    with Stack(database="sqlite", redis=False, debug=True) as stack:
        accounts = stack.prepare(learners=8, seeds="seeds/fastai-part1.yaml")
        web = stack.gunicorn(workers=4)
        run = run_learners([web.url], accounts, 180, think=(0.0, 0.0), max_marks=10)
        summary = summarize(run)
        assert "database is locked" not in web.log_text()
        assert summary["5xx"] == 0 and summary["no_answer"] == 0, summary
        assert summary["marks"] == 8 * 10 and summary["marks_failed"] == 0, summary
        assert stack.check_points()["drift"] == []
