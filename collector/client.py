"""A lean pooled HTTP/1.1 client for the one upstream, on asyncio + httptools.

Why not aiohttp: measured on the collector's hot path, aiohttp's client spent
~150 µs of CPU per request on sessions, tracing, header multidicts and
helpers; this client does what the collector needs (one origin, keep-alive
pool, raw headers in and out, bodies streamed as received, a total deadline)
in a fraction of that. httptools (llhttp) parses the responses, as it parses
the requests on the server side.

Rules kept here: the request target is built from the configured origin and
the received path only (not an open proxy); redirects are not followed; bodies
are never decoded; the client adds only ``Content-Length``. A reused
connection that turns out to be closed before any byte of the answer arrives
is retried once on a fresh connection, for idempotent methods only.

This module is the pool and the request side; one connection and its parser
are in ``connection``, the answer in ``response``, failures in ``upstream_errors``.
"""

from __future__ import annotations

import asyncio
import ssl
import time

import httptools

from collector.connection import Connection
from collector.response import Response
from collector.upstream_errors import UpstreamError, classify

__all__ = ["IDEMPOTENT", "Response", "Upstream", "UpstreamError", "classify"]

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_IDLE_SECONDS = 4.0  # below the common 5 s server keep-alive timeout (uvicorn's default)


class Upstream:
    """The pool of connections to ``--upstream``; one per app."""

    def __init__(
        self, origin: str, base_path: str, *, timeout: float, max_concurrency: int
    ) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(origin)
        self.scheme = parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.host_header = parts.netloc
        self.base_path = base_path
        self.timeout = timeout
        self.connect_timeout = min(timeout, 10.0)
        self.max_idle = max_concurrency
        self.idle: list[Connection] = []
        self.ssl: ssl.SSLContext | None = (
            ssl.create_default_context() if parts.scheme == "https" else None
        )
        self.loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()

    async def close(self) -> None:
        while self.idle:
            conn = self.idle.pop()
            if not conn.closed:
                conn.transport.close()

    async def probe(self) -> None:
        """Open one connection now (kept for the first request); UpstreamError when unreachable.

        For callers that must refuse an unreachable upstream up front (``shadowdiff
        replay``) rather than record an error for every request.
        """
        self.put_back(await self._connect())

    def put_back(self, conn: Connection) -> None:
        if len(self.idle) < self.max_idle:
            conn.idle_since = time.monotonic()
            self.idle.append(conn)
        else:
            conn.closed = True
            conn.transport.close()

    async def _connect(self) -> Connection:
        loop = self.loop
        assert loop is not None, "Upstream.start() was not awaited"
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(
                    lambda: Connection(loop),
                    self.host,
                    self.port,
                    ssl=self.ssl,
                    server_hostname=self.host if self.ssl else None,
                ),
                self.connect_timeout,
            )
        except TimeoutError as exc:
            raise UpstreamError("connect", f"connect to {self.host_header} timed out") from exc
        except OSError as exc:
            raise UpstreamError(
                "connect", f"connect to {self.host_header}: {exc.strerror or exc}"
            ) from exc
        return conn

    def _reuse(self) -> Connection | None:
        now = time.monotonic()
        while self.idle:
            conn = self.idle.pop()
            if not conn.closed and now - conn.idle_since < _IDLE_SECONDS:
                return conn
            if not conn.closed:
                conn.closed = True
                conn.transport.close()
        return None

    def request_bytes(
        self, method: str, raw_path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> bytes:
        target = self.base_path + raw_path + ("?" + query if query else "")
        lines = [f"{method} {target} HTTP/1.1"]
        lines.extend(f"{n}: {v}" for n, v in headers)
        if body or method in _BODY_METHODS:
            lines.append(f"content-length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + body if body else head

    async def open(
        self,
        method: str,
        raw_path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> Response:
        """Send the request and wait for the status line and headers."""
        return await self.send(method, self.request_bytes(method, raw_path, query, headers, body))

    async def send(self, method: str, data: bytes) -> Response:
        """Send a whole request already in wire form; the answer as ``open`` gives it.

        The tap's mirrors come ready-made (the edge's own bytes and signature),
        so they skip ``request_bytes``.
        """
        conn = self._reuse()
        reused = conn is not None
        try:
            return await self._exchange(conn or await self._connect(), method, data)
        except UpstreamError as exc:
            if not (reused and exc.kind == "upstream_closed" and method in IDEMPOTENT):
                raise
            if getattr(exc, "got_bytes", True):
                raise
        return await self._exchange(await self._connect(), method, data)

    async def _exchange(self, conn: Connection, method: str, data: bytes) -> Response:
        assert self.loop is not None
        resp = Response(conn, self, head_only=method == "HEAD")
        conn.exchange = resp
        conn.parser = httptools.HttpResponseParser(conn)
        resp.timer = self.loop.call_later(self.timeout, conn.timed_out)
        if conn.closed:
            resp.release()
            error = UpstreamError("upstream_closed", "upstream closed the idle connection")
            error.got_bytes = False  # type: ignore[attr-defined]
            raise error
        conn.transport.write(data)
        resp.sent_at = time.perf_counter()  # first byte handed to the socket
        while not resp.done and (resp.status is None or resp.whole):
            try:
                await resp._wait()
            except BaseException:
                resp.release()
                raise
        if resp.status is None:
            resp.release()
            error = resp.error or UpstreamError("protocol", "no answer from upstream")
            error.got_bytes = resp.got_bytes  # type: ignore[attr-defined]
            raise error
        return resp
