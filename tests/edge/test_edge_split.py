"""The canary split (docs/contract.md §9): sticky arms by the SHA-256 rule, the canary origin, no raise."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import random
from pathlib import Path
from typing import Any

import pytest

from edge import split as edge_split
from edge.config import EdgeConfigError, parse_config
from edge.split import make_handler

ORIGIN_EVENTS = Path(__file__).resolve().parent.parent / "events" / "origin-request"
GREEN = {"domain": "green.example.com", "protocol": "https", "port": 8443, "path": "/v2"}


def load(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((ORIGIN_EVENTS / name).read_text()))


def request_of(event: dict[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = event["Records"][0]["cf"]["request"]
    return request


def split(weight: float, key: Any = "client_ip", **extra: Any) -> dict[str, Any]:
    return {"split": {"weight": weight, "canary_origin": GREEN, "key": key, **extra}}


def rule(key: str, weight: float) -> str:
    """The contract's rule, written out independently of the code under test."""
    fraction = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64
    return "canary" if fraction < weight else "baseline"


def arm_header(request: dict[str, Any]) -> str:
    return str(request["headers"]["x-shadowdiff-arm"][0]["value"])


def with_ip(ip: str, name: str = "get-custom-origin.json") -> dict[str, Any]:
    event = load(name)
    request_of(event)["clientIp"] = ip
    return event


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


@pytest.mark.parametrize("weight", [0.05, 0.2, 0.5, 0.9])
def test_arm_follows_the_sha256_rule_and_the_weight_share_over_thousands_of_keys(weight):
    handler = make_handler(split(weight))
    rng = random.Random(weight)
    keys = [f"10.{rng.randrange(256)}.{rng.randrange(256)}.{i % 256}" for i in range(4000)]
    arms = [arm_header(handler(with_ip(k), None)) for k in keys]
    assert arms == [rule(k, weight) for k in keys]
    again = [arm_header(handler(with_ip(k), None)) for k in keys]
    assert again == arms  # sticky: the same key always gets the same arm
    share = arms.count("canary") / len(arms)
    assert abs(share - weight) < 5 * math.sqrt(weight * (1 - weight) / len(arms))


def test_raising_the_weight_only_moves_users_from_baseline_to_canary():
    keys = [f"user-{i}" for i in range(3000)]
    low = {k for k in keys if edge_split.arm_of(k, 0.1) == "canary"}
    high = {k for k in keys if edge_split.arm_of(k, 0.3) == "canary"}
    assert low < high


def test_weight_zero_keeps_everyone_on_the_untouched_baseline_origin():
    handler = make_handler(split(0.0))
    for i in range(500):
        event = with_ip(f"192.0.2.{i % 256}")
        before = copy.deepcopy(request_of(event))
        out = handler(event, None)
        assert arm_header(out) == "baseline"
        assert out["origin"] == before["origin"]
        assert out["headers"]["host"] == before["headers"]["host"]


def test_weight_one_sends_everyone_to_the_canary_origin_with_its_host():
    handler = make_handler(split(1.0))
    for i in range(500):
        out = handler(with_ip(f"198.51.100.{i % 256}"), None)
        assert arm_header(out) == "canary"
        custom = out["origin"]["custom"]
        assert (custom["domainName"], custom["port"], custom["protocol"], custom["path"]) == (
            "green.example.com",
            8443,
            "https",
            "/v2",
        )
        assert custom["readTimeout"] == 30 and custom["keepaliveTimeout"] == 5
        assert out["headers"]["host"] == [{"key": "Host", "value": "green.example.com"}]


def test_an_s3_baseline_origin_becomes_a_complete_custom_origin_on_the_canary():
    out = make_handler(split(1.0))(load("get-s3-origin.json"), None)
    assert set(out["origin"]) == {"custom"}
    assert set(out["origin"]["custom"]) == {
        "customHeaders",
        "domainName",
        "keepaliveTimeout",
        "path",
        "port",
        "protocol",
        "readTimeout",
        "sslProtocols",
    }


