"""Golden tests: hand-made records against each definition of docs/contract.md §4."""

from __future__ import annotations

import base64
import gzip

import orjson
from analysis_helpers import T0, endpoint, fields, later, pair, rec, report_for


def test_pairs_primary_only_shadow_only_and_duplicates_are_counted_as_defined(tmp_path):
    records = [
        *pair("a", {"x": 1}, {"x": 1}),
        *pair("b", {"x": 1}, {"x": 1}),
        rec("b", "shadow", body={"x": 2}),  # a repeat of (b, shadow): dropped, first one kept
        rec("b", "primary", body={"x": 1}),
        rec("p-only", "primary", body={}),
        rec("s-only", "shadow", body={}),
        rec("s-only2", "shadow", body={}),
        rec("sec", "secondary", body={}),
    ]
    s = report_for(tmp_path, records)["summary"]
    assert s["pairs"] == 2
    assert s["primary_only"] == 1 and s["shadow_only"] == 2
    assert s["duplicates"] == 2
    assert (s["primary_records"], s["shadow_records"], s["secondary_records"]) == (3, 4, 1)
    assert s["body_mismatches"] == 0  # the dropped duplicate's different body is never compared


def test_invalid_lines_are_counted_by_reason_and_skipped(tmp_path):
    good = pair("a", {"x": 1}, {"x": 1})
    bad_schema = dict(rec("z", "shadow"), schema="shadowdiff.capture/9")
    no_cid = rec("", "primary")
    records = [*good, bad_schema, no_cid, b"{not json", b'"a string"']
    report = report_for(tmp_path, records)
    assert report["summary"]["invalid_records"] == 4
    assert report["summary"]["pairs"] == 1
    assert sum(report["invalid_reasons"].values()) == 4
    assert any("unknown schema" in r for r in report["invalid_reasons"])


def test_status_mismatch_and_shadow_error_definitions(tmp_path):
    records = [
        *pair("a", {"x": 1}, {"x": 2}, status=200, s_status=500),
        *pair("b", {"x": 1}, {"x": 1}),
        rec("c", "primary", body={"x": 1}),
        rec("c", "shadow", status=None),  # shadow error: no response
        rec("d", "shadow", status=None),  # a shadow-only error still counts as a shadow error
    ]
    report = report_for(tmp_path, records)
    s = report["summary"]
    assert s["status_mismatches"] == 1
    assert s["shadow_errors"] == 2
    ep = endpoint(report, "GET /users/{id}")
    assert ep["status"]["mismatches"] == 1
    assert ep["status"]["matrix"]["200->500"] == 1
    assert ep["status"]["matrix"]["200->200"] == 1
    # bodies compared only for same status: a's different body is not a body mismatch
    assert ep["body"]["compared"] == 1
    assert ep["body"]["mismatches"] == 0
    reasons = {(e["correlation_id"], e["reason"]) for e in ep["examples"]}
    assert ("a", "status") in reasons and ("c", "error") in reasons


def test_field_kinds_paths_and_rates(tmp_path):
    p = {
        "id": 1,
        "price": 1,
        "name": "x",
        "gone": True,
        "odd key": 1,
        "items": [{"v": 1}, {"v": 2}],
        "n": 1,
    }
    s = {
        "id": 1.0,
        "price": "1",
        "name": "y",
        "new": None,
        "odd key": 2,
        "items": [{"v": 1}, {"v": 3}],
        "n": 1,
    }
    records = [*pair("a", p, s), *pair("b", p, p)]
    ep = endpoint(report_for(tmp_path, records), "GET /users/{id}")
    f = fields(ep)
    assert set(f) == {
        ("$.price", "type_changed"),
        ("$.name", "changed"),
        ("$.gone", "removed"),
        ("$.new", "added"),
        ("$['odd key']", "changed"),
        ("$.items[*].v", "changed"),
    }
    assert ("$.id", "changed") not in f  # 1 and 1.0 are the same number
    assert all(x["count"] == 1 and x["rate"] == 0.5 and x["noise"] is False for x in f.values())
    assert ep["body"]["compared"] == 2 and ep["body"]["mismatches"] == 1
    assert f[("$.name", "changed")]["noise_reason"] is None


def test_boolean_is_not_a_number_even_inside_equal_looking_objects(tmp_path):
    records = pair("a", {"flags": {"on": True}}, {"flags": {"on": 1}})
    f = fields(endpoint(report_for(tmp_path, records), "GET /users/{id}"))
    assert set(f) == {("$.flags.on", "type_changed")}


