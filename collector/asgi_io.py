"""Reading a whole request body within a limit, and sending a small complete answer.

Straight ASGI messages, no request or response objects: these two run on every
request, and the hot path is the product (see ``collector.app``).
"""

from __future__ import annotations

from typing import Any

TOO_LARGE = object()
JSON_HEADERS = [(b"content-type", b"application/json")]


async def respond(send: Any, status: int, body: bytes = b"", headers: Any = JSON_HEADERS) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Any, limit: int | None) -> Any:
    """The whole request body; None when the client went away, TOO_LARGE over ``limit``."""
    message = await receive()
    if message["type"] == "http.disconnect":
        return None
    body = message.get("body", b"")
    if not message.get("more_body"):
        return TOO_LARGE if limit is not None and len(body) > limit else body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return TOO_LARGE
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)