def test_cookie_key_uses_the_first_named_cookie_over_every_cookie_line():
    out = make_handler(split(0.5, {"cookie": "session_id"}))(load("get-session-cookie.json"), None)
    assert arm_header(out) == rule("u-7f3a9c", 0.5)


def test_header_key_uses_the_named_header_in_any_case():
    config = split(0.5, {"header": "X-User-Id"})
    out = make_handler(config)(load("get-session-cookie.json"), None)
    assert arm_header(out) == rule("42", 0.5)


def test_client_ip_key_hashes_the_viewer_address():
    out = make_handler(split(0.5))(load("post-ipv6-client.json"), None)
    assert arm_header(out) == rule("2001:0db8:85a3::8a2e:0370:7334", 0.5)


@pytest.mark.parametrize(
    ("key", "change"),
    [
        ({"cookie": "session_id"}, lambda r: r["headers"].pop("cookie")),
        ({"cookie": "session_id"}, lambda r: r["headers"].update(cookie=[{"value": "x=1"}])),
        (
            {"cookie": "session_id"},
            lambda r: r["headers"].update(cookie=[{"value": "session_id="}]),
        ),
        ({"header": "x-user-id"}, lambda r: r["headers"].pop("x-user-id")),
    ],
)
def test_missing_cookie_or_header_falls_back_to_the_client_ip(key, change):
    handler = make_handler(split(0.5, key))
    for i in range(200):
        event = load("get-session-cookie.json")
        request = request_of(event)
        change(request)
        request["clientIp"] = f"203.0.113.{i}"
        assert arm_header(handler(event, None)) == rule(f"203.0.113.{i}", 0.5)


def test_a_viewer_cannot_choose_its_arm_by_sending_the_arm_header():
    event = load("get-custom-origin.json")
    request_of(event)["headers"]["x-shadowdiff-arm"] = [
        {"key": "X-Shadowdiff-Arm", "value": "canary"}
    ]
    out = make_handler(split(0.0))(event, None)
    assert out["headers"]["x-shadowdiff-arm"] == [{"key": "x-shadowdiff-arm", "value": "baseline"}]


def test_a_custom_arm_header_name_is_used_on_both_arms():
    for weight in (0.0, 1.0):
        out = make_handler(split(weight, arm_header="X-Release-Arm"))(
            load("get-custom-origin.json"), None
        )
        assert out["headers"]["x-release-arm"][0]["value"] == ("canary" if weight else "baseline")


def test_origin_custom_headers_override_the_baked_weight_and_canary_domain():
    out = make_handler(split(0.0))(load("get-override-headers.json"), None)
    assert arm_header(out) == "canary"
    assert out["origin"]["custom"]["domainName"] == "green.example.org"
    assert out["headers"]["host"][0]["value"] == "green.example.org"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("malformed-viewer-request-event.json", "request.origin"),
        ("malformed-origin-empty.json", "request.origin"),
        ("malformed-headers-list.json", "request.headers"),
        ("malformed-no-client-ip.json", "request.clientIp"),
        ("malformed-bad-weight-header.json", "x-shadowdiff-canary-weight"),
        ("malformed-no-records.json", "Records[0].cf.request"),
        ("malformed-request-not-object.json", "Records[0].cf.request"),
    ],
)
def test_malformed_event_goes_to_the_baseline_untouched_with_one_log_line(name, why, capsys):
    event, untouched = load(name), load(name)
    try:
        expected = request_of(untouched)
    except (IndexError, KeyError, TypeError):
        expected = None
    expected = expected if isinstance(expected, dict) else None
    out = make_handler(split(1.0))(event, None)
    assert out == expected
    (line,) = lines(capsys)
    assert line["level"] == "error" and why in line["message"]


