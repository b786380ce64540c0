"""`shadowdiff canary` on planted data: each change in the canary arm is named, nothing else."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from analysis_helpers import rec, write_records
from canary_data import arm, body

from analysis.canary import canary_schema
from shadowdiff.cli import main

CONFIG = "canary: {min_requests: 200}\nroutes: ['/items/{sku}', '/users/{id}']\n"


def canary_for(
    tmp: Path, records: list[dict[str, Any]], *args: str, config: str | None = CONFIG
) -> tuple[int, dict[str, Any]]:
    n = len(os.listdir(tmp))
    root = write_records(tmp / f"data{n}", records)
    out = tmp / f"out{n}"
    argv = ["canary", "--records", str(root), "--out", str(out), "--workers", "1", *args]
    if config is not None:
        (tmp / f"config{n}.yaml").write_text(config)
        argv += ["--config", str(tmp / f"config{n}.yaml")]
    code = main(argv)
    doc = json.loads((out / "canary.json").read_text())
    jsonschema.validate(doc, canary_schema())
    return code, doc


def by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {ep["endpoint"]: ep for ep in doc["endpoints"]}


def test_equal_arms_pass_with_one_reason_and_exit_0(tmp_path):
    code, doc = canary_for(tmp_path, arm("baseline", 3000, seed=1) + arm("canary", 900, seed=2))
    assert (code, doc["verdict"]) == (0, "pass")
    (reason,) = doc["reasons"]
    assert "900 canary and 3000 baseline requests" in reason
    assert set(by_name(doc)) == {"GET /items/{sku}", "GET /users/{id}", "POST /orders"}
    for ep in doc["endpoints"]:
        assert ep["errors"]["verdict"] == "same" and ep["latency_ms"]["verdict"] == "same"
        assert ep["schema"] == [] and ep["findings"] == []
    assert (doc["baseline"], doc["canary"]) == (
        {"label": "baseline", "requests": 3000},
        {"label": "canary", "requests": 900},
    )


def test_four_points_more_5xx_fails_that_endpoint_only(tmp_path):
    canary = arm("canary", 1500, seed=2, errors={"orders": 0.042})
    code, doc = canary_for(tmp_path, arm("baseline", 4500, seed=1) + canary)
    assert (code, doc["verdict"]) == (3, "fail")
    eps = by_name(doc)
    assert eps["POST /orders"]["errors"]["verdict"] == "worse"
    assert [e for e, ep in eps.items() if ep["findings"]] == ["POST /orders"]
    (reason,) = doc["reasons"]
    assert reason.startswith("POST /orders: 5xx ")
    assert " on canary vs " in reason and " on baseline (p = " in reason
    assert doc["endpoints"][0]["endpoint"] == "POST /orders"  # failing first


def test_forty_percent_slower_fails_on_latency(tmp_path):
    canary = arm("canary", 900, seed=2, slow={"users": 1.4})
    code, doc = canary_for(tmp_path, arm("baseline", 3000, seed=1) + canary)
    assert (code, doc["verdict"]) == (3, "fail")
    lat = by_name(doc)["GET /users/{id}"]["latency_ms"]
    assert lat["verdict"] == "slower" and lat["p_value"] < 0.01
    (reason,) = doc["reasons"]
    assert reason.startswith("GET /users/{id}: p50 latency ") and "+" in reason


def _shape(change: str):
    def shape(endpoint: str, i: int) -> dict[str, Any]:
        b = body(endpoint, i)
        if endpoint == "items":
            if change == "retyped":
                b["price"] = f"{b['price']:.2f}"
            elif change == "removed":
                del b["stock"]
            elif change == "added":
                b["avatar_url"] = f"https://cdn.example.com/{i}.png"
        return b

    return shape


@pytest.mark.parametrize(
    ("change", "path", "kind"),
    [("retyped", "$.price", "type_changed"), ("removed", "$.stock", "removed")],
)
def test_a_retyped_or_removed_field_fails(tmp_path, change, path, kind):
    canary = arm("canary", 900, seed=2, shape=_shape(change))
    code, doc = canary_for(tmp_path, arm("baseline", 3000, seed=1) + canary)
    assert (code, doc["verdict"]) == (3, "fail")
    (entry,) = by_name(doc)["GET /items/{sku}"]["schema"]
    assert (entry["path"], entry["kind"]) == (path, kind)
    (reason,) = doc["reasons"]
    assert reason.startswith(f"GET /items/{{sku}}: {path} ")


def test_an_added_field_is_reported_but_does_not_fail(tmp_path):
    canary = arm("canary", 900, seed=2, shape=_shape("added"))
    code, doc = canary_for(tmp_path, arm("baseline", 3000, seed=1) + canary)
    assert (code, doc["verdict"]) == (0, "pass")
    (entry,) = by_name(doc)["GET /items/{sku}"]["schema"]
    assert (entry["path"], entry["kind"], entry["canary_share"]) == ("$.avatar_url", "added", 1.0)


def test_too_few_requests_is_inconclusive_and_exits_4(tmp_path):
    code, doc = canary_for(tmp_path, arm("baseline", 3000, seed=1) + arm("canary", 150, seed=2))
    assert (code, doc["verdict"]) == (4, "inconclusive")
    (reason,) = doc["reasons"]
    assert "canary arm has 150 requests" in reason and "200" in reason


@pytest.mark.parametrize("empty", ["baseline", "canary"])
def test_an_empty_arm_is_inconclusive_and_named(tmp_path, empty):
    other = "canary" if empty == "baseline" else "baseline"
    code, doc = canary_for(tmp_path, arm(other, 500, seed=1))
    assert (code, doc["verdict"]) == (4, "inconclusive")
    assert doc["reasons"] == [
        f"the {empty} arm (deployment {empty!r}) has no records in the window"
    ]
    assert doc[empty]["requests"] == 0


def test_records_without_a_response_count_as_errors(tmp_path):
    canary = arm("canary", 1500, seed=2, no_response=0.05)
    code, doc = canary_for(tmp_path, arm("baseline", 3000, seed=1) + canary)
    assert code == 3
    assert all("errors (5xx or no response)" in r for r in doc["reasons"])
    err = doc["endpoints"][0]["errors"]
    assert err["canary_no_response"] > 0 and err["verdict"] == "worse"


def test_fail_on_over_canary_metrics_turns_a_pass_into_a_fail(tmp_path):
    records = arm("baseline", 3000, seed=1) + arm("canary", 900, seed=2)
    code, doc = canary_for(tmp_path, records, "--fail-on", "canary_error_rate > 0.0001")
    assert (code, doc["verdict"]) == (3, "fail")
    (reason,) = doc["reasons"]
    assert reason.startswith("--fail-on canary_error_rate > 0.0001 (measured ")
    assert doc["metrics"]["worse_endpoints"] == 0.0


def test_labels_pick_the_arms_and_other_deployments_are_counted_not_judged(tmp_path):
    records = arm("v1", 1200, seed=1) + arm("v2", 600, seed=2) + arm("v0", 50, seed=3)
    code, doc = canary_for(tmp_path, records, "--baseline", "v1", "--canary", "v2")
    assert (code, doc["baseline"]["label"], doc["canary"]["label"]) == (0, "v1", "v2")
    assert doc["summary"]["unlabelled"] == 50
    assert any("50 primary records" in note for note in doc["notes"])


def test_per_arm_sources_give_the_same_verdict_as_one_root(tmp_path):
    base = arm("baseline", 3000, seed=1)
    canary = arm("canary", 1000, seed=2, errors={"orders": 0.05}, shape=_shape("retyped"))
    _, together = canary_for(tmp_path, base + canary)
    # Per-arm sources name the arm themselves: the labels in the records do not matter.
    for r in canary:
        r["deployment"] = "green-7f3a"
    b_root = write_records(tmp_path / "blue", base)
    c_root = write_records(tmp_path / "green", canary)
    (tmp_path / "c.yaml").write_text(CONFIG)
    out = tmp_path / "split-out"
    argv = ["canary", "--baseline-records", str(b_root), "--canary-records", str(c_root)]
    code = main([*argv, "--out", str(out), "--workers", "1", "--config", str(tmp_path / "c.yaml")])
    apart = json.loads((out / "canary.json").read_text())
    assert code == 3
    assert apart["verdict"] == together["verdict"] == "fail"
    assert apart["reasons"] == together["reasons"]
    assert apart["endpoints"] == together["endpoints"]


def test_duplicates_and_invalid_lines_are_counted_and_skipped(tmp_path):
    records = arm("baseline", 600, seed=1) + arm("canary", 300, seed=2)
    root = write_records(tmp_path / "r", [*records, records[0], records[5]])
    (root / "role=primary/dt=2026-11-25/hour=10/junk.jsonl").write_text(
        '{"not": "a record"}\nnope\n'
    )
    assert (
        main(["canary", "--records", str(root), "--out", str(tmp_path / "o"), "--workers", "2"])
        == 0
    )
    doc = json.loads((tmp_path / "o" / "canary.json").read_text())
    assert doc["summary"]["duplicates"] == 2 and doc["summary"]["invalid_records"] == 2
    assert (doc["baseline"]["requests"], doc["canary"]["requests"]) == (600, 300)


def test_pages_escape_every_captured_value(tmp_path):
    evil = "/<script>alert(1)</script>"
    records = [rec(f"b{i}", path=evil, deployment="baseline") for i in range(30)]
    records += [rec(f"c{i}", path=evil, deployment="canary", status=500) for i in range(30)]
    root = write_records(tmp_path / "r", records)
    code = main(["canary", "--records", str(root), "--out", str(tmp_path / "o"), "--workers", "1"])
    assert code == 3
    markdown = (tmp_path / "o" / "canary.md").read_text()
    assert "- GET /&lt;script&gt;alert(1)&lt;/script&gt;: 5xx" in markdown  # free text escaped
    assert "| `GET /<script>alert(1)</script>` |" in markdown  # a code span shows it literally
    html = (tmp_path / "o" / "canary.html").read_text()
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html and "<svg" in html and "baseline" in html


def test_the_requests_behind_worse_errors_are_named(tmp_path, capsys):
    """Every canary order with ?express=1 fails, and no other: explain says so (§12)."""
    canary = arm("canary", 1500, seed=2, errors={"orders": 0.0})  # no other order fails
    for i, r in enumerate(canary):
        if r["request"]["path"] == "/orders" and i % 7 == 0:
            r["request"]["query"] = "express=1&page=2"
            r["response"].update(status=500, body='{"error": "boom"}')
        elif r["request"]["path"] == "/orders":
            r["request"]["query"] = "page=2"
    code, doc = canary_for(tmp_path, arm("baseline", 4500, seed=1) + canary)
    assert (code, doc["verdict"]) == (3, "fail")
    orders = by_name(doc)["POST /orders"]["errors"]
    assert orders["verdict"] == "worse"
    (entry,) = orders["explain"]
    assert (entry["attribute"], entry["value"], entry["support"]) == ("query.express", "1", 1.0)
    assert entry["baseline"] == 0.0 and entry["pairs"] == orders["canary_errors"]
    assert all("explain" not in ep["errors"] for ep in doc["endpoints"][1:])  # not worse
    folder = tmp_path / "out0"
    assert (
        "have query <code>express</code> = <code>1</code>" in (folder / "canary.html").read_text()
    )
    assert "of these failed requests" in (folder / "canary.md").read_text()
    assert "POST /orders: 100 % of these failed requests" in capsys.readouterr().out
