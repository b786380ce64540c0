"""``explain`` through ``shadowdiff report`` (docs/contract.md §12): planted predictors are found.

Each test plants a divergence that depends on one request attribute and checks
that report.json names it with support 1.0, and that what is not attribute-
driven (a random divergence, noise) gets nothing.
"""

from __future__ import annotations

import json
import random
import uuid

import jsonschema
from analysis_helpers import endpoint, fields, later, pair, rec, report_for, run, write_records

from analysis.report import json_schema

HEADERS = {"accept": "application/json", "user-agent": "shop-app/4.2"}


def _request(path: str, query: str = "", headers=None, body=None, method: str = "GET") -> dict:
    return {
        "method": method,
        "path": path,
        "query": query,
        "headers": {**HEADERS, **(headers or {})},
        "body": None if body is None else json.dumps(body),
        "body_encoding": "utf8",
    }


def _only(entries: list[dict], attribute: str) -> dict:
    found = [e for e in entries if e["attribute"] == attribute]
    assert found, entries
    return found[0]


def test_a_query_value_that_drives_a_field_change_is_named(tmp_path):
    records = []
    for i in range(120):
        currency = ("EUR", "USD", "GBP")[i % 3]
        body = {"sku": i, "price": 10.0, "currency": currency}
        shadow = dict(body, price=10.0 if currency != "EUR" else 11.5)
        req = _request(f"/items/{i}", f"currency={currency}&page={i % 7}&q=term-{i}")
        records += pair(f"c{i:04d}", body, shadow, at=later(i), request=req)
    ep = endpoint(report_for(tmp_path, records), "GET /items/{id}")
    price = fields(ep)[("$.price", "changed")]
    top = price["explain"][0]
    assert top == {
        "attribute": "query.currency",
        "value": "EUR",
        "support": 1.0,
        "baseline": 0.0,
        "lift": 80.0,  # support / (1 / |R|), |R| = 80
        "pairs": 40,
    }
    assert [e["attribute"] for e in price["explain"]] == ["query.currency"]


def test_a_header_value_that_drives_a_field_change_is_named(tmp_path):
    records = []
    for i in range(90):
        language = ("de-DE", "en-US", "fr-FR")[i % 3]
        body = {"greeting": "hello", "n": i}
        shadow = dict(body, greeting="hallo" if language == "de-DE" else "hello")
        req = _request(f"/users/{i}", headers={"accept-language": language})
        records += pair(f"c{i:04d}", body, shadow, at=later(i), request=req)
    ep = endpoint(report_for(tmp_path, records), "GET /users/{id}")
    entry = _only(fields(ep)[("$.greeting", "changed")]["explain"], "header.accept-language")
    assert (entry["value"], entry["support"], entry["baseline"], entry["pairs"]) == (
        "de-DE",
        1.0,
        0.0,
        30,
    )


def test_a_json_body_key_that_drives_a_status_change_is_named(tmp_path):
    rng = random.Random(4)
    records = []
    for i in range(100):
        plan = "bulk" if i % 5 == 0 else rng.choice(["basic", "pro"])
        order = {"user_id": rng.randrange(10**6), "plan": plan, "lines": [{"sku": "a"}]}
        req = _request("/orders", body=order, method="POST")
        status = 500 if plan == "bulk" else 201
        records += [
            rec(f"c{i:04d}", "primary", status=201, body={"ok": 1}, method="POST",
                path="/orders", at=later(i), request=req),
            rec(f"c{i:04d}", "shadow", status=status, body={"ok": 1}, method="POST",
                path="/orders", at=later(i), request=req),
        ]  # fmt: skip
    ep = endpoint(report_for(tmp_path, records), "POST /orders")
    assert ep["status"]["matrix"] == {"201->201": 80, "201->500": 20}
    (entry,) = ep["status"]["explain"]["201->500"]
    assert entry == {
        "attribute": "body.plan",
        "value": '"bulk"',  # a JSON string, as its JSON text
        "support": 1.0,
        "baseline": 0.0,
        "lift": 80.0,
        "pairs": 20,
    }
    assert list(ep["status"]["explain"]) == ["201->500"]  # only mismatching cells


