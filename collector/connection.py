"""One keep-alive connection to the upstream: the asyncio protocol and httptools' callbacks.

httptools (llhttp) parses the answers as it parses the requests on the server
side; the callbacks fill the connection's current ``Response`` and wake its
reader. Flow control lives here too: past ``HIGH_WATER`` buffered bytes the
socket stops being read until the caller has taken the body.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import httptools

from collector.upstream_errors import UpstreamError

if TYPE_CHECKING:
    from collector.response import Response

HIGH_WATER = 1024 * 1024
WHOLE_BODY = 64 * 1024


class Connection(asyncio.Protocol):
    """One keep-alive connection; holds at most one exchange at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: Any = None
        self.closed = False
        self.idle_since = 0.0
        self.parser: Any = None
        self.exchange: Response | None = None

    # ---- asyncio.Protocol
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        resp = self.exchange
        if resp is None or resp.done:
            return
        if resp.status is not None and resp.until_close:
            self.on_message_complete()  # a body delimited by the end of the connection
            return
        what = "before answering" if resp.status is None else "in the middle of the body"
        resp.fail(UpstreamError("upstream_closed", f"upstream closed the connection {what}"))

    def data_received(self, data: bytes) -> None:
        resp = self.exchange
        if resp is None or resp.done:
            return  # stray bytes after a HEAD answer or a finished exchange
        resp.got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            resp.fail(UpstreamError("protocol", f"bad HTTP from upstream: {exc}"))
            self.transport.close()

    # ---- httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.exchange is not None
        self.exchange.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        resp = self.exchange
        assert resp is not None
        status = self.parser.get_status_code()
        if 100 <= status < 200:
            return  # interim answer: the real one follows
        resp.status = status
        length: int | None = None
        chunked = False
        for name, value in resp.raw_headers:
            lower = name.lower()
            if lower == b"content-length":
                length = int(value) if value.strip().isdigit() else None
            elif lower == b"transfer-encoding":
                chunked = True
        resp.until_close = (
            length is None and not chunked and status not in (204, 304) and not resp.head_only
        )
        # A small body of known length is awaited whole before the caller goes on:
        # one hand-off and one write to the client instead of three.
        resp.whole = length is not None and length <= WHOLE_BODY
        resp.wake()
        if resp.head_only:
            self.on_message_complete()

    def on_body(self, body: bytes) -> None:
        resp = self.exchange
        assert resp is not None
        resp.chunks.append(body)
        resp.buffered += len(body)
        if resp.buffered > HIGH_WATER and not resp.paused:
            resp.paused = True
            self.transport.pause_reading()
        resp.wake()

    def on_message_complete(self) -> None:
        resp = self.exchange
        if resp is None or resp.done:
            return
        if resp.status is None:
            resp.raw_headers.clear()  # end of a 1xx: keep waiting
            return
        resp.ended_at = time.perf_counter()
        resp.keep_alive = not resp.head_only and bool(self.parser.should_keep_alive())
        resp.done = True
        resp.wake()

    def timed_out(self) -> None:
        resp = self.exchange
        if resp is not None and not resp.done:
            resp.fail(UpstreamError("timeout", "no complete answer within the upstream timeout"))
        self.closed = True
        self.transport.abort()
