"""``/healthz`` and ``/metrics``: on the admin port always, on the main port when not mirrored.

A mirrored or tapped request carries the correlation header and goes to the
upstream even for these paths (the app's own ``/metrics`` must still answer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from collector.asgi_io import respond
from collector.metrics import CONTENT_TYPE, Metrics
from collector.mirroring import Mirrors
from collector.sinks import BaseSink

CONTROL_PATHS = frozenset({"/healthz", "/metrics"})


class ControlRoutes:
    """Answers the collector's own routes from what it is shown; never forwarded."""

    def __init__(
        self,
        role: str,
        sink: BaseSink,
        metrics: Metrics,
        pending: Callable[[], int],
        mirrors: Mirrors | None = None,
    ) -> None:
        self.role, self.sink, self.metrics = role, sink, metrics
        self.pending, self.mirrors = pending, mirrors

    async def control(self, path: str, send: Any) -> None:
        if path == "/healthz":
            body = orjson.dumps(
                {
                    "status": "ok",
                    "role": self.role,
                    "sink": self.sink.name,
                    "queue_depth": self.sink.depth(),
                    "spooled_batches": self.sink.spooled_batches(),
                    "pending_mirrors": self.pending(),
                    "queued_mirrors": self.mirrors.queued() if self.mirrors else 0,
                }
            )
            await respond(send, 200, body)
        elif path == "/metrics":
            await respond(
                send, 200, self.metrics.render(), [(b"content-type", CONTENT_TYPE.encode())]
            )
        else:
            await respond(send, 404, b'{"error":"not found"}')