def test_a_path_segment_under_a_configured_route_is_named(tmp_path):
    records = []
    for i in range(100):
        sku = f"SKU-{i % 10}"
        body = {"sku": sku, "price": 5}
        shadow = dict(body, price=6 if sku == "SKU-7" else 5)
        records += pair(f"c{i:04d}", body, shadow, at=later(i), request=_request(f"/items/{sku}"))
    report = report_for(tmp_path, records, 'routes: ["/items/{sku}"]\n')
    ep = endpoint(report, "GET /items/{sku}")
    (entry,) = fields(ep)[("$.price", "changed")]["explain"]
    assert (entry["attribute"], entry["value"], entry["support"], entry["pairs"]) == (
        "path[1]",
        "SKU-7",
        1.0,
        10,
    )


def test_a_random_divergence_gets_no_entry(tmp_path):
    rng = random.Random(11)
    records = []
    for i in range(300):
        currency = rng.choice(["EUR", "USD", "GBP"])
        language = rng.choice(["de", "en", "fr", "es"])
        body = {"price": 10}
        shadow = {"price": 11} if rng.random() < 0.3 else body
        status = 500 if rng.random() < 0.1 else 200
        req = _request(f"/items/{rng.randrange(50)}", f"currency={currency}",
                       {"accept-language": language})  # fmt: skip
        records += pair(f"c{i:04d}", body, shadow, at=later(i), request=req, s_status=status)
    ep = endpoint(report_for(tmp_path, records), "GET /items/{id}")
    assert fields(ep)[("$.price", "changed")]["explain"] == []
    assert ep["status"]["explain"] == {"200->500": []}


def test_noise_fields_get_no_explain(tmp_path):
    records = []
    for i in range(60):
        currency = "EUR" if i % 2 else "USD"
        # $.rate differs exactly for EUR, but a rule says it is noise; $.request_id is volatile.
        p = {"rate": 1.0, "request_id": str(uuid.uuid4()), "price": 3}
        s = {"rate": 1.1 if currency == "EUR" else 1.0, "request_id": str(uuid.uuid4()),
             "price": 4 if currency == "EUR" else 3}  # fmt: skip
        req = _request(f"/items/{i}", f"currency={currency}")
        records += pair(f"c{i:04d}", p, s, at=later(i), request=req)
    config = 'ignore: [{endpoint: "*", paths: ["$.rate"]}]\n'
    ep = endpoint(report_for(tmp_path, records, config), "GET /items/{id}")
    f = fields(ep)
    assert f[("$.rate", "changed")]["noise_reason"] == "rule"
    assert f[("$.request_id", "changed")]["noise_reason"] == "auto"
    assert "explain" not in f[("$.rate", "changed")]
    assert "explain" not in f[("$.request_id", "changed")]
    assert f[("$.price", "changed")]["explain"][0]["value"] == "EUR"


def test_every_entry_respects_the_thresholds(tmp_path):
    """A night with predictors of every strength: whatever is listed passes every threshold."""
    rng = random.Random(5)
    records = []
    for i in range(600):
        tier = rng.choice(["a", "b", "c", "d"])
        region = rng.choice(["eu", "us"])
        flips = {"a": 0.97, "b": 0.6, "c": 0.1, "d": 0.02}[tier] * (1.2 if region == "eu" else 0.8)
        body = {"price": 1, "tax": 1}
        shadow = {"price": 2 if rng.random() < flips else 1,
                  "tax": 2 if tier == "a" and rng.random() < 0.5 else 1}  # fmt: skip
        req = _request(f"/p/{i % 40}", f"tier={tier}&region={region}&x={rng.randrange(3)}")
        records += pair(f"c{i:04d}", body, shadow, at=later(i), request=req)
    report = report_for(tmp_path, records)
    jsonschema.validate(report, json_schema())
    listed = 0
    for ep in report["endpoints"]:
        for f in ep["body"]["fields"]:
            entries = f.get("explain", [])
            assert len(entries) <= 3
            for e in entries:
                listed += 1
                assert e["support"] >= 0.8 and e["lift"] >= 2 and e["pairs"] >= 5
                assert e["lift"] == e["support"] / max(e["baseline"], 1 / (ep["body"]["compared"]
                                                                           - f["count"]))  # fmt: skip
            keys = [(-e["lift"], -e["support"]) for e in entries]
            assert keys == sorted(keys)
    assert listed > 0


