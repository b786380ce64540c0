"""The local CloudFront stand-in: the event it builds, and what reaches the primary and viewer."""

from __future__ import annotations

import base64
import gzip
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import free_port

from edge import event as edge_event
from edge import signing
from edge.handler import make_handler
from shadowdiff.frontdoor import (
    VIEWER_BODY_LIMIT,
    FrontDoor,
    build_event,
    forward_parts,
    new_request_id,
)

EVENTS = Path(__file__).resolve().parent.parent / "events"

# AWS's documented viewer-request example (Lambda@Edge event structure), with the
# body that "include body" adds; used when tests/events holds no sample yet.
AWS_EXAMPLE = {
    "Records": [
        {
            "cf": {
                "config": {
                    "distributionDomainName": "d111111abcdef8.cloudfront.net",
                    "distributionId": "EDFDVBD6EXAMPLE",
                    "eventType": "viewer-request",
                    "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
                },
                "request": {
                    "body": {
                        "action": "read-only",
                        "data": "eyJ1c2VybmFtZSI6IkxhbWJkYUBFZGdlIiwiY29tbWVudCI6IlRoaXMgaXMgcmVxdWVzdCBib2R5In0=",
                        "encoding": "base64",
                        "inputTruncated": False,
                    },
                    "clientIp": "203.0.113.178",
                    "headers": {
                        "host": [{"key": "Host", "value": "d111111abcdef8.cloudfront.net"}],
                        "user-agent": [{"key": "User-Agent", "value": "curl/7.66.0"}],
                        "accept": [{"key": "accept", "value": "*/*"}],
                    },
                    "method": "POST",
                    "querystring": "",
                    "uri": "/",
                },
            }
        }
    ]
}


def _documented_samples() -> list[dict[str, Any]]:
    samples = [AWS_EXAMPLE]
    for path in sorted(EVENTS.glob("*.json")) if EVENTS.is_dir() else []:
        event = json.loads(path.read_text())
        cf = event.get("Records", [{}])[0].get("cf", {})
        if cf.get("config", {}).get("eventType") == "viewer-request":
            samples.append(event)
    return samples


def _event(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "method": "POST",
        "uri": "/orders",
        "querystring": "a=1&a=2&b=%20x",
        "headers": [("host", "shop.example"), ("x-multi", "1"), ("x-multi", "2")],
        "body": b'{"x": 1}',
        "client_ip": "203.0.113.9",
        "request_id": new_request_id(),
    }
    args.update(overrides)
    return build_event(**args)


@pytest.mark.parametrize(
    "sample", _documented_samples(), ids=lambda s: s["Records"][0]["cf"]["config"]["requestId"][:8]
)
def test_event_has_the_documented_viewer_request_shape(sample):
    ours = _event()["Records"][0]["cf"]
    theirs = sample["Records"][0]["cf"]
    assert set(ours["config"]) == set(theirs["config"])
    assert set(theirs["request"]) - {"body"} <= set(ours["request"])
    assert ours["config"]["eventType"] == "viewer-request"
    for name, entries in ours["request"]["headers"].items():
        assert name == name.lower()
        assert all(set(entry) == {"key", "value"} for entry in entries)
    if "body" in theirs["request"]:
        assert set(ours["request"]["body"]) == set(theirs["request"]["body"])


def test_request_id_looks_like_cloudfronts_and_is_fresh():
    ids = {new_request_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 56 and i.endswith("==") for i in ids)
    assert set("".join(ids)) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="
    )


def test_event_keeps_repeated_headers_and_the_raw_query():
    request = _event()["Records"][0]["cf"]["request"]
    assert request["headers"]["x-multi"] == [
        {"key": "X-Multi", "value": "1"},
        {"key": "X-Multi", "value": "2"},
    ]
    assert request["querystring"] == "a=1&a=2&b=%20x"
    assert base64.b64decode(request["body"]["data"]) == b'{"x": 1}'
    assert request["body"]["inputTruncated"] is False


