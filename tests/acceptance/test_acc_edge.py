"""Edge function on AWS's documented viewer-request event shape (docs/contract.md §2)."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import subprocess
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from edge.handler import make_handler

from .acc_support import EXE, env

REQUEST_ID = "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="
BODY = b'{"hello": "body \xc3\xa9"}'

# Shape of the viewer-request example in the Lambda@Edge event structure docs,
# with a body (include-body) and a viewer-sent correlation header.
EVENT: dict[str, Any] = {
    "Records": [
        {
            "cf": {
                "config": {
                    "distributionDomainName": "d111111abcdef8.cloudfront.net",
                    "distributionId": "EDFDVBD6EXAMPLE",
                    "eventType": "viewer-request",
                    "requestId": REQUEST_ID,
                },
                "request": {
                    "body": {
                        "action": "read-only",
                        "data": base64.b64encode(BODY).decode(),
                        "encoding": "base64",
                        "inputTruncated": False,
                    },
                    "clientIp": "203.0.113.178",
                    "headers": {
                        "host": [{"key": "Host", "value": "d111111abcdef8.cloudfront.net"}],
                        "user-agent": [{"key": "User-Agent", "value": "curl/7.66.0"}],
                        "accept": [{"key": "accept", "value": "*/*"}],
                        "content-type": [{"key": "Content-Type", "value": "application/json"}],
                        "x-shadow-correlation-id": [
                            {"key": "X-Shadow-Correlation-Id", "value": "viewer-forged"}
                        ],
                    },
                    "method": "POST",
                    "querystring": "b=2&a=1&a=%20x&flag&e=caf%C3%A9",
                    "uri": "/api/caf%C3%A9/items",
                },
            }
        }
    ]
}


class Recorder:
    """A tiny target on 127.0.0.1 that keeps what it receives and answers 202."""

    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.got.append(
                    {
                        "method": self.command,
                        "target": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                self.send_response(202)
                self.send_header("content-length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _any

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.got) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.got


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    try:
        yield rec
    finally:
        rec.server.shutdown()
        rec.server.server_close()


def config(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "targets": [{"url": url, "role": "shadow", "sample_rate": 1.0}],
        "correlation_header": "x-shadow-correlation-id",
        "budget_ms": 3000,
        "methods": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        "include_paths": [],
        "exclude_paths": [],
        "mirror_headers": {"set": {}, "remove": []},
        "mirror_query": {"set": {}},
        "signing_secret": None,
        **extra,
    }


def test_returned_request_carries_request_id_over_the_viewers_value(recorder: Recorder) -> None:
    out = make_handler(config(recorder.url))(copy.deepcopy(EVENT), None)
    values = [h["value"] for h in out["headers"]["x-shadow-correlation-id"]]
    assert values == [REQUEST_ID]
    assert out["uri"] == EVENT["Records"][0]["cf"]["request"]["uri"]
    assert out["querystring"] == EVENT["Records"][0]["cf"]["request"]["querystring"]


def test_mirror_is_the_same_request_signed_as_the_contract_defines(recorder: Recorder) -> None:
    secret = "edge-secret"
    handler = make_handler(config(recorder.url, signing_secret=secret))
    handler(copy.deepcopy(EVENT), None)
    (got,) = recorder.wait(1)
    req = EVENT["Records"][0]["cf"]["request"]
    uri, _, query = got["target"].partition("?")
    assert got["method"] == "POST"
    assert uri == req["uri"]
    assert query == req["querystring"]  # byte for byte: order, repeats, encoding
    assert got["body"] == BODY
    h = got["headers"]
    assert h["x-shadow-correlation-id"] == REQUEST_ID
    assert h["x-shadow-role"] == "shadow"
    assert h["x-forwarded-host"] == "d111111abcdef8.cloudfront.net"
    assert h["user-agent"] == "curl/7.66.0"
    stamp = h["x-shadow-timestamp"]
    assert abs(int(stamp) - time.time()) < 60
    msg = "\n".join(
        (
            stamp,
            REQUEST_ID,
            "POST",
            req["uri"],
            req["querystring"],
            hashlib.sha256(BODY).hexdigest(),
        )
    )
    expected = hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest()
    assert h["x-shadow-signature"] == expected


def test_transforms_change_only_the_mirror_and_are_signed(recorder: Recorder) -> None:
    cfg = config(
        recorder.url,
        signing_secret="k",
        mirror_headers={"set": {"x-env": "shadow"}, "remove": ["user-agent"]},
        mirror_query={"set": {"added": "1"}},
    )
    out = make_handler(cfg)(copy.deepcopy(EVENT), None)
    (got,) = recorder.wait(1)
    req = EVENT["Records"][0]["cf"]["request"]
    uri, _, query = got["target"].partition("?")
    assert query == req["querystring"] + "&added=1"
    assert got["headers"]["x-env"] == "shadow"
    assert "user-agent" not in got["headers"]
    assert out["querystring"] == req["querystring"]
    assert out["headers"]["user-agent"][0]["value"] == "curl/7.66.0"
    assert "x-env" not in out["headers"]
    h = got["headers"]
    msg = "\n".join(
        (h["x-shadow-timestamp"], REQUEST_ID, "POST", uri, query, hashlib.sha256(BODY).hexdigest())
    )
    assert h["x-shadow-signature"] == hmac.new(b"k", msg.encode(), hashlib.sha256).hexdigest()


def test_sampling_is_deterministic_and_equal_rates_get_the_same_requests(
    recorder: Recorder,
) -> None:
    cfg = config(recorder.url)
    cfg["targets"] = [
        {"url": recorder.url, "role": "shadow", "sample_rate": 0.5},
        {"url": recorder.url, "role": "secondary", "sample_rate": 0.5},
    ]
    ids = [f"req-{i:03d}-{i * 7919}" for i in range(40)]

    def run_all() -> dict[str, set[str]]:
        before = len(recorder.got)
        handler = make_handler(cfg)
        for rid in ids:
            event = copy.deepcopy(EVENT)
            event["Records"][0]["cf"]["config"]["requestId"] = rid
            handler(event, None)
        time.sleep(0.3)
        seen: dict[str, set[str]] = {"shadow": set(), "secondary": set()}
        for got in recorder.got[before:]:
            seen[got["headers"]["x-shadow-role"]].add(got["headers"]["x-shadow-correlation-id"])
        return seen

    first, second = run_all(), run_all()
    assert first == second
    assert first["shadow"] == first["secondary"]
    assert 0 < len(first["shadow"]) < len(ids)


def test_edge_build_zip_holds_only_edge_and_its_config(tmp_path: Path) -> None:
    cfg = config("https://shadow-collector.example.com", signing_secret="zz")
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    out = tmp_path / "edge.zip"
    proc = subprocess.run(
        [EXE, "edge", "build", "--config", str(tmp_path / "config.json"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env(),
    )
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert names and all(n.startswith("edge/") for n in names), names
        assert "edge/handler.py" in names
        baked = json.loads(zf.read("edge/config.json"))
    # The build may normalise (e.g. sort methods); the meaning must be the same.
    assert sorted(baked.pop("methods")) == sorted(cfg.pop("methods"))
    assert baked == cfg
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def plain_get(request_id: str = REQUEST_ID) -> dict[str, Any]:
    event = copy.deepcopy(EVENT)
    req = event["Records"][0]["cf"]["request"]
    req["method"], req["querystring"], req["uri"] = "GET", "", "/"
    del req["body"]
    event["Records"][0]["cf"]["config"]["requestId"] = request_id
    return event


def test_get_without_query_or_body_signs_empty_parts(recorder: Recorder) -> None:
    make_handler(config(recorder.url, signing_secret="k"))(plain_get(), None)
    (got,) = recorder.wait(1)
    assert got["target"] == "/"
    h = got["headers"]
    msg = "\n".join(
        (h["x-shadow-timestamp"], REQUEST_ID, "GET", "/", "", hashlib.sha256(b"").hexdigest())
    )
    assert h["x-shadow-signature"] == hmac.new(b"k", msg.encode(), hashlib.sha256).hexdigest()
    assert "x-shadow-body-truncated" not in h


def test_truncated_body_is_flagged(recorder: Recorder) -> None:
    event = copy.deepcopy(EVENT)
    event["Records"][0]["cf"]["request"]["body"]["inputTruncated"] = True
    make_handler(config(recorder.url))(event, None)
    (got,) = recorder.wait(1)
    assert got["headers"]["x-shadow-body-truncated"] == "1"


def test_methods_not_listed_are_not_mirrored_but_still_tagged(recorder: Recorder) -> None:
    out = make_handler(config(recorder.url, methods=["GET"]))(copy.deepcopy(EVENT), None)
    assert out["headers"]["x-shadow-correlation-id"][0]["value"] == REQUEST_ID
    time.sleep(0.3)
    assert recorder.got == []


def test_hung_refused_targets_and_bad_events_never_raise() -> None:
    import socket

    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)  # accepts the connection, never answers
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))  # bound, not listening: connection refused
    try:
        cfg = config(f"http://127.0.0.1:{hung.getsockname()[1]}", budget_ms=200)
        cfg["targets"].append(
            {
                "url": f"http://127.0.0.1:{refused.getsockname()[1]}",
                "role": "secondary",
                "sample_rate": 1.0,
            }
        )
        handler = make_handler(cfg)
        started = time.monotonic()
        out = handler(plain_get("hung-1"), None)
        elapsed = time.monotonic() - started
        assert out["headers"]["x-shadow-correlation-id"][0]["value"] == "hung-1"
        assert elapsed < 0.2 + 2.0  # the budget plus generous slack for a loaded machine
        handler({}, None)
        handler({"Records": [{"cf": {"request": {"uri": "/"}}}]}, None)
    finally:
        hung.close()
        refused.close()