def test_explain_sample_zero_turns_it_off(tmp_path):
    records = []
    for i in range(40):
        eur = i % 2 == 0
        req = _request(f"/items/{i}", "currency=EUR" if eur else "currency=USD")
        records += pair(f"c{i:04d}", {"p": 1}, {"p": 2 if eur else 1}, at=later(i), request=req)
    report = report_for(tmp_path, records, "explain: {sample: 0}\n")
    ep = endpoint(report, "GET /items/{id}")
    assert fields(ep)[("$.p", "changed")]["explain"] == []
    on = endpoint(report_for(tmp_path, records), "GET /items/{id}")
    assert fields(on)[("$.p", "changed")]["explain"][0]["value"] == "EUR"


def test_configured_headers_replace_the_default_ones(tmp_path):
    records = []
    for i in range(40):
        tenant = "acme" if i % 4 == 0 else f"t{i}"
        req = _request(f"/items/{i}", headers={"x-tenant": tenant})
        records += pair(f"c{i:04d}", {"p": 1}, {"p": 2 if tenant == "acme" else 1},
                        at=later(i), request=req)  # fmt: skip
    plain = endpoint(report_for(tmp_path, records), "GET /items/{id}")
    assert fields(plain)[("$.p", "changed")]["explain"] == []  # x-tenant is not read by default
    config = 'explain: {headers: ["X-Tenant"], sample: 500}\n'
    ep = endpoint(report_for(tmp_path, records, config), "GET /items/{id}")
    (entry,) = fields(ep)[("$.p", "changed")]["explain"]
    assert (entry["attribute"], entry["value"]) == ("header.x-tenant", "acme")


def test_a_bad_explain_config_fails_in_one_line_naming_the_key(tmp_path, capsys):
    root = write_records(tmp_path / "data", pair("c1", {"a": 1}, {"a": 1}))
    for config, key in (
        ("explain: {sample: -1}\n", "explain.sample"),
        ("explain: {sample: many}\n", "explain.sample"),
        ("explain: {headers: accept}\n", "explain.headers"),
        ("explain: {colour: red}\n", "explain.colour"),
    ):
        code, _ = run(root, tmp_path / "out", config=config)
        err = capsys.readouterr().err.strip()
        assert code == 2 and key in err and "\n" not in err, (config, err)


def test_the_pages_and_summaries_say_it_in_words(tmp_path, capsys):
    records = []
    for i in range(60):
        evil = i % 3 == 0
        query = "variant=%3Cscript%3Ealert(1)%3C%2Fscript%3E" if evil else f"variant=v{i % 2}"
        req = _request(f"/items/{i}", query)
        records += pair(f"c{i:04d}", {"p": 1}, {"p": 2 if evil else 1}, at=later(i), request=req)
    root = write_records(tmp_path / "data", records)
    code, report = run(root, tmp_path / "out")
    assert code == 0 and report is not None
    words = "100 % of these pairs (20), and 0 % of the others, have query"
    out = capsys.readouterr().out
    assert f"GET /items/{{id}} $.p changed: {words} `variant` = `<script>alert(1)</script>`" in out
    html = (tmp_path / "out" / "report.html").read_text()
    assert (
        f"{words} <code>variant</code> = <code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in html
    )
    assert "<script>" not in html
    md = (tmp_path / "out" / "report.md").read_text()
    assert f"- `GET /items/{{id}}` `$.p changed`: {words} `variant` = `<script>" in md