def test_a_body_beyond_the_viewer_limit_is_cut_and_flagged():
    request = _event(body=b"x" * (VIEWER_BODY_LIMIT + 1))["Records"][0]["cf"]["request"]
    assert request["body"]["inputTruncated"] is True
    assert len(base64.b64decode(request["body"]["data"])) == VIEWER_BODY_LIMIT


def test_a_read_only_body_reaches_the_origin_whole_even_when_cut():
    full = b"y" * (VIEWER_BODY_LIMIT + 10)
    request = _event(body=full)["Records"][0]["cf"]["request"]
    method, url, _headers, body = forward_parts(request, "http://primary:1/", full)
    assert (method, url, body) == ("POST", "http://primary:1/orders?a=1&a=2&b=%20x", full)


def test_a_replaced_body_is_what_the_origin_gets():
    request = _event()["Records"][0]["cf"]["request"]
    request["body"] = {"action": "replace", "encoding": "text", "data": "new"}
    assert forward_parts(request, "http://p", b"old")[3] == b"new"


def _echo_app() -> Any:
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        echo = {
            "method": scope["method"],
            "raw_path": scope["raw_path"].decode(),
            "query": scope["query_string"].decode(),
            "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
            "body": body.decode(),
        }
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"content-type", b"application/json"), (b"x-origin", b"echo")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(echo).encode()})

    return app


