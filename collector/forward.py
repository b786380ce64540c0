"""Forwarding to the upstream and capturing the exchange: the primary tap's path, and the mirrors'.

The upstream's answer is streamed back unchanged when there is a client to
answer (primary, or a mirror with ``--wait``); the record is built and queued
only after the response has gone, so capture never sits on the response path.
A failure becomes an error record and, if nothing was sent yet, a 502/504.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson

from collector.asgi_io import respond
from collector.capture import BodyTap, Exchange, RecordBuilder
from collector.client import Upstream, UpstreamError, classify
from collector.headers import response_headers_out, response_record_headers
from collector.metrics import Metrics
from collector.settings import CollectorSettings
from collector.sinks import BaseSink, Item
from shadowdiff.model.layout import partition_dir

log = logging.getLogger("shadowdiff.collector")
_UPSTREAM_ERRORS = (UpstreamError, OSError)


class Forwarder:
    """Sends one request upstream, hands the answer back, and captures the exchange.

    It owns the way to the app (``upstream``, its pool, the concurrency bound)
    and the way to the sink (the record builder), so both are found here.
    """

    def __init__(
        self,
        settings: CollectorSettings,
        sink: BaseSink,
        metrics: Metrics,
        upstream: Upstream | None = None,
    ) -> None:
        self.sink = sink
        self.metrics = metrics
        self.body_limit = settings.body_limit
        self.upstream = upstream or Upstream(
            settings.upstream,
            settings.upstream_base_path,
            timeout=settings.upstream_timeout,
            max_concurrency=settings.max_concurrency,
        )
        self.builder = RecordBuilder(
            body_limit=settings.body_limit,
            deployment=settings.deployment,
            redact_headers=settings.redact_headers,
            redact_json_fields=settings.redact_json_fields,
        )
        self.max_concurrency = settings.max_concurrency
        self.semaphore: asyncio.Semaphore | None = None
        self._hour: tuple[int, int, int, int] | None = None
        self._partition = ""

    async def start(self) -> None:
        self.semaphore = asyncio.Semaphore(self.max_concurrency)
        await self.upstream.start()

    async def close(self) -> None:
        await self.upstream.close()

    async def forward(
        self,
        method: str,
        raw_path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        ex: Exchange | None,
        send: Any,
    ) -> None:
        """Send upstream; stream the answer to ``send`` when given; capture into ``ex``."""
        assert self.semaphore is not None
        tap = BodyTap(self.body_limit) if ex is not None else None
        started = False
        async with self.semaphore:
            self.metrics.forwarded.inc()
            t0 = time.perf_counter()
            try:
                resp = await self.upstream.open(method, raw_path, query, headers, body)
            except _UPSTREAM_ERRORS as exc:
                await self._failed(exc, ex, send, started)
                return
            except asyncio.CancelledError:
                self._cancelled(ex)
                raise
            try:
                if send is not None:
                    await send(
                        {
                            "type": "http.response.start",
                            "status": resp.status,
                            "headers": response_headers_out(resp.raw_headers),
                        }
                    )
                    started = True
                last = resp.take_all()  # the whole answer is often here already: one send
                if last is None:
                    last = b""
                    async for chunk in resp.iter_chunks():
                        if tap is not None:
                            tap.feed(chunk)
                        if send is not None:
                            await send(
                                {"type": "http.response.body", "body": chunk, "more_body": True}
                            )
                elif tap is not None:
                    tap.feed(last)
                end = resp.ended_at or time.perf_counter()
            except _UPSTREAM_ERRORS as exc:
                await self._failed(exc, ex, send, started)
                return
            except asyncio.CancelledError:
                self._cancelled(ex)
                raise
            finally:
                resp.release()
        if send is not None:
            await send({"type": "http.response.body", "body": last, "more_body": False})
        if ex is not None:
            ex.status = resp.status
            ex.response_headers = response_record_headers(resp.raw_headers)
            ex.response_body = tap
            ex.latency_ms = (end - (resp.sent_at or t0)) * 1000.0
            self.capture(ex)

    async def _failed(
        self, exc: BaseException, ex: Exchange | None, send: Any, started: bool
    ) -> None:
        kind, message = classify(exc)
        self.metrics.upstream_error(kind)
        if ex is not None:
            ex.error_kind, ex.error_message = kind, message
            self.capture(ex)
        if send is not None and not started:
            status = 504 if kind == "timeout" else 502
            await respond(send, status, orjson.dumps({"error": f"upstream {kind}"}))
        # Started: return without finishing the response, so the server aborts the
        # connection and the client sees a failure rather than a short body.

    def _cancelled(self, ex: Exchange | None) -> None:
        if ex is not None:
            ex.error_kind, ex.error_message = (
                "other",
                "collector shut down before the upstream answered",
            )
            self.capture(ex)

    def capture(self, ex: Exchange) -> None:
        try:
            line = self.builder.record(ex).to_line()
        except Exception:
            log.exception("could not build the record for %s", ex.correlation_id)
            self.metrics.dropped("encode_failed")
            return
        at = ex.received_at
        hour = (at.year, at.month, at.day, at.hour)
        if hour != self._hour:
            self._hour, self._partition = hour, partition_dir(ex.role, at)
        item = Item(line=line, key=ex.correlation_id, partition=self._partition)
        if self.sink.submit(item):
            self.metrics.records_captured.inc()
