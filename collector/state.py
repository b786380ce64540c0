"""What a collector app holds: settings, sink, metrics, the upstream pool, the record builder
and, for a tap that is the mirror source, its mirrors.

Built once from the typed settings; the request path (``ingress``), the
forwarding and capture (``forward``) and the control routes (``control``) are
mixins over this state, so each reads the same attributes without passing them.
"""

from __future__ import annotations

import asyncio

from collector.capture import RecordBuilder
from collector.client import Upstream
from collector.metrics import Metrics
from collector.mirroring import Mirrors
from collector.settings import CollectorSettings
from collector.sinks import BaseSink


class AppState:
    """Everything the request path reads, built once per app from the settings."""

    def __init__(
        self,
        settings: CollectorSettings,
        sink: BaseSink,
        metrics: Metrics | None = None,
        upstream: Upstream | None = None,
        mirrors: Mirrors | None = None,
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
        self.mirrors = mirrors  # the primary tap as mirror source (--mirror-config)
        self.role = settings.role
        self.mirror = settings.is_mirror
        self.cid_header = settings.correlation_header.encode("latin-1")
        self.host_header = self.upstream.host_header
        self.pending: set[asyncio.Task[None]] = set()
        self.semaphore: asyncio.Semaphore | None = None
        self._hour: tuple[int, int, int, int] | None = None
        self._partition = ""
