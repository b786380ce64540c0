"""The pure parts of replay: flags, which requests are replayed and how, pacing, time order."""

from __future__ import annotations

import random

import orjson
import pytest
from replay_helpers import later, primary

from shadowdiff.model.errors import ConfigError
from shadowdiff.replay.notes import Tally, replay_notes
from shadowdiff.replay.order import TimeOrder, micros
from shadowdiff.replay.prepare import Prepared, prepare, replay_headers
from shadowdiff.replay.schedule import Pacer, due_offset, schedule
from shadowdiff.replay.settings import (
    DEFAULT_METHODS,
    ReplaySettings,
    TargetSpec,
    parse_methods,
    parse_rate,
    parse_set_header,
    parse_target,
)

GET_ONLY = frozenset({"GET"})


# ------------------------------------------------------------------ flags


def test_rate_is_max_or_a_positive_factor():
    assert parse_rate("max") is None and parse_rate("MAX") is None
    assert parse_rate("2") == 2.0 and parse_rate("0.5") == 0.5
    for bad in ("0", "-1", "fast", "inf", "nan"):
        with pytest.raises(ConfigError, match="--rate"):
            parse_rate(bad)


def test_methods_are_upper_cased_and_checked():
    assert parse_methods("get, Post") == {"GET", "POST"}
    with pytest.raises(ConfigError, match="--methods"):
        parse_methods(" , ")
    with pytest.raises(ConfigError, match="--methods: 'GE T'"):
        parse_methods("GE T")


def test_set_header_needs_name_equals_value():
    assert parse_set_header("Authorization=Bearer abc=") == ("authorization", "Bearer abc=")
    assert parse_set_header("x-empty=") == ("x-empty", "")
    with pytest.raises(ConfigError, match="--set-header: 'token' is not NAME=VALUE"):
        parse_set_header("token")
    with pytest.raises(ConfigError, match="not a header name"):
        parse_set_header("bad name=1")
    with pytest.raises(ConfigError, match="content-length is set by the client"):
        parse_set_header("Content-Length=5")
    with pytest.raises(ConfigError, match="line break"):
        parse_set_header("x-a=1\r\nx-b: 2")


def test_target_must_be_an_http_url_and_may_carry_a_base_path():
    spec = parse_target("http://127.0.0.1:9000/pr-42/", "--target", "shadow")
    assert (spec.origin, spec.base_path, spec.role) == ("http://127.0.0.1:9000", "/pr-42", "shadow")
    for bad in ("127.0.0.1:9000", "ftp://host", "http://host:99999", "http://h/?q=1"):
        with pytest.raises(ConfigError, match="--secondary-target"):
            parse_target(bad, "--secondary-target", "secondary")


# ------------------------------------------------------------------ requests


def test_only_the_allowed_methods_are_replayed():
    post = primary("p", "/orders", later(0), method="POST", body=b"{}")
    assert prepare(post, DEFAULT_METHODS, ()) == "method POST"
    assert isinstance(prepare(post, frozenset({"GET", "POST"}), ()), Prepared)


def test_a_truncated_body_is_never_replayed():
    rec = primary("t", "/upload", later(0), method="PUT", body=b"x" * 10, truncated=True)
    assert prepare(rec, frozenset({"PUT"}), ()) == "truncated"


def test_the_request_is_sent_as_captured_with_the_body_whole():
    body = bytes(range(256)) * 3
    rec = primary(
        "b",
        "/a%20b/c?x=1&x=2&y",
        later(0),
        method="POST",
        headers={"content-type": "application/octet-stream", "accept": "*/*"},
        body=body,
    )
    req = prepare(rec, frozenset({"POST"}), ())
    assert isinstance(req, Prepared)
    assert (req.method, req.path, req.query, req.body) == ("POST", "/a%20b/c", "x=1&x=2&y", body)
    assert req.headers == (("content-type", "application/octet-stream"), ("accept", "*/*"))


def test_hop_by_hop_framing_control_and_redacted_headers_are_dropped():
    recorded = {
        "connection": "keep-alive, x-private",
        "keep-alive": "timeout=5",
        "x-private": "named by connection",
        "te": "trailers",
        "transfer-encoding": "chunked",
        "upgrade": "h2c",
        "content-length": "12",
        "host": "prod.example.com",
        "expect": "100-continue",
        "x-shadow-signature": "abc",
        "authorization": "[REDACTED]",
        "cookie": "[REDACTED]",
        "accept": "application/json",
        "x-forwarded-host": "shop.example.com",
    }
    assert replay_headers(recorded, ()) == [
        ("accept", "application/json"),
        ("x-forwarded-host", "shop.example.com"),
    ]


