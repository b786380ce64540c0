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

Composed, not inherited: the app holds an ``Ingress`` (the request path and
the mirror checks), which holds a ``Forwarder`` (the upstream pool, streaming
back, capture into the sink) and the ``ControlRoutes`` (the two routes), and
the tap's ``Mirrors`` when it is the mirror source; ``asgi_io`` has body
reading and small answers. This module is the ASGI entry and the lifespan.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from collector.client import Upstream
from collector.control import CONTROL_PATHS
from collector.forward import Forwarder
from collector.ingress import Ingress
from collector.metrics import Metrics
from collector.mirroring import Mirrors
from collector.settings import CollectorSettings
from collector.sinks import BaseSink

__all__ = ["CONTROL_PATHS", "CollectorApp"]

log = logging.getLogger("shadowdiff.collector")


class CollectorApp:
    """The ASGI callable uvicorn serves, composed once from the typed settings."""

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
        self.forwarder = Forwarder(settings, sink, self.metrics, upstream)
        self.mirrors = mirrors
        self.ingress = Ingress(settings, self.metrics, self.forwarder, mirrors)
        self.http = self.ingress.http

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1003})

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
        await self.forwarder.start()
        if self.mirrors is not None:
            await self.mirrors.start()
        self.sink.start()

    async def shutdown(self, budget: float | None = None) -> None:
        """Finish in-flight mirrors (and the tap's queued ones), then flush the sink.

        All within ``budget`` seconds: each mirror stage gets at most half of it,
        the sink what is left (at least half a second).
        """
        budget = self.settings.grace_seconds * 0.6 if budget is None else budget
        deadline = time.monotonic() + budget
        pending = self.ingress.pending
        if pending:
            log.info("waiting for %d in-flight mirrors", len(pending))
            _, late = await asyncio.wait(set(pending), timeout=budget / 2)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=1.0)
        if self.mirrors is not None:
            await self.mirrors.close(max(0.0, min(budget / 2, deadline - time.monotonic())))
        await self.forwarder.close()
        remaining = max(0.5, deadline - time.monotonic())
        await asyncio.get_running_loop().run_in_executor(None, self.sink.close, remaining)