def test_handler_never_raises_on_arbitrary_garbage(capsys):
    handler = make_handler(split(0.5, {"cookie": "s"}))
    for garbage in (None, 1, "x", [], {"Records": None}, {"Records": [{"cf": {"request": {}}}]}):
        handler(garbage, None)
    event = load("get-session-cookie.json")
    request_of(event)["headers"]["cookie"] = [None, {"value": 7}, "s=1"]
    assert arm_header(handler(event, None)) == rule("203.0.113.178", 0.5)


@pytest.fixture
def baked(tmp_path, monkeypatch):
    path = tmp_path / "config.json"
    monkeypatch.setattr(edge_split, "CONFIG_PATH", path)
    monkeypatch.setattr(edge_split, "_default", None)
    return path


def test_entry_point_reads_the_split_of_config_json_beside_the_module(baked, capsys):
    baked.write_text(json.dumps(split(1.0)))
    out = edge_split.handler(load("get-custom-origin.json"), None)
    assert arm_header(out) == "canary"
    assert lines(capsys) == []


@pytest.mark.parametrize(
    "content",
    [None, "{not json", json.dumps({"targets": [{"url": "https://x.example.com"}]})],
    ids=["missing", "not-json", "no-split"],
)
def test_unusable_config_sends_every_request_to_the_baseline_and_logs_once(baked, capsys, content):
    if content is not None:
        baked.write_text(content)
    for _ in range(3):
        event = load("get-custom-origin.json")
        assert edge_split.handler(event, None) == request_of(load("get-custom-origin.json"))
    (line,) = lines(capsys)
    assert line["level"] == "error" and "split" in line["message"]


def test_make_handler_accepts_the_bare_split_object_too():
    out = make_handler(split(1.0)["split"])(load("get-custom-origin.json"), None)
    assert arm_header(out) == "canary"


@pytest.mark.parametrize(
    ("bad", "key"),
    [
        ({"weight": 0.1, "canary_origin": GREEN, "sticky": 1}, "split.sticky"),
        ({"weight": 1.5, "canary_origin": GREEN}, "split.weight"),
        ({"weight": -0.1, "canary_origin": GREEN}, "split.weight"),
        ({"weight": True, "canary_origin": GREEN}, "split.weight"),
        ({"canary_origin": GREEN}, "split.weight"),
        ({"weight": 0.1}, "split.canary_origin"),
        ({"weight": 0.1, "canary_origin": {"domain": ""}}, "split.canary_origin.domain"),
        ({"weight": 0.1, "canary_origin": {"domain": "https://x"}}, "split.canary_origin.domain"),
        ({"weight": 0.1, "canary_origin": {**GREEN, "tls": 1}}, "split.canary_origin.tls"),
        ({"weight": 0.1, "canary_origin": {**GREEN, "port": 0}}, "split.canary_origin.port"),
        (
            {"weight": 0.1, "canary_origin": {**GREEN, "protocol": "ftp"}},
            "split.canary_origin.protocol",
        ),
        ({"weight": 0.1, "canary_origin": GREEN, "key": {"cookie": ""}}, "split.key.cookie"),
        ({"weight": 0.1, "canary_origin": GREEN, "key": {"header": " "}}, "split.key.header"),
        ({"weight": 0.1, "canary_origin": GREEN, "key": {"query": "u"}}, "split.key.query"),
        ({"weight": 0.1, "canary_origin": GREEN, "key": "session"}, "split.key"),
        ({"weight": 0.1, "canary_origin": GREEN, "arm_header": ""}, "split.arm_header"),
        ({"weight": 0.1, "canary_origin": GREEN, "arm_header": "Host"}, "split.arm_header"),
        ("half", "split"),
    ],
)
def test_bad_split_is_rejected_naming_the_key(bad, key):
    with pytest.raises(EdgeConfigError, match=rf"^{key}:"):
        parse_config({"split": bad})


def test_a_split_only_config_is_valid_and_mirrors_nothing():
    assert parse_config(split(0.1)).targets == ()
    assert parse_config({**split(0.1), "targets": []}).targets == ()
    with pytest.raises(EdgeConfigError, match=r"^targets"):
        parse_config({"targets": []})
