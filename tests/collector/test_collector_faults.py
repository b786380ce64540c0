"""Faults: the upstream fails, the collector is stopped or killed, the sink goes away.

"Nothing lost" is checked by counting records: every request that was
acknowledged shows up in the sink (at least once) as a valid record.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import httpx
from collector_helpers import (
    free_port,
    read_local,
    read_s3,
    stop_proc,
    wait_for,
    wait_http,
)

CID = "x-shadow-correlation-id"


def ids(recs):
    return {r["correlation_id"] for r in recs}


def send_mirrors(c, prefix, n, path="/echo"):
    with httpx.Client(timeout=10) as client:
        for i in range(n):
            assert client.get(c.url + path, headers={CID: f"{prefix}-{i}"}).status_code == 202


def test_hung_upstream_becomes_a_timeout_record_within_the_budget(upstream, collectors):
    c = collectors(upstream, "shadow", "--upstream-timeout", "1")
    send_mirrors(c, "hang", 1, "/hang")
    rec = wait_for(lambda: read_local(Path(c.sink)), 15)[0]
    assert rec["response"] is None and rec["error"]["kind"] == "timeout"
    assert c.metric("shadowdiff_collector_upstream_errors_total", kind="timeout") == 1


def test_refused_upstream_becomes_a_connect_record_and_a_502_on_the_tap(collectors):
    c = collectors(f"http://127.0.0.1:{free_port()}", "primary")
    resp = httpx.get(c.url + "/x", headers={CID: "refused-1"}, timeout=10)
    assert resp.status_code == 502
    rec = wait_for(lambda: read_local(Path(c.sink)), 15)[0]
    assert rec["correlation_id"] == "refused-1"
    assert rec["response"] is None and rec["error"]["kind"] == "connect"
    assert rec["latency_ms"] is None


def test_upstream_cutting_off_mid_body_aborts_the_tap_and_records_the_error(upstream, collectors):
    c = collectors(upstream, "primary")
    try:
        resp = httpx.get(c.url + "/cutoff", headers={CID: "cut-1"}, timeout=10)
        assert len(resp.content) < 1000  # never a complete-looking short answer
    except httpx.HTTPError:
        pass
    rec = wait_for(lambda: read_local(Path(c.sink)), 15)[0]
    assert rec["response"] is None
    assert rec["error"]["kind"] in ("upstream_closed", "protocol")


def test_sigterm_with_records_in_flight_delivers_every_one(upstream, collectors):
    # Long flush interval: records sit in the queue; slow upstream: mirrors are in flight.
    c = collectors(upstream, "shadow", "--flush-seconds", "60")
    send_mirrors(c, "term", 40, "/slow")
    assert c.stop(signal.SIGTERM, timeout=20) in (0, -signal.SIGTERM)  # uvicorn re-raises it
    recs = read_local(Path(c.sink))
    assert ids(recs) == {f"term-{i}" for i in range(40)}
    assert all(r["response"]["status"] == 200 for r in recs)


def test_sigkill_then_restart_delivers_what_was_spooled(upstream, collectors, aws_env, tmp_path):
    s3 = boto3.client("s3")
    bucket = f"late-{free_port()}"  # does not exist yet: every write fails and is spooled
    spool = tmp_path / "kill-spool"
    c = collectors(upstream, "shadow", sink=f"s3://{bucket}/cap", spool=spool)
    send_mirrors(c, "kill", 25)
    wait_for(lambda: c.metric("shadowdiff_collector_records_spooled_total") >= 25, 20)
    c.stop(signal.SIGKILL)
    s3.create_bucket(Bucket=bucket)
    again = collectors(upstream, "shadow", sink=f"s3://{bucket}/cap", spool=spool)
    recs = wait_for(lambda: (r := read_s3(s3, bucket, "cap/")) and len(ids(r)) >= 25 and r, 20)
    assert ids(recs) == {f"kill-{i}" for i in range(25)}
    wait_for(lambda: not list(spool.glob("*.jsonl.gz")), 10)
    assert again.metric("shadowdiff_collector_records_replayed_total") >= 25


def _moto(port):
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    wait_http(f"http://127.0.0.1:{port}/moto-api/", 30)
    return proc


def test_sink_down_for_a_while_then_back_loses_nothing(upstream, collectors, monkeypatch):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "x",
           "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip
    for key in (
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.setenv(key, env[key])
    moto = _moto(port)
    try:
        boto3.client("s3").create_bucket(Bucket="flaky")
        c = collectors(upstream, "shadow", sink="s3://flaky/p", env=env)
        send_mirrors(c, "up", 10)
        wait_for(lambda: len(read_s3(boto3.client("s3"), "flaky")) >= 10, 15)
        stop_proc(moto)
        send_mirrors(c, "down", 20)
        wait_for(lambda: c.metric("shadowdiff_collector_records_spooled_total") >= 20, 20)
        moto = _moto(port)  # back, empty: the bucket has to be made again
        boto3.client("s3").create_bucket(Bucket="flaky")
        recs = wait_for(
            lambda: (r := read_s3(boto3.client("s3"), "flaky")) and len(ids(r)) >= 20 and r, 45
        )
        assert ids(recs) == {f"down-{i}" for i in range(20)}
        assert c.metric("shadowdiff_collector_records_replayed_total") >= 20
    finally:
        stop_proc(moto)


def _raw_upstream(answer: bytes):
    """A one-shot-per-connection upstream that writes ``answer`` and closes."""
    import socket
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)

    def serve():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.getsockname()[1]}"


def test_body_delimited_by_connection_close_is_captured_whole(collectors):
    srv, url = _raw_upstream(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nhello-until-close"
    )
    try:
        c = collectors(url, "primary")
        resp = httpx.get(c.url + "/", headers={CID: "close-1"}, timeout=10)
        assert resp.content == b"hello-until-close"
        rec = wait_for(lambda: read_local(Path(c.sink)), 15)[0]
        assert rec["response"]["body"] == "hello-until-close"
    finally:
        srv.close()


def test_garbage_from_the_upstream_is_a_protocol_error_record(collectors):
    srv, url = _raw_upstream(b"SMTP ready\r\n\r\n")
    try:
        c = collectors(url, "shadow")
        send_mirrors(c, "garbage", 1)
        rec = wait_for(lambda: read_local(Path(c.sink)), 15)[0]
        assert rec["response"] is None and rec["error"]["kind"] == "protocol"
    finally:
        srv.close()


def test_sigkill_mid_batch_then_restart_delivers_the_journaled_batch(
    upstream, collectors, tmp_path
):
    spool = tmp_path / "journal-spool"
    sink = tmp_path / "journal-records"
    c = collectors(upstream, "shadow", "--flush-seconds", "60", sink=str(sink), spool=spool)
    send_mirrors(c, "journal", 20)
    wait_for(lambda: c.metric("shadowdiff_collector_records_captured_total") >= 20, 15)
    wait_for(lambda: c.metric("shadowdiff_collector_queue_depth") == 0, 5)
    import time

    time.sleep(0.3)  # one journal sync interval
    c.stop(signal.SIGKILL)
    assert not read_local(sink)  # nothing was written before the kill
    collectors(upstream, "shadow", sink=str(sink), spool=spool)
    recs = wait_for(lambda: (r := read_local(sink)) and len(ids(r)) >= 20 and r, 15)
    assert ids(recs) == {f"journal-{i}" for i in range(20)}
