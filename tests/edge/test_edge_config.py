"""The edge config validator: defaults filled in, every bad value rejected by its key."""

from __future__ import annotations

from typing import Any

import pytest

from edge.config import (
    DEFAULT_CORRELATION_HEADER,
    BreakerSettings,
    EdgeConfigError,
    parse_config,
)

GOOD = {"targets": [{"url": "https://shadow.example.com", "role": "shadow", "sample_rate": 1.0}]}


def with_(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def test_minimal_config_gets_the_contract_defaults():
    config = parse_config(GOOD)
    assert config.correlation_header == DEFAULT_CORRELATION_HEADER
    assert config.budget_ms == 50
    assert config.methods == {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    assert config.signing_secret is None
    target = config.targets[0]
    assert (target.scheme, target.host, target.port) == ("https", "shadow.example.com", 443)


def test_breaker_is_on_by_default_with_the_contract_values_and_null_turns_it_off():
    assert parse_config(GOOD).breaker == BreakerSettings(failures=3, cooldown_ms=5000)
    assert parse_config(with_(breaker={"failures": 5})).breaker == BreakerSettings(5, 5000)
    assert parse_config(with_(breaker=None)).breaker is None


def test_regions_limit_a_target_and_absent_means_every_region():
    config = parse_config(
        with_(
            targets=[
                {"url": "http://near", "regions": ["us-east-1", "us-gov-west-1"]},
                {"url": "http://anywhere"},
            ]
        )
    )
    near, anywhere = config.targets
    assert near.serves("us-gov-west-1") and not near.serves("eu-west-1")
    assert not near.serves(None)  # not running in any region: no mirror to a limited target
    assert anywhere.regions is None and anywhere.serves("ap-southeast-2")


def test_the_contract_example_config_is_valid():
    example = {
        "targets": [
            {"url": "https://shadow-collector.example.com", "role": "shadow", "sample_rate": 1.0}
        ],
        "correlation_header": "x-shadow-correlation-id",
        "budget_ms": 50,
        "methods": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        "include_paths": [],
        "exclude_paths": [],
        "mirror_headers": {"set": {}, "remove": []},
        "mirror_query": {"set": {}},
        "signing_secret": None,
    }
    assert parse_config(example).targets[0].url == "https://shadow-collector.example.com"


@pytest.mark.parametrize(
    ("config", "key"),
    [
        (with_(bogus=1), "bogus"),
        ({"budget_ms": 50}, "targets"),
        (with_(targets=[]), "targets"),
        (with_(targets=[{"url": "ftp://x"}]), "targets[0].url"),
        (with_(targets=[{"url": "http://x/prefix"}]), "targets[0].url"),
        (with_(targets=[{"url": "http://x:99999"}]), "targets[0].url"),
        (with_(targets=[{"url": "http://x", "role": "primary"}]), "targets[0].role"),
        (with_(targets=[{"url": "http://x", "sample_rate": 1.5}]), "targets[0].sample_rate"),
        (with_(targets=[{"url": "http://x", "sample_rate": True}]), "targets[0].sample_rate"),
        (with_(targets=[{"url": "http://x", "weight": 1}]), "targets[0].weight"),
        (with_(budget_ms=0), "budget_ms"),
        (with_(budget_ms="50"), "budget_ms"),
        (with_(budget_ms=10_000), "budget_ms"),
        (with_(methods=["get"]), "methods"),
        (with_(include_paths=["("]), "include_paths[0]"),
        (with_(exclude_paths="^/health"), "exclude_paths"),
        (with_(mirror_headers={"add": {}}), "mirror_headers.add"),
        (with_(mirror_headers={"set": {"x-a": 1}}), "mirror_headers.set.x-a"),
        (with_(mirror_headers={"set": {"x-a": "1\r\nx-b: 2"}}), "mirror_headers.set.x-a"),
        (with_(mirror_headers={"set": {"x-shadow-role": "primary"}}), "mirror_headers.set"),
        (with_(mirror_headers={"remove": ["host"]}), "mirror_headers.remove"),
        (with_(mirror_query={"set": {"a": 1}}), "mirror_query.set.a"),
        (with_(mirror_query={"drop": []}), "mirror_query.drop"),
        (with_(signing_secret=""), "signing_secret"),
        (with_(correlation_header="bad header"), "correlation_header"),
        (with_(breaker=3), "breaker"),
        (with_(breaker={"failures": 3, "cooldown": 5}), "breaker.cooldown"),
        (with_(breaker={"failures": 0}), "breaker.failures"),
        (with_(breaker={"failures": True}), "breaker.failures"),
        (with_(breaker={"cooldown_ms": 0}), "breaker.cooldown_ms"),
        (with_(breaker={"cooldown_ms": "5s"}), "breaker.cooldown_ms"),
        (with_(targets=[{"url": "http://x", "regions": "us-east-1"}]), "targets[0].regions"),
        (with_(targets=[{"url": "http://x", "regions": []}]), "targets[0].regions"),
        (with_(targets=[{"url": "http://x", "regions": ["US-EAST-1"]}]), "targets[0].regions"),
        (with_(targets=[{"url": "http://x", "regions": ["mars"]}]), "targets[0].regions"),
    ],
)
def test_bad_values_are_rejected_with_the_key_named(config, key):
    with pytest.raises(EdgeConfigError) as info:
        parse_config(config)
    assert str(info.value).startswith(key), str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "name", ["Host", "via", "content-length", "x-amz-cf-id", "x-edge-location", "connection"]
)
def test_correlation_header_may_not_be_one_cloudfront_forbids_or_makes_read_only(name):
    with pytest.raises(EdgeConfigError, match=r"^correlation_header"):
        parse_config(with_(correlation_header=name))


def test_correlation_header_name_is_case_insensitive():
    assert (
        parse_config(with_(correlation_header="X-Request-Id")).correlation_header == "x-request-id"
    )