def _tagging_handler(seen: list[dict[str, Any]]) -> Any:
    """What the edge handler does to the live request: set the correlation header."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        cf = event["Records"][0]["cf"]
        request = cf["request"]
        request["headers"]["x-shadow-correlation-id"] = [
            {"key": "x-shadow-correlation-id", "value": cf["config"]["requestId"]}
        ]
        return request

    return handler


def test_the_handlers_request_goes_to_the_primary_and_the_answer_comes_back(serve_app):
    seen: list[dict[str, Any]] = []
    primary = serve_app(_echo_app())
    door = serve_app(FrontDoor(_tagging_handler(seen), primary.url))
    resp = httpx.post(
        door.url + "/items/a%2Fb?z=1&z=2&q=%20",
        content=b"hello",
        headers=[("x-multi", "1"), ("x-multi", "2")],
    )
    assert resp.status_code == 201
    assert resp.headers["x-origin"] == "echo"
    echo = resp.json()
    request_id = seen[0]["Records"][0]["cf"]["config"]["requestId"]
    headers = echo["headers"]
    assert ["x-shadow-correlation-id", request_id] in headers
    assert resp.headers["x-amz-cf-id"] == request_id
    assert [v for k, v in headers if k == "x-multi"] == ["1", "2"]
    assert echo["raw_path"] == "/items/a%2Fb"
    assert echo["query"] == "z=1&z=2&q=%20"
    assert echo["body"] == "hello"
    assert seen[0]["Records"][0]["cf"]["request"]["uri"] == "/items/a%2Fb"


def test_a_response_from_the_handler_is_the_answer(serve_app):
    def deny(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {
            "status": "403",
            "statusDescription": "Forbidden",
            "headers": {"x-why": [{"key": "X-Why", "value": "edge"}]},
            "body": base64.b64encode(b"no").decode(),
            "bodyEncoding": "base64",
        }

    door = serve_app(FrontDoor(deny, "http://127.0.0.1:9"))
    resp = httpx.get(door.url + "/anything")
    assert (resp.status_code, resp.text, resp.headers["x-why"]) == (403, "no", "edge")


def test_a_failing_handler_answers_503_like_cloudfront(serve_app):
    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    door = serve_app(FrontDoor(broken, "http://127.0.0.1:9"))
    resp = httpx.get(door.url + "/")
    assert resp.status_code == 503
    assert "boom" in resp.text


def test_an_unreachable_primary_answers_502(serve_app):
    dead = f"http://127.0.0.1:{free_port()}"
    door = serve_app(FrontDoor(_tagging_handler([]), dead))
    resp = httpx.get(door.url + "/users/1")
    assert resp.status_code == 502
    assert dead in resp.text


def test_the_edge_reads_our_event_as_the_viewer_sent_it():
    event = _event(body=b"x" * (VIEWER_BODY_LIMIT + 5))
    parsed = edge_event.parse(event)
    assert (parsed.method, parsed.uri, parsed.querystring) == ("POST", "/orders", "a=1&a=2&b=%20x")
    assert parsed.request_id == event["Records"][0]["cf"]["config"]["requestId"]
    assert parsed.body == b"x" * VIEWER_BODY_LIMIT
    assert parsed.body_truncated is True
    assert [v for k, v in parsed.headers if k.lower() == "x-multi"] == ["1", "2"]


class _Recorder:
    """An ASGI app that answers 202 and remembers what it got (a stand-in mirror target)."""

    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.got.append(
            {
                "method": scope["method"],
                "uri": scope["raw_path"].decode(),
                "query": scope["query_string"].decode(),
                "headers": headers,
                "body": body,
            }
        )
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def test_with_the_real_edge_handler_mirror_and_primary_share_one_signed_correlation_id(
    serve_app,
):
    target = _Recorder()
    target_server = serve_app(target)
    primary = serve_app(_echo_app())
    config = {
        "targets": [{"url": target_server.url, "role": "shadow", "sample_rate": 1.0}],
        "budget_ms": 2000,
        "signing_secret": "s3cret",
    }
    door = serve_app(FrontDoor(make_handler(config), primary.url))
    resp = httpx.post(
        door.url + "/orders?b=2&a=1",
        content=b'{"qty": 5}',
        headers={"x-shadow-correlation-id": "forged-by-the-viewer"},
    )
    assert resp.status_code == 201
    cid = resp.headers["x-amz-cf-id"]
    primary_headers = dict(resp.json()["headers"])
    assert primary_headers["x-shadow-correlation-id"] == cid
    (mirror,) = target.got
    h = mirror["headers"]
    assert (mirror["method"], mirror["uri"], mirror["query"], mirror["body"]) == (
        "POST",
        "/orders",
        "b=2&a=1",
        b'{"qty": 5}',
    )
    assert (h["x-shadow-correlation-id"], h["x-shadow-role"]) == (cid, "shadow")
    assert h["x-forwarded-host"] == door.url.removeprefix("http://")
    reason = signing.verify(
        "s3cret",
        timestamp=h.get(signing.TIMESTAMP_HEADER),
        signature=h.get(signing.SIGNATURE_HEADER),
        correlation_id=cid,
        method="POST",
        uri="/orders",
        query="b=2&a=1",
        body=b'{"qty": 5}',
        now=time.time(),
    )
    assert reason is None


def _gzip_app(payload: bytes) -> Any:
    """A primary that answers with a gzip-encoded body and a redirect on /old."""
    encoded = gzip.compress(payload)

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        if scope["path"] == "/old":
            headers = [(b"location", b"/new"), (b"content-length", b"0")]
            await send({"type": "http.response.start", "status": 301, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [
            (b"content-type", b"application/octet-stream"),
            (b"content-encoding", b"gzip"),
            (b"content-length", str(len(encoded)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for start in range(0, len(encoded), 100_000):  # in pieces, as a real origin streams
            chunk = encoded[start : start + 100_000]
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return app


def test_the_answer_streams_back_byte_for_byte_still_encoded(serve_app):
    payload = os.urandom(1_500_000)
    primary = serve_app(_gzip_app(payload))
    door = serve_app(FrontDoor(_tagging_handler([]), primary.url))
    with httpx.stream("GET", door.url + "/big") as resp:
        raw = b"".join(resp.iter_raw())
    assert resp.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == payload


def test_redirects_go_back_to_the_viewer_unfollowed(serve_app):
    primary = serve_app(_gzip_app(b""))
    door = serve_app(FrontDoor(_tagging_handler([]), primary.url))
    resp = httpx.get(door.url + "/old", follow_redirects=False)
    assert (resp.status_code, resp.headers["location"]) == (301, "/new")


def test_a_handler_that_returns_neither_shape_answers_502(serve_app):
    door = serve_app(FrontDoor(lambda event, context: None, "http://127.0.0.1:9"))
    resp = httpx.get(door.url + "/")
    assert resp.status_code == 502
    assert "no request or response" in resp.text
