"""The collector's ASGI app: a plain ASGI callable, because the hot path is the product.

FastAPI/Starlette routing and request objects cost ~10x the CPU per request
that the proxy itself needs (see docs/collector.md), so requests are handled
straight from the ASGI scope. One pass over the headers finds the correlation
ID and the signature and builds the forwarded header list; the record is built
and queued after the response has gone.

- mirror roles (``shadow``/``secondary``): read the request, check the
  correlation header and the signature, answer 202, forward in a background
  task (``--wait``: answer with the upstream's response instead);
- ``primary``: forward and stream the upstream's answer back unchanged, capture
  off the response path; no correlation header means forwarded, not captured.

``/healthz`` and ``/metrics`` are answered on the main port only for requests
without the correlation header (a mirrored or tapped request for the app's own
``/metrics`` still reaches the app), and always on ``--admin-port``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson

from collector.capture import BodyTap, Exchange, RecordBuilder
from collector.client import Upstream, UpstreamError, classify
from collector.headers import response_headers_out, response_record_headers, split_request_headers
from collector.metrics import CONTENT_TYPE, Metrics
from collector.settings import CollectorSettings
from collector.sinks import BaseSink, Item
from edge.signing import verify
from shadowdiff.layout import partition_dir
from shadowdiff.timefmt import now_utc

log = logging.getLogger("shadowdiff.collector")
CONTROL_PATHS = frozenset({"/healthz", "/metrics"})
_TOO_LARGE = object()
_UPSTREAM_ERRORS = (UpstreamError, OSError)
_JSON = [(b"content-type", b"application/json")]


async def _respond(send: Any, status: int, body: bytes = b"", headers: Any = _JSON) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Any, limit: int | None) -> Any:
    """The whole request body; None when the client went away, _TOO_LARGE over ``limit``."""
    message = await receive()
    if message["type"] == "http.disconnect":
        return None
    body = message.get("body", b"")
    if not message.get("more_body"):
        return _TOO_LARGE if limit is not None and len(body) > limit else body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return _TOO_LARGE
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


class CollectorApp:
    def __init__(
        self,
        settings: CollectorSettings,
        sink: BaseSink,
        metrics: Metrics | None = None,
        upstream: Upstream | None = None,
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.metrics = metrics or sink.metrics
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
        self.role = settings.role
        self.mirror = settings.is_mirror
        self.cid_header = settings.correlation_header.encode("latin-1")
        self.host_header = self.upstream.host_header
        self.pending: set[asyncio.Task[None]] = set()
        self.semaphore: asyncio.Semaphore | None = None
        self._hour: tuple[int, int, int, int] | None = None
        self._partition = ""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1003})

    # ------------------------------------------------------------ control
    async def control(self, path: str, send: Any) -> None:
        if path == "/healthz":
            body = orjson.dumps(
                {
                    "status": "ok",
                    "role": self.role,
                    "sink": self.sink.name,
                    "queue_depth": self.sink.depth(),
                    "spooled_batches": self.sink.spooled_batches(),
                    "pending_mirrors": len(self.pending),
                }
            )
            await _respond(send, 200, body)
        elif path == "/metrics":
            await _respond(
                send, 200, self.metrics.render(), [(b"content-type", CONTENT_TYPE.encode())]
            )
        else:
            await _respond(send, 404, b'{"error":"not found"}')

    # ------------------------------------------------------------ requests
    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        admin = self.settings.admin_port
        if admin is not None and scope.get("server") and scope["server"][1] == admin:
            await self.control(scope["path"], send)
            return
        received_at = now_utc()
        hdrs = split_request_headers(scope["headers"], self.cid_header)
        cid = hdrs.correlation_id
        if cid is None and scope["path"] in CONTROL_PATHS and scope["method"] in ("GET", "HEAD"):
            await self.control(scope["path"], send)
            return
        metrics = self.metrics
        metrics.received.inc()
        method = scope["method"]
        raw_path = (scope.get("raw_path") or scope["path"].encode("utf-8")).decode("latin-1")
        query = scope["query_string"].decode("latin-1")
        if self.mirror and cid is None:
            metrics.rejected("missing_correlation_id")
            await _respond(send, 400, b'{"error":"missing correlation header"}')
            return
        body = await _read_body(receive, self.settings.max_request_bytes if self.mirror else None)
        if body is None:
            metrics.rejected("client_disconnected")
            return
        if body is _TOO_LARGE:
            metrics.rejected("too_large")
            await _respond(send, 413, b'{"error":"request body too large"}')
            return
        secret = self.settings.signing_secret
        if self.mirror and secret:
            why = verify(
                secret,
                timestamp=hdrs.timestamp,
                signature=hdrs.signature,
                correlation_id=cid or "",
                method=method,
                uri=raw_path,
                query=query,
                body=body,
                now=time.time(),
            )
            if why is not None:
                metrics.rejected(f"signature_{why}")
                await _respond(send, 401, b'{"error":"bad signature"}')
                return
        forward = hdrs.forward
        forward.append(("host", self.host_header))
        if not hdrs.has_forwarded_host and hdrs.host:
            forward.append(("x-forwarded-host", hdrs.host))
        ex = None
        if cid is not None:
            ex = Exchange(
                role=self.role,
                correlation_id=cid,
                received_at=received_at,
                method=method,
                path=raw_path,
                query=query,
                request_headers=forward,
                request_body=body,
                edge_truncated=hdrs.edge_truncated,
            )
        else:
            metrics.uncaptured.inc()
        if not self.mirror or self.settings.wait:
            await self.forward(method, raw_path, query, forward, body, ex, send)
            return
        if len(self.pending) >= self.settings.max_pending:
            metrics.rejected("overloaded")
            await _respond(send, 503, b'{"error":"too many mirrors pending"}')
            return
        await _respond(send, 202, b"", [])
        task = asyncio.get_running_loop().create_task(
            self.forward(method, raw_path, query, forward, body, ex, None)
        )
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

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
        tap = BodyTap(self.settings.body_limit) if ex is not None else None
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
            await _respond(send, status, orjson.dumps({"error": f"upstream {kind}"}))
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

    # ------------------------------------------------------------ lifespan
    async def lifespan(self, receive: Any, send: Any) -> None:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await self.startup()
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
        if message["type"] == "lifespan.shutdown":
            await self.shutdown()
            await send({"type": "lifespan.shutdown.complete"})

    async def startup(self) -> None:
        self.semaphore = asyncio.Semaphore(self.settings.max_concurrency)
        await self.upstream.start()
        self.sink.start()

    async def shutdown(self, budget: float | None = None) -> None:
        """Finish in-flight mirrors, then flush the sink, within ``budget`` seconds."""
        budget = self.settings.grace_seconds * 0.6 if budget is None else budget
        deadline = time.monotonic() + budget
        if self.pending:
            log.info("waiting for %d in-flight mirrors", len(self.pending))
            _, late = await asyncio.wait(set(self.pending), timeout=budget / 2)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=1.0)
        await self.upstream.close()
        remaining = max(0.5, deadline - time.monotonic())
        await asyncio.get_running_loop().run_in_executor(None, self.sink.close, remaining)
