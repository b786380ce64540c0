"""What a dead, refusing or distant collector costs the viewer path: the breaker, regions, parking.

Real targets on 127.0.0.1 (and a delay relay for distance). The assertions are
on what reached the targets and what was logged, never on how long a request
took: that is benchmarks/edge_overhead.py's job.
"""

from __future__ import annotations

import json
import time

from delay_relay import relay
from edge_support import config_for, eventually, load_event
from edge_targets import Target

from edge.handler import make_handler
from edge.pool import Pool

OPENED = "breaker open: skipping target"
CLOSED = "breaker closed: target acknowledged again"


def invoke(handler, request_id=None):
    event = load_event("get-no-body.json")
    if request_id is not None:
        event["Records"][0]["cf"]["config"]["requestId"] = request_id
    return handler(event, None)


def messages(capsys):
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    return [line["message"] for line in lines]


def with_breaker(url, failures, cooldown_ms, **extra):
    config = config_for(url, breaker={"failures": failures, "cooldown_ms": cooldown_ms}, **extra)
    return make_handler(config, pool=Pool())


def test_breaker_opens_after_consecutive_failures_and_then_skips_the_target(hanging, capsys):
    handler = with_breaker(hanging.url, failures=2, cooldown_ms=60_000)
    invoke(handler)
    invoke(handler)
    assert eventually(lambda: len(hanging.requests) == 2)
    for _ in range(5):
        invoke(handler)
    time.sleep(0.2)
    assert len(hanging.requests) == 2  # skipped: not even a connection
    assert hanging.connections == 2
    logged = messages(capsys)
    assert logged.count(OPENED) == 1
    assert logged.count("mirror not acknowledged") == 2  # the skipped ones are not logged


def test_open_breaker_probes_once_per_cool_down(hanging, capsys):
    handler = with_breaker(hanging.url, failures=1, cooldown_ms=1000)
    invoke(handler)  # fails: the breaker opens
    invoke(handler)
    assert eventually(lambda: len(hanging.requests) == 1)
    time.sleep(1.1)
    invoke(handler)  # the probe, which fails too: another cool-down
    invoke(handler)
    invoke(handler)
    assert eventually(lambda: len(hanging.requests) == 2)
    time.sleep(0.2)
    assert len(hanging.requests) == 2
    assert messages(capsys).count(OPENED) == 1  # a failed probe re-opens it quietly


def test_an_acknowledged_probe_closes_the_breaker(capsys):
    target = Target("fast", status=503)  # it answers, but only a 2xx acknowledges a mirror
    try:
        handler = with_breaker(target.url, failures=2, cooldown_ms=300)
        invoke(handler)
        invoke(handler)
        invoke(handler)  # skipped
        assert len(target.requests) == 2
        target.status = 202
        time.sleep(0.4)
        for _ in range(3):
            invoke(handler)  # the probe closes it; the next two go straight through
        assert len(target.requests) == 5
        logged = messages(capsys)
        assert logged.count(OPENED) == 1 and logged.count(CLOSED) == 1
    finally:
        target.close()


def test_refusing_target_opens_the_breaker_too(refusing, capsys):
    handler = with_breaker(refusing.url, failures=3, cooldown_ms=60_000)
    for _ in range(10):
        invoke(handler)
    logged = messages(capsys)
    assert logged.count("mirror not acknowledged") == 3
    assert logged.count(OPENED) == 1


def test_breaker_null_tries_the_target_on_every_request(hanging):
    handler = make_handler(config_for(hanging.url, breaker=None), pool=Pool())
    for _ in range(4):
        invoke(handler)
    assert eventually(lambda: len(hanging.requests) == 4)


def test_each_target_has_its_own_breaker(hanging, fast):
    both = make_handler(
        {
            "targets": [{"url": hanging.url}, {"url": fast.url, "role": "secondary"}],
            "budget_ms": 100,
            "breaker": {"failures": 1, "cooldown_ms": 60_000},
        },
        pool=Pool(),
    )
    for _ in range(4):
        invoke(both)
    assert len(fast.requests) == 4  # the healthy target is never skipped
    assert eventually(lambda: len(hanging.requests) == 1)


def test_target_limited_to_other_regions_gets_no_mirror(fast, monkeypatch):
    config = {"targets": [{"url": fast.url, "regions": ["us-east-1"]}], "budget_ms": 100}
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    invoke(make_handler(config, pool=Pool()))
    assert fast.requests == []
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    invoke(make_handler(config, pool=Pool()))
    assert len(fast.requests) == 1
    invoke(make_handler(config, pool=Pool(), region="us-east-1"))
    monkeypatch.delenv("AWS_REGION")
    invoke(make_handler(config, pool=Pool()))  # running in no region at all
    assert len(fast.requests) == 2


def test_regions_leave_unlimited_targets_alone(fast, capsys):
    other = Target("fast")
    try:
        config = {
            "targets": [
                {"url": fast.url},
                {"url": other.url, "role": "secondary", "regions": ["eu-west-1"]},
            ],
            "budget_ms": 100,
        }
        invoke(make_handler(config, pool=Pool(), region="sa-east-1"))
        assert len(fast.requests) == 1 and other.requests == []
        assert "targets limited to other regions get no mirrors here" in messages(capsys)
    finally:
        other.close()


def test_collector_farther_than_half_the_budget_is_reached_on_the_parked_connection(fast, capsys):
    """A cold mirror needs two round trips: 120 ms here, over the 100 ms budget.

    The connection it leaves is parked, not closed, so the next requests find it
    warm (one round trip, 60 ms) instead of starting cold and timing out forever.
    """
    with relay(fast.url, rtt_ms=60) as url:
        handler = make_handler(config_for(url, breaker=None), pool=Pool())
        for i in range(6):
            invoke(handler, f"far-{i}")
            time.sleep(0.1)  # the first mirror's late answer arrives meanwhile
        assert eventually(lambda: len(fast.requests) == 6)
    assert [r.header("x-shadow-correlation-id") for r in fast.requests] == [
        f"far-{i}" for i in range(6)
    ]
    assert fast.connections == 1  # one connection, parked once and reused since
    logged = messages(capsys)
    assert 1 <= logged.count("mirror not acknowledged") < 6  # the cold one, not the warm ones
