"""Primary tap: the live path is passed through unchanged and captured off it."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from collector_helpers import free_port, hits, read_local, start_collector, wait_for

CID = "x-shadow-correlation-id"


@pytest.fixture(scope="module")
def tap(upstream, tmp_path_factory):
    c = start_collector(tmp_path_factory.mktemp("tap"), upstream, "primary")
    yield c
    c.stop()


def records(c, cid):
    return [r for r in read_local(Path(c.sink)) if r["correlation_id"] == cid]


def test_tap_streams_status_headers_and_body_back_unchanged(tap, upstream):
    direct = httpx.get(upstream + "/chunked")
    via = httpx.get(tap.url + "/chunked", headers={CID: "tap-1"})
    assert via.status_code == direct.status_code == 201
    assert via.content == direct.content == b"part0;part1;part2;part3;part4;"
    assert via.headers.get_list("x-multi") == ["a", "b"]
    assert "server" not in via.headers or via.headers["server"] == direct.headers.get("server")
    rec = wait_for(lambda: records(tap, "tap-1"))[0]
    assert rec["role"] == "primary"
    assert rec["response"]["status"] == 201
    assert rec["response"]["headers"]["x-multi"] == "a, b"
    assert rec["response"]["body"] == "part0;part1;part2;part3;part4;"


def test_tap_passes_redirects_and_binary_bodies_through(tap, upstream):
    resp = httpx.get(tap.url + "/redirect", headers={CID: "tap-302"})
    assert resp.status_code == 302 and resp.headers["location"] == "/elsewhere"
    resp = httpx.get(tap.url + "/gzip", headers={CID: "tap-gz", "accept-encoding": "gzip"})
    assert resp.json()["compressed"] is True  # httpx decodes: the bytes went through intact
    assert resp.headers["content-encoding"] == "gzip"


def test_request_without_correlation_header_is_forwarded_but_not_captured(tap, upstream):
    before = hits(upstream)
    resp = httpx.post(tap.url + "/echo?untracked=1", content=b"hi")
    assert resp.status_code == 200 and resp.json()["query"] == "untracked=1"
    assert hits(upstream) == before + 1
    assert tap.metric("shadowdiff_collector_requests_uncaptured_total") >= 1
    time.sleep(0.5)
    assert not [r for r in read_local(Path(tap.sink)) if r["request"]["query"] == "untracked=1"]


def test_failing_sink_never_fails_or_slows_the_live_request(upstream, collectors, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens here: every S3 call is refused
    env = {"AWS_ENDPOINT_URL": dead, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip
    import os

    c = collectors(upstream, "primary", sink="s3://nowhere/p", env={**os.environ, **env})
    for i in range(30):
        resp = httpx.get(c.url + "/echo", headers={CID: f"dead-{i}"}, timeout=5)
        assert resp.status_code == 200
    wait_for(lambda: c.metric("shadowdiff_collector_records_spooled_total") >= 30, 20)
    assert c.metric("shadowdiff_collector_records_written_total") == 0
    assert list(Path(c.spool).glob("*.jsonl.gz"))


def test_wait_mode_answers_a_mirror_with_the_upstream_response(upstream, collectors):
    c = collectors(upstream, "secondary", "--wait")
    resp = httpx.get(c.url + "/redirect", headers={CID: "wait-1"})
    assert resp.status_code == 302
    rec = wait_for(lambda: records(c, "wait-1"))[0]
    assert rec["role"] == "secondary" and rec["response"]["status"] == 302


def test_custom_correlation_header_like_envoys_request_id_works(upstream, collectors):
    c = collectors(upstream, "shadow", "--correlation-header", "X-Request-Id")
    assert httpx.get(c.url + "/echo", headers={"x-request-id": "envoy-1"}).status_code == 202
    rec = wait_for(lambda: records(c, "envoy-1"))[0]
    assert rec["request"]["headers"]["x-request-id"] == "envoy-1"
    assert httpx.get(c.url + "/echo", headers={CID: "wrong-header"}).status_code == 400


def test_head_answers_pass_through_and_the_pooled_connection_stays_usable(tap):
    with httpx.Client(timeout=10) as client:
        head = client.head(tap.url + "/big", headers={CID: "tap-head"})
        assert head.status_code == 200 and head.content == b""
        for i in range(5):  # the same pooled upstream connection, after a bodiless answer
            assert client.get(tap.url + "/echo", headers={CID: f"tap-after-head-{i}"}).json()
    rec = wait_for(lambda: records(tap, "tap-head"))[0]
    assert rec["request"]["method"] == "HEAD" and rec["response"]["body_size"] == 0


def test_large_bodies_stream_through_whole_and_are_captured_cut(tap):
    resp = httpx.get(tap.url + "/big", headers={CID: "tap-big"}, timeout=10)
    assert resp.content == b"x" * 300_000
    rec = wait_for(lambda: records(tap, "tap-big"))[0]["response"]
    assert rec["body_size"] == 300_000 and rec["body_truncated"] is True
    assert len(rec["body"]) == 256 * 1024


def test_many_concurrent_requests_each_get_their_own_answer(tap):
    import concurrent.futures

    def one(i):
        r = httpx.get(tap.url + f"/echo?i={i}", headers={CID: f"conc-{i}"}, timeout=10)
        return r.json()["query"] == f"i={i}"

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        assert all(pool.map(one, range(64)))
    found = wait_for(lambda: len({r["correlation_id"] for r in read_local(Path(tap.sink))
                                  if r["correlation_id"].startswith("conc-")}) == 64 or None, 15)  # fmt: skip
    assert found


def test_upstream_base_path_is_prepended_and_nothing_escapes_the_upstream(upstream, collectors):
    c = collectors(upstream + "/echo/base", "primary")
    got = httpx.get(c.url + "/sub/x?q=1", headers={CID: "base-1"}).json()
    assert got["raw_path"] == "/echo/base/sub/x" and got["query"] == "q=1"
    # An absolute-form or //host target still goes to the configured upstream only.
    with httpx.Client() as client:
        got = client.get(c.url + "//evil.example.com/steal", headers={CID: "base-2"}).json()
    assert got["raw_path"] == "/echo/base//evil.example.com/steal"
    import socket

    port = int(c.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"GET http://evil.example.com/steal HTTP/1.1\r\nHost: evil.example.com\r\n"
            b"x-shadow-correlation-id: base-3\r\nconnection: close\r\n\r\n"
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert b" 200 " in answer.split(b"\r\n", 1)[0]
    assert b'"raw_path":"/echo/base/steal"' in answer


def test_admin_port_serves_only_the_control_routes(tap):
    assert httpx.get(tap.admin_url + "/healthz", headers={CID: "x"}).json()["role"] == "primary"
    assert httpx.get(tap.admin_url + "/echo").status_code == 404
    assert "shadowdiff_collector_queue_depth" in httpx.get(tap.admin_url + "/metrics").text
