"""The upstream's answer as the app sees it: status and headers first, the body as it arrives.

The body is handed on chunk by chunk (or whole, when it is already complete,
so that a small answer costs one write); ``release`` gives the connection back
to the pool or closes it, whichever the exchange left it fit for.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from collector.connection import HIGH_WATER, Connection
from collector.upstream_errors import UpstreamError

if TYPE_CHECKING:
    from collector.client import Upstream


class Response:
    """The upstream's answer: status and raw headers at once, the body as it arrives."""

    __slots__ = (
        "buffered", "chunks", "conn", "done", "ended_at", "error", "got_bytes", "head_only",
        "keep_alive", "paused", "pool", "raw_headers", "sent_at", "status", "timer", "until_close",
        "waiter", "whole",
    )  # fmt: skip

    def __init__(self, conn: Connection, pool: Upstream, head_only: bool) -> None:
        self.conn = conn
        self.pool = pool
        self.head_only = head_only
        self.status: int | None = None
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.paused = False
        self.done = False
        self.until_close = False
        self.keep_alive = False
        self.got_bytes = False
        self.error: UpstreamError | None = None
        self.ended_at = 0.0
        self.sent_at = 0.0
        self.whole = False
        self.waiter: asyncio.Future[None] | None = None
        self.timer: asyncio.TimerHandle | None = None

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def fail(self, error: UpstreamError) -> None:
        if not self.done:
            self.error = error
            self.done = True
            self.wake()

    async def _wait(self) -> None:
        self.waiter = self.conn.loop.create_future()
        await self.waiter
        self.waiter = None

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """The body, chunk by chunk as received; raises UpstreamError if it breaks off."""
        chunks = self.chunks
        while True:
            while chunks:
                chunk = chunks.popleft()
                self.buffered -= len(chunk)
                if self.paused and self.buffered < HIGH_WATER // 2:
                    self.paused = False
                    self.conn.transport.resume_reading()
                yield chunk
            if self.error is not None:
                raise self.error
            if self.done:
                return
            await self._wait()

    def take_all(self) -> bytes | None:
        """The whole body when the answer is already complete, else None."""
        if not self.done or self.error is not None:
            return None
        body = b"".join(self.chunks)
        self.chunks.clear()
        self.buffered = 0
        return body

    def release(self) -> None:
        """Give the connection back to the pool (or close it) and stop the deadline."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        conn = self.conn
        if conn.exchange is not self:
            return
        conn.exchange = None
        if self.done and self.error is None and self.keep_alive and not conn.closed:
            if self.paused:
                conn.transport.resume_reading()
            self.pool.put_back(conn)
        elif not conn.closed:
            conn.closed = True
            conn.transport.close()
