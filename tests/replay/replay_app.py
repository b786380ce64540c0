"""A small app for the replay tests, in two versions, run as its own uvicorn process.

    python replay_app.py --version v1|v2 --port N

What v2 changed (the planted differences a replay report must find):
``GET /users/{id}``: ``tier`` is ``"silver"`` where v1 says ``"gold"`` (ids divisible by 3);
``GET /items/{id}``: 500 for ids divisible by 5. Both versions put a fresh ``request_id``
and ``served_at`` in every body: the noise a secondary copy must explain.

Test plumbing: ``/echo`` answers with what it was sent; ``/quick`` at once; ``/gate``
holds each request until ``GATE`` requests are in flight together or ``GATE_SECONDS``
pass, and says which (``opened_by``);
``/hang`` never answers in time; ``/_stats`` gives the arrival order and the most
requests seen in flight at once; ``/_reset`` clears them.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import time
import uuid

import orjson

GATE = 3
GATE_SECONDS = 2.0
STATS: dict[str, object] = {"arrivals": [], "max_inflight": 0}
STATE = {"inflight": 0}


async def _send(send, status, body, headers=()):
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head + list(headers)})
    await send({"type": "http.response.body", "body": body})


def make_app(version: str):
    gate_open = asyncio.Event()

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                await send({"type": msg["type"] + ".complete"})
                if msg["type"] == "lifespan.shutdown":
                    return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        path = scope["path"]
        if path == "/_stats":
            await _send(send, 200, orjson.dumps(STATS))
            return
        if path == "/_reset":
            STATS.update(arrivals=[], max_inflight=0)
            gate_open.clear()
            await _send(send, 200, b"{}")
            return
        STATS["arrivals"].append(
            path + ("?" + scope["query_string"].decode() if scope["query_string"] else "")
        )
        STATE["inflight"] += 1
        STATS["max_inflight"] = max(STATS["max_inflight"], STATE["inflight"])
        try:
            await _route(version, scope, body, send, gate_open)
        finally:
            STATE["inflight"] -= 1

    return app


async def _route(version, scope, body, send, gate_open):
    path = scope["path"]
    parts = path.strip("/").split("/")
    noise = {"request_id": str(uuid.uuid4()), "served_at": time.time()}
    if parts[0] == "users" and len(parts) == 2:
        uid = int(parts[1])
        tier = (
            "silver" if version == "v2" and uid % 3 == 0 else ("gold" if uid % 3 == 0 else "bronze")
        )
        await _send(send, 200, orjson.dumps({"id": uid, "tier": tier, **noise}))
    elif parts[0] == "items" and len(parts) == 2:
        iid = int(parts[1])
        if version == "v2" and iid % 5 == 0:
            await _send(send, 500, orjson.dumps({"error": "boom", **noise}))
        else:
            await _send(send, 200, orjson.dumps({"id": iid, "price": iid * 1.5, **noise}))
    elif path == "/echo":
        echo = {
            "method": scope["method"],
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query": scope["query_string"].decode("latin-1"),
            "headers": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in scope["headers"]],
            "body_b64": base64.b64encode(body).decode(),
        }
        await _send(send, 200, orjson.dumps(echo))
    elif path == "/redirect":
        await _send(send, 302, b"{}", [(b"location", b"/elsewhere")])
    elif path == "/gate":
        if STATE["inflight"] >= GATE:
            gate_open.set()
        opened_by = "gate"
        try:
            await asyncio.wait_for(gate_open.wait(), GATE_SECONDS)
        except TimeoutError:
            opened_by = "timeout"
        await _send(send, 200, orjson.dumps({"opened_by": opened_by}))
    elif path == "/hang":
        await asyncio.sleep(30)
        await _send(send, 200, b"{}")
    else:
        await _send(send, 200, orjson.dumps({"path": path, "version": version}))


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--version", choices=("v1", "v2"), required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(make_app(args.version), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
