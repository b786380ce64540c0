"""One replayed request to one target, and its answer as a ``shadowdiff.capture/1`` record.

Sending reuses the collector's upstream client (keep-alive pool, redirects never
followed, bodies never decoded, a deadline over the whole exchange) and the
record is built by the collector's :class:`~collector.capture.RecordBuilder`
(header redaction, body truncation at 256 KiB, size and SHA-256 of the whole
body), so a replayed answer is recorded exactly as a shadow collector would
record it. The ``--set-header`` names are redacted too: a test token is sent,
never stored. Any failure becomes an error record (``error.kind``); nothing a
target does can stop the replay.
"""

from __future__ import annotations

import time

from collector.capture import BodyTap, Exchange, RecordBuilder
from collector.client import Upstream, UpstreamError, classify
from collector.headers import response_record_headers
from shadowdiff.model.record import DEFAULT_BODY_LIMIT, CaptureRecord, Role
from shadowdiff.model.timefmt import now_utc
from shadowdiff.replay.prepare import Prepared
from shadowdiff.replay.settings import ReplaySettings, TargetSpec


class Target:
    """A target's connection pool and record builder, for the whole replay."""

    def __init__(self, spec: TargetSpec, settings: ReplaySettings) -> None:
        self.spec = spec
        self.role: Role = "secondary" if spec.role == "secondary" else "shadow"
        self.upstream = Upstream(
            spec.origin,
            spec.base_path,
            timeout=settings.timeout,
            max_concurrency=settings.concurrency,
        )
        self.host = [] if "host" in settings.set_names else [("host", self.upstream.host_header)]
        self.builder = RecordBuilder(
            body_limit=DEFAULT_BODY_LIMIT,
            deployment=settings.deployment,
            redact_headers=settings.set_names,
            redact_json_fields=(),
        )

    async def start(self) -> None:
        await self.upstream.start()

    async def close(self) -> None:
        await self.upstream.close()

    async def probe(self) -> None:
        """Raise UpstreamError when the target cannot be connected to at all."""
        await self.upstream.probe()

    async def replay(self, req: Prepared) -> CaptureRecord:
        """Send ``req`` and return the record of what came back (an error record on failure)."""
        ex = Exchange(
            role=self.role,
            correlation_id=req.correlation_id,
            received_at=now_utc(),
            method=req.method,
            path=req.path,
            query=req.query,
            request_headers=[*req.headers, *self.host],
            request_body=req.body,
        )
        try:
            await self._exchange(ex)
        except (UpstreamError, OSError) as exc:
            ex.error_kind, ex.error_message = classify(exc)
        except Exception as exc:  # a target must never crash the run: record it instead
            ex.error_kind, ex.error_message = "other", f"{type(exc).__name__}: {exc}"
        return self.builder.record(ex)

    async def _exchange(self, ex: Exchange) -> None:
        tap = BodyTap(self.builder.body_limit)
        t0 = time.perf_counter()
        resp = await self.upstream.open(
            ex.method, ex.path, ex.query, ex.request_headers, ex.request_body
        )
        try:
            whole = resp.take_all()  # a small answer is usually complete already
            if whole is None:
                async for chunk in resp.iter_chunks():
                    tap.feed(chunk)
            else:
                tap.feed(whole)
            end = resp.ended_at or time.perf_counter()
        finally:
            resp.release()
        ex.status = resp.status
        ex.response_headers = response_record_headers(resp.raw_headers)
        ex.response_body = tap
        ex.latency_ms = (end - (resp.sent_at or t0)) * 1000.0