def test_non_json_bodies_compare_as_a_whole_at_root(tmp_path):
    records = [
        *pair("a", None, None, raw_body="<p>hello</p>", ctype="text/html", s_raw_body="<p>bye</p>"),
        *pair("b", None, None, raw_body="same", ctype="text/plain"),
        # JSON content type but unparsable: whole body too
        *pair("c", None, None, raw_body="{oops", s_raw_body="{oops!"),
    ]
    ep = endpoint(report_for(tmp_path, records), "GET /users/{id}")
    assert fields(ep) == {("$", "changed"): fields(ep)[("$", "changed")]}
    assert fields(ep)[("$", "changed")]["count"] == 2
    assert ep["body"]["mismatches"] == 2 and ep["body"]["compared"] == 3


def test_plus_json_content_types_are_compared_field_by_field(tmp_path):
    records = pair("a", {"a": 1}, {"a": 2}, ctype="application/problem+json; charset=utf-8")
    assert set(fields(endpoint(report_for(tmp_path, records), "GET /users/{id}"))) == {
        ("$.a", "changed")
    }


def test_truncated_bodies_compare_by_sha256(tmp_path):
    trunc_a = {"body_truncated": True, "body_sha256": "a" * 64, "body_size": 999}
    trunc_b = {"body_truncated": True, "body_sha256": "b" * 64, "body_size": 999}
    records = [
        rec("same", "primary", raw_body="{", response_extra=trunc_a),
        rec("same", "shadow", raw_body="{x", response_extra=trunc_a),
        rec("diff", "primary", raw_body="{", response_extra=trunc_a),
        rec("diff", "shadow", raw_body="{", response_extra=trunc_b),
    ]
    ep = endpoint(report_for(tmp_path, records), "GET /users/{id}")
    assert ep["body"]["mismatches"] == 1
    assert set(fields(ep)) == {("$", "changed")}


def test_gzip_content_encoding_is_decoded_before_comparing(tmp_path):
    body = orjson.dumps({"a": 1, "b": [1, 2]})
    zipped = base64.b64encode(gzip.compress(body)).decode()
    records = [
        rec("a", "primary", raw_body=body.decode()),
        rec(
            "a",
            "shadow",
            raw_body=zipped,
            headers={"content-encoding": "gzip"},
            response_extra={"body_encoding": "base64"},
        ),
    ]
    ep = endpoint(report_for(tmp_path, records, "compare_headers: []\n"), "GET /users/{id}")
    assert ep["body"]["compared"] == 1 and ep["body"]["mismatches"] == 0


def test_header_differences_are_reported_but_are_not_body_mismatches(tmp_path):
    records = pair("a", {"a": 1}, {"a": 1}, s_ctype="application/json; charset=utf-8")
    ep = endpoint(report_for(tmp_path, records), "GET /users/{id}")
    assert set(fields(ep)) == {("headers.content-type", "changed")}
    assert ep["body"]["mismatches"] == 0


def test_endpoint_templating_and_configured_routes(tmp_path):
    uuid = "123e4567-e89b-12d3-a456-426614174000"
    records = [
        *pair("a", {}, {}, path="/users/42/orders/7"),
        *pair("b", {}, {}, path=f"/sessions/{uuid}", method="post"),
        *pair("c", {}, {}, path="/blobs/0123456789abcdef0123"),
        *pair("d", {}, {}, path="/items/ABC-1"),
        *pair("e", {}, {}, path="/items/ABC-1/reviews"),
        *pair("f", {}, {}, path="/health"),
    ]
    report = report_for(tmp_path, records, 'routes: ["/items/{sku}"]\n')
    names = {e["endpoint"] for e in report["endpoints"]}
    assert names == {
        "GET /users/{id}/orders/{id}",
        "POST /sessions/{uuid}",
        "GET /blobs/{hex}",
        "GET /items/{sku}",
        "GET /items/ABC-1/reviews",
        "GET /health",
    }


def test_window_keeps_captured_at_in_since_until_half_open(tmp_path):
    records = [
        *pair("before", {}, {}, at=later(-1)),
        *pair("start", {}, {}, at=later(0)),
        *pair("mid", {}, {}, at=later(30)),
        *pair("end", {}, {}, at=later(60)),
    ]
    report = report_for(
        tmp_path,
        records,
        None,
        "--since",
        "2026-11-25T10:00:00Z",
        "--until",
        "2026-11-25T10:01:00+00:00",
    )
    assert report["summary"]["pairs"] == 2
    assert report["summary"]["primary_records"] == 2
    assert report["window"] == {
        "start": "2026-11-25T10:00:00.000Z",
        "end": "2026-11-25T10:01:00.000Z",
    }


def test_without_a_window_the_report_spans_the_data(tmp_path):
    records = [*pair("a", {}, {}, at=later(5)), *pair("b", {}, {}, at=later(65))]
    report = report_for(tmp_path, records)
    assert report["window"]["start"] == "2026-11-25T10:00:05.000Z"
    assert report["window"]["end"] == "2026-11-25T10:01:05.000Z"


