"""The handler against real targets on 127.0.0.1: what reaches them, and what a bad one costs.

Timing bounds here are functional and deliberately loose (the machine is shared):
"returns well before the 1 s a slow target takes", not a speed target. Speed is
measured by benchmarks/edge_overhead.py.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
from edge_support import config_for, event_names, eventually, load_event, request_of
from edge_targets import Target, self_signed

from edge import handler as edge_handler
from edge import pool as pool_module
from edge.handler import make_handler
from edge.pool import Pool

BUDGET_MS = 100
SLACK_S = 0.5  # far below the 1 s of a slow target, far above scheduling noise


def invoke(handler, name="get-no-body.json"):
    event = load_event(name)
    started = time.monotonic()
    returned = handler(event, None)
    return returned, time.monotonic() - started, event


def log_lines(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


@pytest.mark.parametrize("name", event_names())
def test_every_documented_event_is_mirrored_as_received(fast, name):
    handler = make_handler(config_for(fast.url), pool=Pool())
    returned, _, event = invoke(handler, name)
    original = load_event(name)
    cf = original["Records"][0]["cf"]
    got = fast.requests[-1]
    query = cf["request"]["querystring"]
    assert got.method == cf["request"]["method"]
    assert got.target == cf["request"]["uri"] + ("?" + query if query else "")
    assert got.header("x-shadow-correlation-id") == cf["config"]["requestId"]
    assert got.header("x-forwarded-host") == "d111111abcdef8.cloudfront.net"
    assert got.header("x-shadow-role") == "shadow"
    # the returned request is the event's own, tagged and otherwise untouched
    assert returned is request_of(event)
    tag = returned["headers"].pop("x-shadow-correlation-id")
    assert tag == [{"key": "x-shadow-correlation-id", "value": cf["config"]["requestId"]}]
    original["Records"][0]["cf"]["request"]["headers"].pop("x-shadow-correlation-id", None)
    assert returned == original["Records"][0]["cf"]["request"]


def test_viewer_sent_correlation_header_is_overwritten(fast):
    handler = make_handler(config_for(fast.url), pool=Pool())
    returned, _, _ = invoke(handler, "get-viewer-sent-shadow-headers.json")
    value = returned["headers"]["x-shadow-correlation-id"]
    assert value == [
        {
            "key": "x-shadow-correlation-id",
            "value": "sP0oFeD9v1EwErHeAdErS0123456789abcdefghijklmnopqrstuvwx==",
        }
    ]
    assert fast.requests[-1].header("x-shadow-correlation-id") == value[0]["value"]


def test_warm_invocations_reuse_one_connection(fast, capsys):
    handler = make_handler(config_for(fast.url), pool=Pool())
    for _ in range(20):
        invoke(handler)
    assert len(fast.requests) == 20
    assert fast.connections == 1
    assert log_lines(capsys) == []


def test_connection_the_target_closed_while_idle_is_not_reused(capsys):
    target = Target("fast", close_after=1)  # like a keep-alive timeout after each answer
    try:
        handler = make_handler(config_for(target.url), pool=Pool())
        for _ in range(3):
            invoke(handler)
            time.sleep(0.05)  # let the FIN arrive, as it would between requests
        assert len(target.requests) == 3 and target.connections == 3
        assert log_lines(capsys) == []
    finally:
        target.close()


def test_pooled_connection_dropped_mid_request_is_retried_once_on_a_fresh_one(capsys):
    target = Target("fast", drop_after=1)  # answers once, then closes on the next request
    try:
        handler = make_handler(config_for(target.url), pool=Pool())
        invoke(handler)
        invoke(handler)
        assert target.connections == 2
        assert len(target.requests) == 3  # at least once: the dropped copy arrived too
        assert log_lines(capsys) == []
    finally:
        target.close()


def test_mirrors_to_all_targets_are_sent_concurrently(fast, hanging):
    second = Target("fast")
    try:
        handler = make_handler(config_for(hanging.url, fast.url, second.url), pool=Pool())
        _, elapsed, _ = invoke(handler)
        assert elapsed < BUDGET_MS / 1000 + SLACK_S
        assert len(fast.requests) == 1 and len(second.requests) == 1
        assert eventually(lambda: len(hanging.requests) == 1)  # it got them, never answered
    finally:
        second.close()


@pytest.mark.parametrize("kind", ["slow", "hanging"])
def test_slow_or_hung_target_costs_at_most_the_budget(request, kind, capsys):
    target = request.getfixturevalue(kind)
    handler = make_handler(config_for(target.url, breaker=None), pool=Pool())  # no skipping
    for _ in range(3):
        returned, elapsed, event = invoke(handler)
        assert returned is request_of(event)
        assert elapsed < BUDGET_MS / 1000 + SLACK_S
        assert elapsed >= BUDGET_MS / 1000 * 0.9  # it did wait for the ack, up to the budget
    lines = log_lines(capsys)
    assert len(lines) == 3
    assert lines[0]["targets"][0]["error"] == "timeout"
    # unanswered: parked, never waited on, so each request's mirror goes out on its own
    assert eventually(lambda: target.connections == 3 and len(target.requests) == 3)


@pytest.mark.parametrize(("kind", "error"), [("refusing", "connect"), ("resetting", "reset")])
def test_refusing_or_resetting_target_costs_little_and_is_logged(request, kind, error, capsys):
    target = request.getfixturevalue(kind)
    handler = make_handler(config_for(target.url), pool=Pool())
    returned, elapsed, event = invoke(handler)
    assert returned is request_of(event)
    assert elapsed < BUDGET_MS / 1000 + SLACK_S
    (line,) = log_lines(capsys)
    assert line["level"] == "warning"
    assert line["correlation_id"] == "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="
    assert line["targets"][0]["error"] == error


def test_collector_refusing_the_signature_is_logged(capsys):
    target = Target("fast", status=401)
    try:
        handler = make_handler(config_for(target.url, signing_secret="wrong"), pool=Pool())
        invoke(handler)
        (line,) = log_lines(capsys)
        assert line["targets"][0]["error"] == "rejected"
        assert line["targets"][0]["detail"] == "HTTP 401"
    finally:
        target.close()


def test_https_target_is_reached_over_tls(tmp_path):
    server_ctx, client_ctx = self_signed(tmp_path)
    target = Target("fast", tls=server_ctx)
    try:
        handler = make_handler(config_for(target.url), pool=Pool(), ssl_context=client_ctx)
        for _ in range(3):
            invoke(handler, "post-base64-body.json")
        assert len(target.requests) == 3 and target.connections == 1
        assert target.requests[0].body == b'{"sku":"A-1","quantity":2}\n'
    finally:
        target.close()


def test_untrusted_certificate_fails_fast_as_tls(tmp_path, capsys):
    server_ctx, _ = self_signed(tmp_path)
    target = Target("fast", tls=server_ctx)
    try:
        handler = make_handler(config_for(target.url), pool=Pool())  # system CAs only
        _, elapsed, _ = invoke(handler)
        assert elapsed < BUDGET_MS / 1000 + SLACK_S
        assert log_lines(capsys)[0]["targets"][0]["error"] == "tls"
        assert target.requests == []
    finally:
        target.close()


def test_tls_handshake_against_a_hung_server_costs_at_most_the_budget(hanging, capsys):
    url = hanging.url.replace("http://", "https://")
    handler = make_handler(config_for(url), pool=Pool())
    _, elapsed, _ = invoke(handler)
    assert elapsed < BUDGET_MS / 1000 + SLACK_S
    assert log_lines(capsys)[0]["targets"][0]["error"] == "timeout"


def test_unsampled_or_filtered_requests_are_tagged_but_not_mirrored(fast):
    cfg = config_for(fast.url, exclude_paths=["^/$"])
    returned, _, _ = invoke(make_handler(cfg, pool=Pool()))
    assert "x-shadow-correlation-id" in returned["headers"]
    cfg = {"targets": [{"url": fast.url, "role": "shadow", "sample_rate": 0.0}]}
    invoke(make_handler(cfg, pool=Pool()))
    assert fast.requests == []


def test_slow_dns_costs_at_most_the_budget_and_its_answer_serves_the_next_request(
    fast, monkeypatch, capsys
):
    real = socket.getaddrinfo
    calls = []

    def slow_getaddrinfo(*args, **kwargs):
        calls.append(args[0])
        time.sleep(0.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(pool_module.socket, "getaddrinfo", slow_getaddrinfo)
    monkeypatch.setattr(pool_module, "DNS_TTL_SECONDS", 60.0)
    resolver = pool_module.Resolver()
    monkeypatch.setattr(edge_handler, "RESOLVER", resolver)
    handler = make_handler(config_for(f"http://localhost:{fast.port}"), pool=Pool())
    _, elapsed, _ = invoke(handler)
    assert elapsed < BUDGET_MS / 1000 + 0.3  # well under the 0.5 s lookup
    assert log_lines(capsys)[0]["targets"][0]["error"] == "timeout"
    assert eventually(lambda: resolver.wait(resolver.start("localhost", fast.port), 0) is not None)
    invoke(handler)
    invoke(handler)
    assert log_lines(capsys) == []
    assert len(fast.requests) == 2 and calls == ["localhost"]
