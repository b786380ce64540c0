"""One builder of a ``pairs.jsonl.gz`` line, one vocabulary of reasons, for the report and serve."""

from __future__ import annotations

from analysis_helpers import rec

from analysis.core.pairdiff import REASONS, pair_line, pair_reasons
from analysis.core.settings import ReportSettings


def test_reasons_come_in_one_vocabulary_and_one_order():
    settings = ReportSettings()
    p = rec("c", body={"a": 1}, headers={"cache-control": "no-store"})
    s = rec("c", "shadow", body={"a": 2}, headers={"cache-control": "max-age=60"})
    line = pair_line("c", "GET /users/{id}", {"primary": p, "shadow": s}, settings)
    assert line["reasons"] == ["body", "headers"]
    assert set(line) == {"correlation_id", "endpoint", "reasons", "records", "diff"}
    assert line["records"]["secondary"] is None
    failed = rec("c", "shadow", status=None)
    assert pair_reasons(p, failed, [], ["latency"]) == ["error", "latency"]
    moved = rec("c", "shadow", status=500, body={"a": 1})
    assert pair_reasons(p, moved, [], ["noise", "status"]) == ["status", "noise"]
    assert REASONS == ("error", "status", "body", "headers", "latency", "noise")


def test_a_pair_whose_only_differences_are_noise_has_no_reason_of_its_own():
    p, s = rec("c", body={"t": "2026-11-25"}), rec("c", "shadow", body={"t": "2026-11-26"})
    noise = {("$.t", "changed"): "rule"}
    line = pair_line("c", "GET /users/{id}", {"primary": p, "shadow": s}, ReportSettings(), noise)
    assert line["reasons"] == [] and line["diff"][0]["noise_reason"] == "rule"