def test_latency_verdicts(tmp_path):
    slow = [
        r
        for i in range(40)
        for r in pair(f"s{i}", {}, {}, path="/slow", latency=10 + i % 5, s_latency=20 + i % 5)
    ]
    same = [
        r
        for i in range(40)
        for r in pair(f"m{i}", {}, {}, path="/same", latency=10 + i % 7, s_latency=10 + (i + 3) % 7)
    ]
    fast = [
        r
        for i in range(40)
        for r in pair(f"f{i}", {}, {}, path="/fast", latency=20 + i % 5, s_latency=10 + i % 5)
    ]
    small = [
        r for i in range(19) for r in pair(f"x{i}", {}, {}, path="/few", latency=10, s_latency=90)
    ]
    # significant but not material: 2 % slower
    tiny = [
        r
        for i in range(200)
        for r in pair(f"t{i}", {}, {}, path="/tiny", latency=100 + i % 3, s_latency=102 + i % 3)
    ]
    report = report_for(tmp_path, slow + same + fast + small + tiny)
    v = {e["endpoint"]: e["latency_ms"] for e in report["endpoints"]}
    assert v["GET /slow"]["verdict"] == "slower" and v["GET /slow"]["p_value"] < 0.01
    assert v["GET /same"]["verdict"] == "same"
    assert v["GET /fast"]["verdict"] == "faster"
    assert v["GET /few"]["verdict"] == "insufficient_data"
    assert v["GET /tiny"]["verdict"] == "same" and v["GET /tiny"]["p_value"] < 0.01
    assert v["GET /slow"]["primary"]["p50"] == 12.0 and v["GET /slow"]["shadow"]["p50"] == 22.0
    slow_ep = endpoint(report, "GET /slow")
    assert any(e["reason"] == "latency" for e in slow_ep["examples"])


def test_latency_alpha_and_min_effect_come_from_config(tmp_path):
    recs = [
        r
        for i in range(200)
        for r in pair(f"t{i}", {}, {}, path="/tiny", latency=100 + i % 3, s_latency=102 + i % 3)
    ]
    report = report_for(tmp_path, recs, "latency: {alpha: 0.01, min_effect: 0.01}\n")
    assert endpoint(report, "GET /tiny")["latency_ms"]["verdict"] == "slower"


def test_numeric_tolerance_and_list_order_options(tmp_path):
    records = [
        *pair("a", {"p": 10.0, "l": [1, 2, 3]}, {"p": 10.004, "l": [3, 2, 1]}),
    ]
    plain = endpoint(report_for(tmp_path, records), "GET /users/{id}")
    assert {k for k in fields(plain)} == {("$.p", "changed"), ("$.l[*]", "changed")}
    loose = endpoint(
        report_for(
            tmp_path, records, "numeric_tolerance: {absolute: 0.01}\nignore_list_order: true\n"
        ),
        "GET /users/{id}",
    )
    assert fields(loose) == {} and loose["body"]["mismatches"] == 0
    rel = endpoint(
        report_for(tmp_path, records, "numeric_tolerance: {relative: 0.001}\n"), "GET /users/{id}"
    )
    assert set(fields(rel)) == {("$.l[*]", "changed")}


def test_ignore_rules_make_rule_noise_that_never_counts(tmp_path):
    p = {
        "meta": {"trace_id": "t1", "v": 1},
        "results": [{"rank_debug": 1, "id": 1}],
        "generated_at": "x",
    }
    s = {
        "meta": {"trace_id": "t2", "v": 1},
        "results": [{"rank_debug": 2, "id": 1}],
        "generated_at": "y",
    }
    records = [*pair("a", p, s, path="/search"), *pair("b", p, s, path="/other")]
    config = (
        'ignore:\n  - endpoint: "*"\n    paths: ["$.generated_at", "$.meta.trace_id"]\n'
        '  - endpoint: "GET /search"\n    paths: ["$.results[0].rank_debug"]\n'
    )
    report = report_for(tmp_path, records, config)
    search, other = endpoint(report, "GET /search"), endpoint(report, "GET /other")
    assert all(f["noise"] and f["noise_reason"] == "rule" for f in search["body"]["fields"])
    assert search["body"]["mismatches"] == 0
    assert fields(other)[("$.results[*].rank_debug", "changed")]["noise"] is False
    assert other["body"]["mismatches"] == 1
    assert report["summary"]["body_mismatches"] == 1


def test_report_without_any_data_still_says_so(tmp_path):
    report = report_for(tmp_path, [])
    assert report["summary"]["pairs"] == 0 and report["endpoints"] == []
    assert report["notes"] and "no records" in report["notes"][0]
    assert T0.year == 2026
