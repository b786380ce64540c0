"""The edge against the real collector: signed mirrors are acknowledged and captured as sent.

This crosses the seam the contract fixes (docs/contract.md §2 and §3): the collector
recomputes the signature over the path, query and body it receives, so any
drift between what the edge signs and what it sends shows up here as a 401.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from edge_support import config_for, event_names, load_event
from edge_targets import Target
from support import free_port, stop_proc, wait_http

from edge.handler import make_handler
from edge.pool import Pool

SECRET = "edge-collector-test-secret"


@pytest.fixture
def collector(tmp_path):
    upstream = Target("fast")
    port = free_port()
    sink = tmp_path / "records"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "shadowdiff", "collector", "--role", "shadow",
            "--upstream", upstream.url, "--sink", str(sink), "--port", str(port),
            "--signing-secret", SECRET, "--flush-seconds", "0.2",
            "--spool-dir", str(tmp_path / "spool"), "--log-level", "warning",
        ],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/")
        yield url, upstream, sink, proc
    finally:
        stop_proc(proc, grace=15)
        upstream.close()


def records(sink: Path) -> list[dict]:
    out = []
    for path in sorted(sink.glob("role=*/dt=*/hour=*/*.jsonl.gz")):
        out += [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    return out


def test_signed_mirrors_are_acknowledged_and_captured_as_sent(collector, capsys):
    url, upstream, sink, proc = collector
    # a generous budget: this checks agreement with the collector, not speed
    handler = make_handler(config_for(url, budget_ms=2000, signing_secret=SECRET), pool=Pool())
    names = event_names()
    for name in names:
        handler(load_event(name), None)
    assert capsys.readouterr().out == ""  # every mirror got its 202, none a 401
    deadline = time.monotonic() + 20
    while len(upstream.requests) < len(names) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)  # a graceful stop flushes the sink
    proc.wait(timeout=15)
    by_id = {r["correlation_id"]: r for r in records(sink)}
    assert len(by_id) == len(names)
    for name in names:
        cf = load_event(name)["Records"][0]["cf"]
        record = by_id[cf["config"]["requestId"]]
        request = record["request"]
        assert record["role"] == "shadow"
        assert request["method"] == cf["request"]["method"]
        assert request["path"] == cf["request"]["uri"]
        assert request["query"] == cf["request"]["querystring"]
        body = cf["request"].get("body")
        truncated = bool(body and body.get("inputTruncated"))
        assert request["body_truncated"] is truncated  # x-shadow-body-truncated honoured
        if body and not truncated and body["encoding"] == "base64":
            sent = base64.b64decode(body["data"])
            stored = request["body"]
            if request["body_encoding"] == "base64":
                stored = base64.b64decode(stored)
            else:
                stored = stored.encode()
            assert stored == sent


def test_a_wrong_secret_is_refused_by_the_collector_and_logged(collector, capsys):
    url, upstream, _, _ = collector
    handler = make_handler(config_for(url, budget_ms=2000, signing_secret="wrong"), pool=Pool())
    handler(load_event("post-base64-body.json"), None)
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert line["targets"][0]["error"] == "rejected"
    assert line["targets"][0]["detail"] == "HTTP 401"
    assert upstream.requests == []