def test_set_header_supplies_and_replaces_values():
    recorded = {"authorization": "[REDACTED]", "x-tenant": "a", "accept": "*/*"}
    sets = (("authorization", "Bearer test"), ("x-tenant", "ci"))
    assert replay_headers(recorded, sets) == [
        ("accept", "*/*"),
        ("authorization", "Bearer test"),
        ("x-tenant", "ci"),
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"headers": {"x-evil": "1\r\nx-smuggled: 2"}},
        {"headers": {"x-text": "caf\u00e9 \u2603"}},
        {"headers": {"bad name": "1"}},
        {"path": "/a b"},
        {"path": "no-slash"},
        {"query": "a=1\nb"},
        {"body": "%%%not base64"},
    ],
)
def test_a_request_that_cannot_be_sent_again_as_http11_is_skipped(change):
    rec = primary("u", "/ok", later(0))
    rec["request"].update(change)
    assert prepare(rec, GET_ONLY, ()) == "unsendable"


# ------------------------------------------------------------------ pacing


def test_rate_one_keeps_the_spacing_and_two_halves_it():
    at = [micros(later(s)) for s in (0, 0.5, 0.5, 2.0, 10.0)]
    assert schedule(at, 1.0) == [0.0, 0.5, 0.5, 2.0, 10.0]
    assert schedule(at, 2.0) == [0.0, 0.25, 0.25, 1.0, 5.0]
    assert schedule(at, None) == [0.0] * 5
    assert due_offset(at[1], at[0], 1.0) == 0.0  # never due before the start


def test_pacer_waits_against_an_absolute_schedule_so_a_late_start_catches_up():
    pacer = Pacer(1.0)
    base = micros(later(0))
    assert pacer.wait(base, now=100.0) == 0.0
    assert pacer.wait(base + 2_000_000, now=100.5) == pytest.approx(1.5)
    assert pacer.wait(base + 3_000_000, now=104.0) == 0.0  # held up: due already, no extra wait
    assert pacer.wait(base + 5_000_000, now=104.0) == pytest.approx(1.0)
    assert Pacer(None).wait(base + 9_000_000, now=0.0) == 0.0


# ------------------------------------------------------------------ time order


def _line(cid: str, seconds: float, role: str = "primary") -> bytes:
    rec = primary(cid, "/x", later(seconds))
    rec["role"] = role
    return orjson.dumps(rec)


def test_records_come_out_in_captured_at_order_across_spilled_runs(tmp_path):
    rng = random.Random(7)
    seconds = [rng.randrange(0, 5000) / 10 for _ in range(2000)]
    order = TimeOrder(tmp_path, run_bytes=40_000)  # about 60 records a run
    invalid: list[bytes] = []
    order._feed_lines(
        [_line(f"c{i}", s) for i, s in enumerate(seconds)], None, None, invalid.append
    )
    assert len(order.runs) > 20  # spilled, not held
    got = [(at, orjson.loads(line)["correlation_id"]) for at, line in order]
    assert [at for at, _ in got] == sorted(micros(later(s)) for s in seconds)
    assert len({cid for _, cid in got}) == 2000
    assert not list(tmp_path.glob("*.sorted"))  # each run removed once merged


def test_equal_times_keep_read_order_and_other_roles_window_and_junk_are_set_apart(tmp_path):
    lines = [
        _line("b", 5),
        b"not json",
        _line("a", 5),
        _line("s", 1, role="shadow"),
        _line("early", -10),
        b'{"schema": "shadowdiff.capture/1"}',
        _line("late", 99),
        _line("c", 2),
    ]
    order = TimeOrder(tmp_path)
    invalid: list[bytes] = []
    order._feed_lines(lines, later(0), later(60), invalid.append)
    assert [orjson.loads(line)["correlation_id"] for _, line in order] == ["c", "b", "a"]
    assert invalid == [b"not json", b'{"schema": "shadowdiff.capture/1"}']
    assert order.count == 3


# ------------------------------------------------------------------ notes


def test_every_skip_reason_and_error_is_named_in_the_notes():
    settings = ReplaySettings(
        source="s3://b/p",
        source_flag="--records",
        targets=(TargetSpec("http://pr:80", "http://pr:80", "", "shadow", "--target"),),
        out="out",
        rate=2.0,
    )
    tally = Tally(primaries=10, replayed=5, duplicates=1)
    tally.skipped.update({"method POST": 2, "method DELETE": 1, "truncated": 1, "unsendable": 1})
    tally.error("shadow", "timeout")
    tally.error("shadow", "timeout")
    tally.error("shadow", "connect")
    notes = replay_notes(tally, settings)
    assert notes[0] == (
        "replayed 5 of 10 primary records in captured_at order to http://pr:80 (role shadow), "
        "rate 2x, concurrency 16"
    )
    assert "skipped 2 primary records with method POST (not in --methods GET,HEAD,OPTIONS)" in notes
    assert (
        "skipped 1 primary record with method DELETE (not in --methods GET,HEAD,OPTIONS)" in notes
    )
    assert "skipped 1 primary record whose request body was truncated at capture" in notes
    assert any(n.startswith("skipped 1 primary record whose request cannot be sent") for n in notes)
    assert "3 replays to http://pr:80 got no answer: 1 connect, 2 timeout" in notes
    assert notes[-1] == "replayed records not kept (--keep-records SINK keeps them)"
