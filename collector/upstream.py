"""The one pooled HTTP client to ``--upstream``, and what its failures are called.

The request target is always the configured origin plus the path as received:
the URL is built from parts (never parsed from the request), so an
absolute-form or ``//host`` request target cannot send it anywhere else — the
collector is not an open proxy. Redirects are never followed, response bodies
are never decompressed (they are passed on and stored as received), and the
client adds no headers of its own.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import aiohttp
from yarl import URL

from shadowdiff.record import ErrorKind

_SKIP_AUTO = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")


async def _on_headers_sent(_session: Any, ctx: Any, _params: Any) -> None:
    holder = ctx.trace_request_ctx
    if holder is not None:
        holder.sent = time.perf_counter()


class Upstream:
    def __init__(
        self, origin: str, base_path: str, *, timeout: float, max_concurrency: int
    ) -> None:
        parsed = URL(origin)
        self.scheme = parsed.scheme
        self.host = parsed.raw_host or ""
        self.port = parsed.port
        self.host_header = parsed.raw_authority
        self.base_path = base_path
        self.timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 10.0))
        self.max_concurrency = max_concurrency
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        trace = aiohttp.TraceConfig()
        trace.on_request_headers_sent.append(_on_headers_sent)
        connector = aiohttp.TCPConnector(
            limit=self.max_concurrency, ttl_dns_cache=300, enable_cleanup_closed=True
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            timeout=self.timeout,
            auto_decompress=False,
            skip_auto_headers=_SKIP_AUTO,
            trace_configs=[trace],
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    def url(self, raw_path: str, query: str) -> URL:
        return URL.build(
            scheme=self.scheme,
            host=self.host,
            port=self.port,
            path=self.base_path + raw_path,
            query_string=query,
            encoded=True,
        )

    async def open(
        self,
        method: str,
        raw_path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        timing: SimpleNamespace,
    ) -> aiohttp.ClientResponse:
        """Send the request; the caller reads and releases the response."""
        assert self.session is not None, "Upstream.start() was not awaited"
        return await self.session.request(
            method,
            self.url(raw_path, query),
            headers=headers,
            data=body if body or method not in ("GET", "HEAD", "OPTIONS", "DELETE") else None,
            allow_redirects=False,
            trace_request_ctx=timing,
        )


def classify(exc: BaseException) -> tuple[ErrorKind, str]:
    """An upstream failure as the contract's ``error.kind`` and a short message."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return "timeout", f"no complete response within the upstream timeout ({message})"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "connect", message
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "upstream_closed", message
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return "protocol", message
    if isinstance(exc, aiohttp.ClientOSError | ConnectionError):
        return "upstream_closed", message
    return "other", message
