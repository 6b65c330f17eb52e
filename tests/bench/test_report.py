"""The benchmark's verdicts: a missing figure is "n/a", never a pass or a fail."""

from __future__ import annotations

import json

from bench.report import KEYS, table, verdict, write_json


def test_relative_and_absolute_targets():
    results = {"yaml_parse_s": 1.0, "import_cold_s": 9.0, "import_noop_s": 3.5}
    assert verdict("import_cold_s", results) is True
    assert verdict("import_noop_s", results) is False
    assert (
        verdict("mark_done_queries", {"mark_done_queries": 6, "mark_done_queries_at_10": 7})
        is False
    )
    assert (
        verdict("mark_done_queries", {"mark_done_queries": 6, "mark_done_queries_at_10": 6}) is True
    )
    assert verdict("http_rps", {"http_rps": 200, "http_floor_rps": 3000}) is True  # >= 5% of floor
    assert verdict("http_rps", {"http_rps": 200, "http_floor_rps": 4500}) is False


def test_missing_figures_are_null_and_na_with_the_reason(tmp_path):
    missing = {
        "nudge_10k_s": "nudges are not there yet",
        "nudge_duplicates": "nudges are not there yet",
    }
    assert verdict("nudge_10k_s", {}) is None
    printed = table({"yaml_parse_s": 0.5}, missing)
    assert "nudge_10k_s" in printed and "n/a" in printed
    assert "not available: nudge_10k_s, nudge_duplicates: nudges are not there yet" in printed

    out = tmp_path / "results.json"
    write_json(out, results={"yaml_parse_s": 0.5}, missing=missing, meta={"scale": "small"})
    document = json.loads(out.read_text())
    assert set(KEYS) <= set(document)
    assert document["nudge_10k_s"] is None
    assert document["targets"]["nudge_10k_s"]["met"] is None
    assert document["not_available"]["nudge_10k_s"] == "nudges are not there yet"
