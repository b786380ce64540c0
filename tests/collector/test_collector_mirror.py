"""Mirror ingress (role shadow): signature, 202, forwarding rules and the records it writes."""

from __future__ import annotations

import base64
import gzip
import hashlib
import socket
import time
from pathlib import Path

import httpx
import orjson
import pytest
from collector_helpers import hits, read_local, start_collector, wait_for

from edge.signing import sign

SECRET = "s3cret"


@pytest.fixture(scope="module")
def shadow(upstream, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mirror")
    c = start_collector(
        tmp, upstream, "shadow",
        "--signing-secret", SECRET, "--body-limit", "1024", "--max-request-bytes", "100000",
        "--redact-header", "X-Custom-Secret", "--redact-json-field", "$.user.password",
        "--deployment", "v2-abc",
    )  # fmt: skip
    yield c
    c.stop()


def signed(cid, method, uri, query="", body=b"", ts=None, secret=SECRET):
    ts = str(int(time.time()) if ts is None else ts)
    return {
        "x-shadow-correlation-id": cid,
        "x-shadow-timestamp": ts,
        "x-shadow-signature": sign(secret, ts, cid, method, uri, query, body),
        "x-shadow-role": "shadow",
    }


def mirror(c, cid, method="GET", uri="/echo", query="", body=b"", headers=None, **kw):
    hdrs = signed(cid, method, uri, query, body, **kw)
    hdrs.update(headers or {})
    url = c.url + uri + (f"?{query}" if query else "")
    return httpx.request(method, url, content=body, headers=hdrs, timeout=10)


def record_for(c, cid, timeout=15.0):
    def find():
        return [r for r in read_local(Path(c.sink)) if r["correlation_id"] == cid]

    found = wait_for(find, timeout)
    assert len(found) == 1
    return found[0]


def test_signed_mirror_is_acknowledged_at_once_then_captured(shadow):
    body = b'{"q": 1}'
    resp = mirror(shadow, "cid-ok", "POST", "/echo/a%20b", "x=1&x=2&y=%2F", body,
                  headers={"content-type": "application/json"})  # fmt: skip
    assert resp.status_code == 202
    rec = record_for(shadow, "cid-ok")
    assert rec["role"] == "shadow" and rec["deployment"] == "v2-abc"
    assert rec["request"]["method"] == "POST"
    assert rec["request"]["path"] == "/echo/a%20b"
    assert rec["request"]["query"] == "x=1&x=2&y=%2F"
    assert rec["request"]["body"] == '{"q": 1}'
    assert rec["response"]["status"] == 200
    echoed = orjson.loads(rec["response"]["body"])
    assert echoed["raw_path"] == "/echo/a%20b" and echoed["query"] == "x=1&x=2&y=%2F"
    assert base64.b64decode(echoed["body_b64"]) == body
    assert rec["response"]["body_size"] == len(rec["response"]["body"].encode())
    assert rec["latency_ms"] >= 0 and rec["error"] is None
    assert rec["captured_at"].endswith("Z") and len(rec["captured_at"]) == 24


@pytest.mark.parametrize(
    "case",
    ["bad", "expired", "missing", "other-secret", "tampered-body"],
)
def test_bad_expired_or_missing_signature_gets_401_and_nothing_is_forwarded(shadow, upstream, case):
    before = hits(upstream)
    cid = f"cid-{case}"
    hdrs = signed(cid, "POST", "/echo", "", b"abc")
    body = b"abc"
    if case == "bad":
        hdrs["x-shadow-signature"] = "0" * 64
    elif case == "expired":
        hdrs = signed(cid, "POST", "/echo", "", b"abc", ts=int(time.time()) - 301)
    elif case == "missing":
        del hdrs["x-shadow-signature"]
    elif case == "other-secret":
        hdrs = signed(cid, "POST", "/echo", "", b"abc", secret="nope")
    else:
        body = b"abd"
    resp = httpx.post(shadow.url + "/echo", content=body, headers=hdrs, timeout=10)
    assert resp.status_code == 401
    time.sleep(0.3)
    assert hits(upstream) == before
    reason = {"expired": "signature_expired", "missing": "signature_missing"}.get(
        case, "signature_bad"
    )
    assert shadow.metric("shadowdiff_collector_requests_rejected_total", reason=reason) >= 1
    assert not [r for r in read_local(Path(shadow.sink)) if r["correlation_id"] == cid]


def test_mirror_without_correlation_header_is_refused_and_counted(shadow, upstream):
    before = hits(upstream)
    resp = httpx.get(shadow.url + "/echo", timeout=10)
    assert resp.status_code == 400
    assert hits(upstream) == before
    assert shadow.metric("shadowdiff_collector_requests_rejected_total",
                         reason="missing_correlation_id") >= 1  # fmt: skip


def test_forwarding_drops_hop_by_hop_and_control_headers_and_sets_host(shadow, upstream):
    extra = {"x-keep": "yes", "connection": "x-drop-me", "x-drop-me": "1", "te": "trailers",
             "x-forwarded-host": "viewer.example.com", "authorization": "Bearer t",
             "x-custom-secret": "shh"}  # fmt: skip
    assert mirror(shadow, "cid-hdr", headers=extra).status_code == 202
    rec = record_for(shadow, "cid-hdr")
    sent = {n: v for n, v in orjson.loads(rec["response"]["body"])["headers"]}
    assert sent["x-keep"] == "yes"
    assert sent["host"] == upstream.removeprefix("http://")
    assert sent["x-forwarded-host"] == "viewer.example.com"
    assert sent["authorization"] == "Bearer t"  # forwarded as is, redacted only in the record
    for gone in ("x-drop-me", "te", "x-shadow-signature", "x-shadow-timestamp", "x-shadow-role"):
        assert gone not in sent
    assert not [n for n in sent if n.startswith("x-shadow-")]
    headers = rec["request"]["headers"]
    assert headers["authorization"] == "[REDACTED]"
    assert headers["x-custom-secret"] == "[REDACTED]"
    assert headers["x-keep"] == "yes"


def test_redirect_is_recorded_not_followed(shadow):
    assert mirror(shadow, "cid-302", uri="/redirect").status_code == 202
    rec = record_for(shadow, "cid-302")
    assert rec["response"]["status"] == 302
    assert rec["response"]["headers"]["location"] == "/elsewhere"


def test_compressed_body_is_stored_as_received_with_its_encoding(shadow):
    assert (
        mirror(shadow, "cid-gz", uri="/gzip", headers={"accept-encoding": "gzip"}).status_code
        == 202
    )
    resp = record_for(shadow, "cid-gz")["response"]
    assert resp["headers"]["content-encoding"] == "gzip"
    assert resp["body_encoding"] == "base64"
    raw = base64.b64decode(resp["body"])
    assert orjson.loads(gzip.decompress(raw))["compressed"] is True
    assert resp["body_size"] == len(raw)
    assert resp["body_sha256"] == hashlib.sha256(raw).hexdigest()


def test_non_utf8_bodies_are_stored_as_base64(shadow):
    body = bytes([0xFF, 0xFE, 0x00, 0x80]) * 10
    assert mirror(shadow, "cid-bin", "PUT", "/binary", body=body).status_code == 202
    rec = record_for(shadow, "cid-bin")
    assert rec["request"]["body_encoding"] == "base64"
    assert base64.b64decode(rec["request"]["body"]) == body
    resp = rec["response"]
    assert resp["body_encoding"] == "base64"
    assert base64.b64decode(resp["body"]) == bytes(range(256)) * 4  # exactly the 1024-byte limit
    assert resp["body_truncated"] is False


def test_oversized_bodies_are_cut_but_size_and_digest_describe_the_whole(shadow):
    body = b"z" * 5000
    assert mirror(shadow, "cid-big", "POST", "/big", body=body).status_code == 202
    rec = record_for(shadow, "cid-big")
    assert rec["request"]["body_truncated"] is True and len(rec["request"]["body"]) == 1024
    resp = rec["response"]
    assert resp["body_truncated"] is True and len(resp["body"]) == 1024
    assert resp["body_size"] == 300_000
    assert resp["body_sha256"] == hashlib.sha256(b"x" * 300_000).hexdigest()


def test_edge_truncation_flag_marks_the_request_body_truncated(shadow):
    hdrs = {"x-shadow-body-truncated": "1"}
    assert (
        mirror(shadow, "cid-edgecut", "POST", "/echo", body=b"cut", headers=hdrs).status_code == 202
    )
    assert record_for(shadow, "cid-edgecut")["request"]["body_truncated"] is True


def test_json_fields_and_sensitive_response_headers_are_redacted(shadow):
    assert mirror(shadow, "cid-secret", uri="/secret").status_code == 202
    resp = record_for(shadow, "cid-secret")["response"]
    assert orjson.loads(resp["body"]) == {
        "user": {"name": "a", "password": "[REDACTED]"},
        "ok": True,
    }
    assert "hunter2" not in resp["body"]
    assert resp["headers"]["set-cookie"] == "[REDACTED]" and resp["headers"]["x-app"] == "1"


def test_request_over_the_size_cap_gets_413_and_is_not_forwarded(shadow, upstream):
    before = hits(upstream)
    body = b"a" * 200_000
    assert mirror(shadow, "cid-413", "POST", "/echo", body=body).status_code == 413
    assert hits(upstream) == before


def test_client_disconnecting_mid_body_forwards_nothing(shadow, upstream):
    before = hits(upstream)
    port = int(shadow.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nx-shadow-correlation-id: cid-cut\r\n"
            b"content-length: 1000\r\n\r\n" + b"p" * 10
        )
        time.sleep(0.2)
    wait_for(lambda: shadow.metric("shadowdiff_collector_requests_rejected_total",
                                   reason="client_disconnected") >= 1, 10)  # fmt: skip
    assert hits(upstream) == before


def test_health_and_metrics_answer_without_the_header_and_reach_the_app_with_it(shadow, upstream):
    health = httpx.get(shadow.url + "/healthz", timeout=10)
    assert health.status_code == 200 and health.json()["role"] == "shadow"
    assert "shadowdiff_collector_requests_received_total" in httpx.get(shadow.url + "/metrics").text
    assert httpx.get(shadow.admin_url + "/healthz").json()["status"] == "ok"
    assert mirror(shadow, "cid-appmetrics", uri="/metrics").status_code == 202
    rec = record_for(shadow, "cid-appmetrics")
    assert orjson.loads(rec["response"]["body"])["raw_path"] == "/metrics"
