"""Collector sidecar against a tiny upstream: ack, records, redaction, signing (docs/contract.md §3)."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support import free_port, wait_http

from .acc_support import EXE, env

UPSTREAM_BODY = b'{"ok": true, "id": 5}'
RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class Upstream:
    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        self.finished: list[str] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                upstream.got.append({"target": self.path, "body": body})
                if self.path.startswith("/redirect"):
                    self.send_response(302)
                    self.send_header("location", "/elsewhere")
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                if self.path.startswith("/big"):
                    big = b"x" * (300 * 1024)
                    self.send_response(200)
                    self.send_header("content-type", "text/plain")
                    self.send_header("content-length", str(len(big)))
                    self.end_headers()
                    self.wfile.write(big)
                    return
                time.sleep(2.0 if self.path.startswith("/slow") else 0.05)
                upstream.finished.append(self.path)
                self.send_response(201)
                self.send_header("content-type", "application/json")
                self.send_header("set-cookie", "session=abc")
                self.send_header("x-upstream", "yes")
                self.send_header("content-length", str(len(UPSTREAM_BODY)))
                self.end_headers()
                self.wfile.write(UPSTREAM_BODY)

            do_GET = do_POST = do_PUT = _any

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.got) < n and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    up = Upstream()
    try:
        yield up
    finally:
        up.server.shutdown()
        up.server.server_close()


class Collector:
    def __init__(self, role: str, upstream: str, sink: Path, *extra: str) -> None:
        self.port, admin = free_port(), free_port()
        self.proc = subprocess.Popen(
            [
                EXE,
                "collector",
                "--role",
                role,
                "--upstream",
                upstream,
                "--sink",
                str(sink),
                "--port",
                str(self.port),
                "--admin-port",
                str(admin),
                "--host",
                "127.0.0.1",
                *extra,
            ],
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        wait_http(f"http://127.0.0.1:{admin}/healthz")

    def send(
        self, method: str, target: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(self.url + target, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise


def read_records(sink: Path) -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for path in sorted(sink.rglob("*.jsonl.gz")):
        for line in gzip.decompress(path.read_bytes()).decode().splitlines():
            if line.strip():
                out.append((path.relative_to(sink), json.loads(line)))
    return out


def test_shadow_mirror_is_acked_then_recorded_per_contract(
    tmp_path: Path, upstream: Upstream
) -> None:
    sink = tmp_path / "sink"
    col = Collector("shadow", upstream.url, sink)
    try:
        body = b'{"qty": 3}'
        status, _, _ = col.send(
            "POST",
            "/orders/5?x=1&y=%20z&x=2",
            body,
            {
                "x-shadow-correlation-id": "cid-1",
                "Authorization": "Bearer very-secret",
                "Cookie": "a=b",
                "X-Custom-Thing": "v",
                "Content-Type": "application/json",
            },
        )
        assert status == 202
        status, _, _ = col.send("GET", "/redirect", None, {"x-shadow-correlation-id": "cid-2"})
        assert status == 202
        upstream.wait(2)
        assert len(upstream.got) == 2  # never followed the redirect
    finally:
        col.stop()  # exit status after SIGTERM is not in the contract
    records = read_records(sink)
    by_id = {rec["correlation_id"]: (rel, rec) for rel, rec in records}
    assert set(by_id) == {"cid-1", "cid-2"}
    rel, rec = by_id["cid-1"]
    assert rec["schema"] == "shadowdiff.capture/1"
    assert rec["role"] == "shadow"
    assert RFC3339_MS.match(rec["captured_at"]), rec["captured_at"]
    parts = rel.parts
    assert parts[0] == "role=shadow"
    assert parts[1] == "dt=" + rec["captured_at"][:10]
    assert parts[2] == "hour=" + rec["captured_at"][11:13]
    assert len(parts) == 4 and parts[3].endswith(".jsonl.gz")
    req = rec["request"]
    assert (req["method"], req["path"], req["query"]) == ("POST", "/orders/5", "x=1&y=%20z&x=2")
    assert req["body"] == body.decode() and req["body_encoding"] == "utf8"
    assert req["body_truncated"] is False
    for headers in (req["headers"], rec["response"]["headers"]):
        assert all(name == name.lower() for name in headers), headers
    assert req["headers"]["authorization"] == "[REDACTED]"
    assert req["headers"]["cookie"] == "[REDACTED]"
    assert req["headers"]["x-custom-thing"] == "v"
    resp = rec["response"]
    assert resp["status"] == 201
    assert resp["headers"]["set-cookie"] == "[REDACTED]"
    assert resp["headers"]["x-upstream"] == "yes"
    assert resp["body"] == UPSTREAM_BODY.decode()
    assert resp["body_size"] == len(UPSTREAM_BODY)
    assert resp["body_sha256"] == hashlib.sha256(UPSTREAM_BODY).hexdigest()
    assert resp["body_truncated"] is False
    assert isinstance(rec["latency_ms"], (int, float)) and rec["latency_ms"] >= 40
    assert rec["error"] is None
    assert by_id["cid-2"][1]["response"]["status"] == 302


def signed_headers(
    secret: str, cid: str, method: str, uri: str, query: str, body: bytes
) -> dict[str, str]:
    stamp = str(int(time.time()))
    msg = "\n".join((stamp, cid, method, uri, query, hashlib.sha256(body).hexdigest()))
    return {
        "x-shadow-correlation-id": cid,
        "x-shadow-timestamp": stamp,
        "x-shadow-signature": hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest(),
    }


def test_signed_collector_rejects_bad_signatures_with_401(
    tmp_path: Path, upstream: Upstream
) -> None:
    sink = tmp_path / "sink"
    col = Collector("shadow", upstream.url, sink, "--signing-secret", "s3cret")
    try:
        body = b"payload"
        good = signed_headers("s3cret", "ok-1", "PUT", "/a/b", "q=1", body)
        assert col.send("PUT", "/a/b?q=1", body, good)[0] == 202
        bad = signed_headers("other", "bad-1", "PUT", "/a/b", "q=1", body)
        assert col.send("PUT", "/a/b?q=1", body, bad)[0] == 401
        tampered = signed_headers("s3cret", "bad-2", "PUT", "/a/b", "q=1", body)
        assert col.send("PUT", "/a/b?q=2", body, tampered)[0] == 401
        missing = {"x-shadow-correlation-id": "bad-3"}
        assert col.send("PUT", "/a/b?q=1", body, missing)[0] == 401
        old = signed_headers("s3cret", "bad-4", "PUT", "/a/b", "q=1", body)
        stamp = str(int(time.time()) - 400)
        msg = "\n".join((stamp, "bad-4", "PUT", "/a/b", "q=1", hashlib.sha256(body).hexdigest()))
        old["x-shadow-timestamp"] = stamp
        old["x-shadow-signature"] = hmac.new(b"s3cret", msg.encode(), hashlib.sha256).hexdigest()
        assert col.send("PUT", "/a/b?q=1", body, old)[0] == 401
        upstream.wait(1)
        time.sleep(0.3)
        assert [g["target"] for g in upstream.got] == ["/a/b?q=1"]
    finally:
        col.stop()
    ids = {rec["correlation_id"] for _, rec in read_records(sink)}
    assert ids == {"ok-1"}


def test_primary_tap_passes_the_upstream_answer_through(tmp_path: Path, upstream: Upstream) -> None:
    sink = tmp_path / "sink"
    col = Collector("primary", upstream.url, sink, "--deployment", "v1.2.3-abc")
    try:
        status, headers, body = col.send(
            "POST", "/orders?z=1", b"{}", {"x-shadow-correlation-id": "live-1"}
        )
        assert status == 201
        assert body == UPSTREAM_BODY
        assert headers["x-upstream"] == "yes"
        assert headers["set-cookie"] == "session=abc"  # only the record is redacted
    finally:
        col.stop()
    ((rel, rec),) = read_records(sink)
    assert rel.parts[0] == "role=primary"
    assert rec["role"] == "primary" and rec["correlation_id"] == "live-1"
    assert rec["response"]["status"] == 201
    assert rec["deployment"] == "v1.2.3-abc"


def test_limits_errors_repeats_and_early_ack(tmp_path: Path, upstream: Upstream) -> None:
    import http.client

    sink = tmp_path / "sink"
    col = Collector(
        "shadow", upstream.url, sink, "--body-limit", "10", "--redact-header", "x-private"
    )
    try:
        status, _, _ = col.send("GET", "/small", None, {"x-shadow-correlation-id": "lim"})
        assert status == 202
        status, _, _ = col.send("GET", "/slow", None, {"x-shadow-correlation-id": "slow"})
        assert status == 202
        assert "/slow" not in upstream.finished  # acknowledged before it was answered
        conn = http.client.HTTPConnection("127.0.0.1", col.port, timeout=10)
        conn.putrequest("GET", "/rep", skip_accept_encoding=True)
        conn.putheader("x-shadow-correlation-id", "rep")
        conn.putheader("X-Multi", "one")
        conn.putheader("X-Multi", "two")
        conn.putheader("X-Api-Key", "k")
        conn.putheader("Proxy-Authorization", "Basic eA==")
        conn.putheader("X-Private", "p")
        conn.endheaders()
        assert conn.getresponse().status == 202
        conn.close()
        upstream.wait(3)
        deadline = time.monotonic() + 15
        while "/slow" not in upstream.finished and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        col.stop()
    recs = {rec["correlation_id"]: rec for _, rec in read_records(sink)}
    resp = recs["lim"]["response"]
    assert resp["body_truncated"] is True
    assert resp["body_size"] == len(UPSTREAM_BODY)
    assert resp["body_sha256"] == hashlib.sha256(UPSTREAM_BODY).hexdigest()
    assert resp["body"] == UPSTREAM_BODY[:10].decode()
    h = recs["rep"]["request"]["headers"]
    assert h["x-multi"] == "one, two"
    assert h["x-api-key"] == "[REDACTED]"
    assert h["proxy-authorization"] == "[REDACTED]"
    assert h["x-private"] == "[REDACTED]"
    assert recs["slow"]["latency_ms"] >= 1900


def test_default_body_limit_and_unreachable_upstream(tmp_path: Path, upstream: Upstream) -> None:
    sink = tmp_path / "sink"
    col = Collector("shadow", upstream.url, sink)
    try:
        assert col.send("GET", "/big", None, {"x-shadow-correlation-id": "big"})[0] == 202
        upstream.wait(1)
        time.sleep(0.5)
    finally:
        col.stop()
    ((_, rec),) = read_records(sink)
    resp = rec["response"]
    assert resp["body_truncated"] is True
    assert resp["body_size"] == 300 * 1024
    assert resp["body_sha256"] == hashlib.sha256(b"x" * 300 * 1024).hexdigest()
    assert len(resp["body"]) == 256 * 1024

    dead = f"http://127.0.0.1:{free_port()}"
    sink2 = tmp_path / "sink2"
    col = Collector("shadow", dead, sink2)
    try:
        assert col.send("GET", "/gone", None, {"x-shadow-correlation-id": "gone"})[0] == 202
        time.sleep(1.0)
    finally:
        col.stop()
    ((_, rec),) = read_records(sink2)
    assert rec["response"] is None
    assert rec["error"]["kind"] == "connect"
    assert isinstance(rec["error"]["message"], str)
