"""Finer points of the report definitions (docs/contract.md §3, §4, §5, §6)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from .acc_support import endpoint, fields, record, report, write_hive


def run_pairs(
    tmp_path: Path,
    pairs: list[tuple[dict[str, Any], dict[str, Any]]],
    config: str | None = None,
    extra: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    root = tmp_path / "records"
    write_hive(root, [p for p, _ in pairs], "primary")
    write_hive(root, [s for _, s in pairs] + (extra or []), "shadow")
    args = ["--records", str(root)]
    if config is not None:
        (tmp_path / "c.yaml").write_text(config)
        args += ["--config", str(tmp_path / "c.yaml")]
    run = report(args, tmp_path / "out")
    assert run.code == 0, run.stderr
    assert run.report is not None
    return run.report


def pair(cid: str, p: Any, s: Any, path: str = "/x", **kw: Any) -> tuple[dict, dict]:
    return record(cid, "primary", path=path, body=p, **kw), record(
        cid, "shadow", path=path, body=s, **kw
    )


def test_count_is_pairs_not_list_elements(tmp_path: Path) -> None:
    rep = run_pairs(
        tmp_path,
        [
            pair(
                "a",
                {"items": [{"p": 1}, {"p": 2}, {"p": 3}]},
                {"items": [{"p": 4}, {"p": 5}, {"p": 6}]},
            ),
            pair("b", {"items": [{"p": 1}]}, {"items": [{"p": 1}]}),
        ],
    )
    f = fields(endpoint(rep, "GET /x"))["$.items[*].p"]
    assert (f["count"], f["rate"]) == (1, 0.5)


def test_booleans_are_not_numbers_and_numbers_compare_by_value(tmp_path: Path) -> None:
    rep = run_pairs(
        tmp_path,
        [
            pair(
                "a",
                {"t": True, "f": False, "big": 100, "x": 1, "nul": None},
                {"t": 1, "f": 0, "big": 1e2, "x": 1.0, "nul": None},
            )
        ],
    )
    got = {p: f["kind"] for p, f in fields(endpoint(rep, "GET /x")).items()}
    assert got == {"$.t": "type_changed", "$.f": "type_changed"}


def test_empty_containers_are_leaves_and_odd_keys_are_quoted(tmp_path: Path) -> None:
    rep = run_pairs(
        tmp_path,
        [
            pair(
                "a",
                {"o": {}, "meta": {"x-y": 1, "1abc": 1, "ok_1": 1}, "grid": [[1, 2], [3]]},
                {"meta": {"x-y": 2, "1abc": 2, "ok_1": 2}, "grid": [[1, 2], [4]], "l": []},
            )
        ],
    )
    got = {p: f["kind"] for p, f in fields(endpoint(rep, "GET /x")).items()}
    assert got == {
        "$.o": "removed",
        "$.l": "added",
        "$.meta['x-y']": "changed",
        "$.meta['1abc']": "changed",
        "$.meta.ok_1": "changed",
        "$.grid[*][*]": "changed",
    }


def test_json_content_type_with_parameters_and_base64_bodies(tmp_path: Path) -> None:
    ct = "application/json; charset=utf-8"
    p, s = pair("a", {"k": 1, "v": "a"}, {"k": 1, "v": "b"}, content_type=ct)
    # Same JSON as the primary, but delivered base64-encoded: still equal at $.k.
    raw = json.dumps({"k": 1, "v": "a"}).encode()
    p2, s2 = pair("b", {"k": 1, "v": "a"}, None, content_type=ct)
    s2["response"].update(body=base64.b64encode(raw).decode(), body_encoding="base64")
    s2["response"]["body_size"] = p2["response"]["body_size"]
    s2["response"]["body_sha256"] = p2["response"]["body_sha256"]
    rep = run_pairs(tmp_path, [(p, s), (p2, s2)])
    ep = endpoint(rep, "GET /x")
    assert ep["body"]["compared"] == 2
    assert ep["body"]["mismatches"] == 1
    assert [(f["path"], f["count"]) for f in ep["body"]["fields"]] == [("$.v", 1)]


def test_numeric_tolerance_and_list_order_settings(tmp_path: Path) -> None:
    pairs = [
        pair("a", {"n": 100.0, "m": 1.0, "l": [1, 2, 3]}, {"n": 100.4, "m": 1.02, "l": [3, 1, 2]}),
    ]
    rep = run_pairs(tmp_path / "default", pairs)
    assert set(fields(endpoint(rep, "GET /x"))) == {"$.n", "$.m", "$.l[*]"}
    rep = run_pairs(
        tmp_path / "loose",
        pairs,
        config="numeric_tolerance: {absolute: 0.5, relative: 0.0}\nignore_list_order: true\n",
    )
    assert fields(endpoint(rep, "GET /x")) == {}
    rep = run_pairs(
        tmp_path / "rel",
        pairs,
        config="numeric_tolerance: {absolute: 0.0, relative: 0.03}\n",
    )
    assert set(fields(endpoint(rep, "GET /x"))) == {"$.l[*]"}


def test_a_value_that_differs_in_only_some_pairs_is_not_auto_noise(tmp_path: Path) -> None:
    pairs = []
    for i in range(6):
        p = {"at": f"2026-11-25T10:0{i}:00Z"}
        s = {"at": "2026-11-25T11:00:00Z"} if i == 0 else dict(p)
        pairs.append(pair(f"v{i}", p, s, path=f"/v/{i}"))
    ep = endpoint(run_pairs(tmp_path, pairs), "GET /v/{id}")
    f = fields(ep)["$.at"]
    assert (f["noise"], f["noise_reason"], f["count"]) == (False, None, 1)
    assert ep["body"]["mismatches"] == 1


def test_shadow_errors_and_primary_errors(tmp_path: Path) -> None:
    pairs = [
        (record("a", "primary", status=None), record("a", "shadow", status=200, body={"k": 1})),
        (record("b", "primary", body={"k": 1}), record("b", "shadow", status=None)),
    ]
    # A shadow-only record without a response is still a shadow record with response: null.
    rep = run_pairs(tmp_path, pairs, extra=[record("c", "shadow", status=None)])
    s = rep["summary"]
    assert (s["pairs"], s["shadow_only"], s["shadow_records"]) == (2, 1, 3)
    assert s["shadow_errors"] == 2
    assert s["status_mismatches"] == 0
    assert endpoint(rep, "GET /things")["body"]["compared"] == 0


def test_duplicates_across_files_are_dropped_once_each(tmp_path: Path) -> None:
    root = tmp_path / "records"
    prim = [record(f"d{i}", "primary", body={"k": i}) for i in range(3)]
    shad = [record(f"d{i}", "shadow", body={"k": i}) for i in range(3)]
    write_hive(root, prim, "primary", "first")
    write_hive(root, prim[:2], "primary", "redelivered")
    write_hive(root, shad, "shadow", "first")
    write_hive(root, shad, "shadow", "redelivered", hour="11")
    run = report(["--records", str(root)], tmp_path / "out")
    assert run.report is not None
    s = run.report["summary"]
    assert (s["primary_records"], s["shadow_records"], s["pairs"], s["duplicates"]) == (3, 3, 3, 5)


def test_more_kinds_of_invalid_lines_are_counted_and_skipped(tmp_path: Path) -> None:
    good_p, good_s = pair("g", {"k": 1}, {"k": 1})
    # unknown extra fields, nested too, are accepted
    good_p["request"]["http_version"] = "2"
    good_p["response"]["served_by"] = {"node": 3}
    good_s["future_field"] = [1, 2]
    bad: list[Any] = [
        {**good_s, "correlation_id": "b1", "captured_at": "yesterday"},
        {**good_s, "correlation_id": "b2", "latency_ms": "fast"},
        {k: v for k, v in {**good_s, "correlation_id": "b3"}.items() if k != "request"},
        {**good_s, "correlation_id": "b4", "response": {**good_s["response"], "status": "200"}},
        '{"schema": "shadowdiff.capture/1", "correlation_id": "b5", "role": "sha',
        "null",
        '"just a string"',
    ]
    root = tmp_path / "records"
    write_hive(root, [good_p], "primary")
    write_hive(root, [good_s, *bad], "shadow")
    run = report(["--records", str(root)], tmp_path / "out")
    assert run.code == 0, run.stderr
    assert run.report is not None
    s = run.report["summary"]
    assert (s["invalid_records"], s["shadow_records"], s["pairs"]) == (len(bad), 1, 1)


def test_twenty_pairs_are_enough_for_a_verdict(tmp_path: Path) -> None:
    pairs = []
    for i in range(20):
        p, s = pair(f"l{i}", {"k": 1}, {"k": 1}, path="/lat")
        p["latency_ms"], s["latency_ms"] = 10.0 + i, 100.0 + i
        pairs.append((p, s))
    lat = endpoint(run_pairs(tmp_path, pairs), "GET /lat")["latency_ms"]
    assert lat["verdict"] == "slower"


def test_root_path_and_long_digit_segments(tmp_path: Path) -> None:
    rep = run_pairs(
        tmp_path,
        [
            pair("r", {"k": 1}, {"k": 1}, path="/"),
            pair("d", {"k": 1}, {"k": 1}, path="/n/12345678901234567890"),
            pair("u", {"k": 1}, {"k": 1}, path="/u/550E8400-E29B-41D4-A716-446655440000"),
        ],
    )
    assert {ep["endpoint"] for ep in rep["endpoints"]} == {"GET /", "GET /n/{id}", "GET /u/{uuid}"}


def test_report_html_file_escapes_captured_values(tmp_path: Path) -> None:
    root = tmp_path / "records"
    write_hive(root, [record("h", "primary", body={"x": "<b>ok</b>"})], "primary")
    write_hive(root, [record("h", "shadow", body={"x": "<script>alert(1)</script>"})], "shadow")
    run = report(["--records", str(root)], tmp_path / "out")
    assert run.code == 0
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<script>alert(1)</script>" not in html


def test_bad_since_exits_2_naming_it(tmp_path: Path) -> None:
    root = tmp_path / "records"
    write_hive(root, [record("h", "primary")], "primary")
    run = report(["--records", str(root), "--since", "last tuesday"], tmp_path / "out")
    assert run.code == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and ("since" in lines[0] or "last tuesday" in lines[0])
