"""A small upstream app for the collector tests, run as its own uvicorn process.

It answers what the tests need to see from the far side of the collector: what
it was sent (``/echo``), how often (``/_hits``), and the awkward answers
(compressed, binary, huge, redirecting, hanging, cut-off).
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import sys

import orjson

HITS = {"n": 0}


async def _send(send, status, body=b"", headers=None):
    headers = list(headers or [(b"content-type", b"application/json")])
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    body = b""
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            return
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            break
    if path == "/_hits":
        await _send(send, 200, orjson.dumps(HITS))
        return
    if path == "/_reset":
        HITS["n"] = 0
        await _send(send, 200, b"{}")
        return
    HITS["n"] += 1
    if path == "/gzip":
        data = gzip.compress(orjson.dumps({"compressed": True, "n": list(range(50))}))
        await _send(
            send,
            200,
            data,
            [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")],
        )
    elif path == "/binary":
        await _send(
            send, 200, bytes(range(256)) * 4, [(b"content-type", b"application/octet-stream")]
        )
    elif path == "/big":
        await _send(send, 200, b"x" * 300_000, [(b"content-type", b"text/plain")])
    elif path == "/redirect":
        await _send(send, 302, b"", [(b"location", b"/elsewhere")])
    elif path == "/hang":
        await asyncio.sleep(60)
        await _send(send, 200, b"late")
    elif path == "/slow":
        await asyncio.sleep(0.5)
        await _send(send, 200, b'{"slow":true}')
    elif path == "/secret":
        await _send(
            send,
            200,
            orjson.dumps({"user": {"name": "a", "password": "hunter2"}, "ok": True}),
            [(b"content-type", b"application/json"), (b"set-cookie", b"s=1"), (b"x-app", b"1")],
        )
    elif path == "/chunked":
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [
                    (b"content-type", b"text/plain"),
                    (b"x-multi", b"a"),
                    (b"x-multi", b"b"),
                ],
            }
        )
        for i in range(5):
            await send(
                {"type": "http.response.body", "body": f"part{i};".encode(), "more_body": True}
            )
        await send({"type": "http.response.body", "body": b""})
    elif path == "/cutoff":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"1000")],
            }
        )
        await send({"type": "http.response.body", "body": b"y" * 10, "more_body": True})
        raise RuntimeError("cut off on purpose")
    else:
        echo = {
            "method": scope["method"],
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query": scope["query_string"].decode("latin-1"),
            "headers": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in scope["headers"]],
            "body_b64": base64.b64encode(body).decode(),
        }
        await _send(send, 200, orjson.dumps(echo))


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        loop="uvloop",
        http="httptools",
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
