"""``/healthz`` and ``/metrics``: on the admin port always, on the main port when not mirrored.

A mirrored or tapped request carries the correlation header and goes to the
upstream even for these paths (the app's own ``/metrics`` must still answer).
"""

from __future__ import annotations

from typing import Any

import orjson

from collector.asgi_io import respond
from collector.metrics import CONTENT_TYPE
from collector.state import AppState

CONTROL_PATHS = frozenset({"/healthz", "/metrics"})


class ControlRoutes(AppState):
    """Answers the collector's own routes from its state; never forwarded."""

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
