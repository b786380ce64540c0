"""One request from the ASGI scope to the upstream: control routes, mirror checks, dispatch.

One pass over the headers finds the correlation ID and the signature and builds
the forwarded header list. Mirror roles must carry the correlation header, stay
under ``--max-request-bytes`` and (with a secret) be signed; they are answered
202 and forwarded in a background task, bounded by ``--max-pending``. The
primary (and ``--wait``) forwards in line.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

from collector.asgi_io import TOO_LARGE, read_body, respond
from collector.capture import Exchange
from collector.control import CONTROL_PATHS, ControlRoutes
from collector.forward import Forwarder
from collector.headers import split_request_headers
from collector.metrics import Metrics
from collector.mirroring import Mirrors, TapRequest
from collector.settings import CollectorSettings
from edge.signing import verify
from shadowdiff.model.timefmt import now_utc


class Ingress:
    """Takes an ASGI ``http`` request: control route, rejection, or forward (in line or 202).

    ``forwarder`` takes it to the app and captures it; ``routes`` answers the
    collector's own paths; ``mirrors`` (the tap as mirror source) copies it on.
    """

    def __init__(
        self,
        settings: CollectorSettings,
        metrics: Metrics,
        forwarder: Forwarder,
        mirrors: Mirrors | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.forwarder = forwarder
        self.mirrors = mirrors
        self.role = settings.role
        self.mirror = settings.is_mirror
        self.cid_header = settings.correlation_header.encode("latin-1")
        self.host_header = forwarder.upstream.host_header
        self.pending: set[asyncio.Task[None]] = set()  # mirror roles: accepted, not yet forwarded
        self.routes = ControlRoutes(
            settings.role, forwarder.sink, metrics, lambda: len(self.pending), mirrors
        )

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        admin = self.settings.admin_port
        if admin is not None and scope.get("server") and scope["server"][1] == admin:
            await self.routes.control(scope["path"], send)
            return
        received_at = now_utc()
        hdrs = split_request_headers(scope["headers"], self.cid_header)
        cid = hdrs.correlation_id
        if cid is None and scope["path"] in CONTROL_PATHS and scope["method"] in ("GET", "HEAD"):
            await self.routes.control(scope["path"], send)
            return
        metrics = self.metrics
        metrics.received.inc()
        method = scope["method"]
        raw_path = (scope.get("raw_path") or scope["path"].encode("utf-8")).decode("latin-1")
        query = scope["query_string"].decode("latin-1")
        if self.mirror and cid is None:
            metrics.rejected("missing_correlation_id")
            await respond(send, 400, b'{"error":"missing correlation header"}')
            return
        body = await read_body(receive, self.settings.max_request_bytes if self.mirror else None)
        if body is None:
            metrics.rejected("client_disconnected")
            return
        if body is TOO_LARGE:
            metrics.rejected("too_large")
            await respond(send, 413, b'{"error":"request body too large"}')
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
                await respond(send, 401, b'{"error":"bad signature"}')
                return
        forward = hdrs.forward
        forward.append(("host", self.host_header))
        if not hdrs.has_forwarded_host and hdrs.host:
            forward.append(("x-forwarded-host", hdrs.host))
        upstream_headers = forward
        mirrors = self.mirrors
        if mirrors is not None:  # the tap is the mirror source: every request gets an id
            cid = cid or _cloudfront_id(scope["headers"]) or secrets.token_urlsafe(16)
            name = self.settings.correlation_header
            upstream_headers = [*(h for h in forward if h[0] != name), (name, cid)]
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
            await self.forwarder.forward(method, raw_path, query, upstream_headers, body, ex, send)
            if mirrors is not None and cid is not None:  # after the live response has gone
                mirrors.submit(self._tap_request(scope, cid, method, raw_path, query, body))
            return
        if len(self.pending) >= self.settings.max_pending:
            metrics.rejected("overloaded")
            await respond(send, 503, b'{"error":"too many mirrors pending"}')
            return
        await respond(send, 202, b"", [])
        task = asyncio.get_running_loop().create_task(
            self.forwarder.forward(method, raw_path, query, forward, body, ex, None)
        )
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    def _tap_request(
        self, scope: Any, cid: str, method: str, raw_path: str, query: str, body: bytes
    ) -> TapRequest:
        """The request as received, for the mirror plan; bodies whole up to the limit."""
        limit = self.settings.max_request_bytes
        return TapRequest(
            correlation_id=cid,
            method=method,
            path=raw_path,
            query=query,
            headers=[
                (n.decode("latin-1"), v.decode("utf-8", "replace")) for n, v in scope["headers"]
            ],
            body=body[:limit],
            body_truncated=len(body) > limit,
        )


def _cloudfront_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    """``x-amz-cf-id``: the request id CloudFront sends to origins (its logs' x-edge-request-id)."""
    for name, value in headers:
        if name == b"x-amz-cf-id":
            return value.decode("latin-1").strip() or None
    return None
