"""The primary tap as mirror source (docs/contract.md §8): real tap, shadow and secondary collectors.

Every request through the tap is answered by the app, captured as primary, and
mirrored (signed, transformed) to each target after the response has gone. The
assertions are on ids, bodies, counts and metrics; no timings (those are in
benchmarks/edge_overhead.py).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest
from collector_helpers import read_local, start_collector, wait_for
from delay_relay import relay

SECRET = "tap-s3cret"


def write_config(path: Path, targets: list[dict], **extra) -> Path:
    path.write_text(json.dumps({"targets": targets, "signing_secret": SECRET, **extra}))
    return path


def records_by_cid(sink: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for record in read_local(Path(sink)):
        out.setdefault(record["correlation_id"], []).append(record)
    return out


@pytest.fixture(scope="module")
def sides(upstream, tmp_path_factory):
    """A shadow and a secondary collector (signed mirrors only) and a tap mirroring to both."""
    tmp = tmp_path_factory.mktemp("tapmirror")
    started = []

    def collector(role, *extra):
        c = start_collector(
            tmp, upstream, role, *extra,
            sink=str(tmp / f"{role}-records"), spool=tmp / f"{role}-spool",
        )  # fmt: skip
        started.append(c)
        return c

    shadow = collector("shadow", "--signing-secret", SECRET)
    secondary = collector("secondary", "--signing-secret", SECRET)
    config = write_config(
        tmp / "mirror.json",
        [{"url": shadow.url, "role": "shadow"}, {"url": secondary.url, "role": "secondary"}],
        mirror_headers={"set": {"x-env": "shadow"}, "remove": ["x-drop-me"]},
        mirror_query={"set": {"shadow": "1"}},
        breaker={"failures": 1},  # edge-only: accepted and ignored by the tap
    )
    tap = collector("primary", "--mirror-config", str(config))
    yield tap, shadow, secondary
    for c in started:
        c.stop()


def test_every_tapped_request_arrives_once_on_each_side_with_its_body(sides):
    tap, shadow, secondary = sides
    sent = {}
    with httpx.Client(base_url=tap.url, timeout=10) as client:
        for i in range(12):
            cid = f"every-{i}"
            body = orjson.dumps({"n": i, "text": "é" * i}) if i % 2 else b""
            method = "POST" if i % 2 else "GET"
            r = client.request(
                method, f"/echo/{i}?a={i}&b=x", content=body,
                headers={"x-shadow-correlation-id": cid, "content-type": "application/json"},
            )  # fmt: skip
            assert r.status_code == 200
            sent[cid] = (method, body)
    for c in (tap, shadow, secondary):
        got = wait_for(lambda c=c: set(sent) <= set(records_by_cid(c.sink)))
        assert got
        found = records_by_cid(c.sink)
        for cid, (method, body) in sent.items():
            (record,) = found[cid]  # once: a mirror is never sent twice
            assert record["request"]["method"] == method
            raw = (record["request"]["body"] or "").encode()
            assert raw == body
            assert record["response"]["status"] == 200
    # the signature was accepted everywhere: nothing rejected, everything acknowledged
    assert wait_for(lambda: tap.metric("shadowdiff_mirrors_total", outcome="acknowledged") >= 24)
    assert tap.metric("shadowdiff_mirrors_total", outcome="rejected") == 0
    assert (
        tap.metric("shadowdiff_mirrors_total", target_role="shadow", outcome="acknowledged") >= 12
    )
    assert shadow.metric("shadowdiff_collector_requests_rejected") == 0


def test_correlation_id_is_the_header_then_cloudfronts_id_then_a_new_one(sides):
    tap, shadow, _ = sides
    with httpx.Client(base_url=tap.url, timeout=10) as client:
        given = client.get("/echo/ids", headers={"x-shadow-correlation-id": "given-id-1"})
        cloudfront = client.get("/echo/ids", headers={"x-amz-cf-id": "cf-Zx81_abc=="})
        bare = client.get("/echo/ids?bare=1")
    seen = [
        dict(map(tuple, r.json()["headers"]))["x-shadow-correlation-id"]
        for r in (given, cloudfront, bare)
    ]
    assert seen[:2] == ["given-id-1", "cf-Zx81_abc=="]  # the app is told the id too
    generated = seen[2]
    assert len(generated) >= 22 and all(c.isalnum() or c in "-_" for c in generated)
    for c in (tap, shadow):
        assert wait_for(lambda c=c: set(seen) <= set(records_by_cid(c.sink)))


def test_transforms_reach_the_mirrors_only(sides):
    tap, shadow, _ = sides
    r = httpx.get(
        tap.url + "/echo/transform?q=1",
        headers={"x-shadow-correlation-id": "transform-1", "x-drop-me": "yes", "x-keep": "k"},
        timeout=10,
    )
    live = dict(map(tuple, r.json()["headers"]))
    assert live["x-drop-me"] == "yes" and "x-env" not in live  # the live request is untouched
    assert r.json()["query"] == "q=1"
    mirrored = wait_for(lambda: records_by_cid(shadow.sink).get("transform-1"))[0]["request"]
    assert mirrored["query"] == "q=1&shadow=1"
    assert mirrored["headers"]["x-env"] == "shadow"
    assert mirrored["headers"]["x-keep"] == "k"
    assert "x-drop-me" not in mirrored["headers"]
    primary = wait_for(lambda: records_by_cid(tap.sink).get("transform-1"))[0]["request"]
    assert primary["query"] == "q=1" and "x-env" not in primary["headers"]


def test_a_wrong_secret_is_counted_as_rejected(upstream, sides, tmp_path):
    _, shadow, _ = sides
    config = tmp_path / "wrong.json"
    config.write_text(json.dumps({"targets": [{"url": shadow.url}], "signing_secret": "nope"}))
    tap = start_collector(tmp_path, upstream, "primary", "--mirror-config", str(config))
    try:
        for i in range(3):
            httpx.get(tap.url + "/echo", headers={"x-shadow-correlation-id": f"wrong-{i}"})
        assert wait_for(lambda: tap.metric("shadowdiff_mirrors_total", outcome="rejected") == 3)
        assert tap.metric("shadowdiff_mirrors_total", outcome="acknowledged") == 0
    finally:
        tap.stop()


def test_hung_target_costs_the_live_path_nothing_and_the_queue_bound_drops(upstream, tmp_path):
    hung = socket.socket()  # accepts connections (the kernel does) and never answers
    hung.bind(("127.0.0.1", 0))
    hung.listen(64)
    config = write_config(
        tmp_path / "hung.json", [{"url": f"http://127.0.0.1:{hung.getsockname()[1]}"}]
    )
    tap = start_collector(
        tmp_path, upstream, "primary", "--mirror-config", str(config),
        "--mirror-timeout", "30", "--mirror-queue", "5", "--mirror-workers", "1",
    )  # fmt: skip
    try:
        with httpx.Client(base_url=tap.url, timeout=10) as client:
            for i in range(40):
                r = client.get(f"/echo/{i}", headers={"x-shadow-correlation-id": f"hung-{i}"})
                assert r.status_code == 200
        captured = wait_for(lambda: len(records_by_cid(tap.sink)) == 40)
        assert captured  # no primary capture lost
        # one in flight, five queued, the rest dropped and counted: never blocking
        dropped = tap.metric("shadowdiff_mirrors_total", outcome="dropped")
        assert dropped == 34
        assert tap.metric("shadowdiff_collector_mirror_queue_depth") == 5
    finally:
        tap.stop()
        hung.close()


def test_sigterm_delivers_queued_mirrors_within_the_grace_period(upstream, tmp_path):
    shadow = start_collector(
        tmp_path, upstream, "shadow", "--signing-secret", SECRET,
        sink=str(tmp_path / "shadow-records"), spool=tmp_path / "shadow-spool",
    )  # fmt: skip
    try:
        with relay(shadow.url, rtt_ms=100) as far:  # one worker: ~0.1 s per mirror
            config = write_config(tmp_path / "far.json", [{"url": far}])
            tap = start_collector(
                tmp_path, upstream, "primary", "--mirror-config", str(config),
                "--mirror-workers", "1", sink=str(tmp_path / "tap-records"),
            )  # fmt: skip
            with httpx.Client(base_url=tap.url, timeout=10) as client:
                for i in range(15):
                    client.get(f"/echo/{i}", headers={"x-shadow-correlation-id": f"drain-{i}"})
            assert tap.metric("shadowdiff_collector_mirror_queue_depth") > 0  # still queued
            tap.stop(signal.SIGTERM)
        expected = {f"drain-{i}" for i in range(15)}
        assert wait_for(lambda: expected <= set(records_by_cid(shadow.sink)))
        assert expected <= set(records_by_cid(tap.sink))
    finally:
        shadow.stop()


@pytest.mark.parametrize(
    ("config", "flags", "named"),
    [
        ({"targets": [{"url": "http://x", "regions": ["nowhere"]}]}, [], "targets[0].regions"),
        ({"targets": [{"url": "http://x"}], "breaker": {"failures": 0}}, [], "breaker.failures"),
        ({"targets": [{"url": "http://x"}], "breaker": "on"}, [], "breaker"),
        ({"targets": []}, [], "targets"),
        (None, [], "--mirror-config"),
        ({"targets": [{"url": "http://x"}]}, ["--mirror-queue", "0"], "--mirror-queue"),
        ({"targets": [{"url": "http://x"}]}, ["--mirror-timeout", "-1"], "--mirror-timeout"),
    ],
)
def test_bad_mirror_config_gets_one_line_naming_the_key(tmp_path, config, flags, named):
    path = tmp_path / "config.json"
    if config is not None:
        path.write_text(json.dumps(config))
    result = run_collector(tmp_path, "--role", "primary", "--mirror-config", str(path), *flags)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("shadowdiff collector: error: --")
    assert named in lines[0]


def test_mirror_flags_need_the_primary_role_and_a_mirror_config(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"targets": [{"url": "http://x"}]}))
    shadow = run_collector(tmp_path, "--role", "shadow", "--mirror-config", str(path))
    assert shadow.returncode == 2 and "--mirror-config: only the primary tap" in shadow.stderr
    alone = run_collector(tmp_path, "--role", "primary", "--mirror-workers", "4")
    assert alone.returncode == 2 and "--mirror-workers: needs --mirror-config" in alone.stderr


def test_the_mirror_config_can_come_from_the_environment(upstream, sides, tmp_path):
    _, shadow, _ = sides
    env = {
        **os.environ,
        "SHADOWDIFF_MIRROR_CONFIG": json.dumps(
            {"targets": [{"url": shadow.url}], "signing_secret": SECRET}
        ),
    }
    tap = start_collector(tmp_path, upstream, "primary", env=env)
    try:
        httpx.get(tap.url + "/echo", headers={"x-shadow-correlation-id": "from-env-1"})
        assert wait_for(lambda: records_by_cid(shadow.sink).get("from-env-1"))
    finally:
        tap.stop()
    bad = {**os.environ, "SHADOWDIFF_MIRROR_CONFIG": '{"targets": [{"url": "gopher://x"}]}'}
    result = run_collector(tmp_path, "--role", "primary", env=bad)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "shadowdiff collector: error: SHADOWDIFF_MIRROR_CONFIG: targets[0].url: "
        "must be http:// or https:// with a host, got 'gopher://x'"
    )


def run_collector(tmp_path, *args, env=None):
    return subprocess.run(
        [
            sys.executable, "-m", "shadowdiff", "collector", "--upstream", "http://127.0.0.1:9",
            "--sink", str(tmp_path / "records"), "--spool-dir", str(tmp_path / "spool"), *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )  # fmt: skip
