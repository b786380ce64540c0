"""A local CloudFront stand-in: the real edge handler in front of a primary origin.

Each request becomes a viewer-request event in the documented Lambda@Edge shape,
the edge handler built by ``edge.handler.make_handler`` runs on it (mirroring to
its targets exactly as it would at the edge), and the request it returns is
forwarded to the primary and streamed back. So the code that runs at the edge
runs here too, which is what ``shadowdiff edge serve`` and ``shadowdiff demo``
need: trying an edge config before deploying it, and a demo with no AWS.

The pure part (:func:`build_event`, :func:`forward_parts`, :func:`response_parts`)
works on plain data; :class:`FrontDoor` is the thin ASGI adapter around it.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from shadowdiff.model.errors import ConfigError

Handler = Callable[[dict[str, Any], Any], Any]
Send = Callable[[dict[str, Any]], Any]
Receive = Callable[[], Any]

#: Lambda@Edge hands a viewer-request function at most 40 KB of the body.
VIEWER_BODY_LIMIT = 40 * 1024
DISTRIBUTION_ID = "ELOCALFRONTDOOR"
DISTRIBUTION_DOMAIN = "frontdoor.localhost"
#: Connection-level headers a proxy never passes on (RFC 9110 §7.6.1), plus the
#: ones the HTTP client recomputes for the bytes it actually sends.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


def new_request_id() -> str:
    """A fresh id in CloudFront's ``x-edge-request-id`` form: 40 random bytes, URL-safe base64."""
    return base64.urlsafe_b64encode(os.urandom(40)).decode("ascii")


def header_key(name: str) -> str:
    """``user-agent`` → ``User-Agent``: ASGI lower-cases names, CloudFront keeps the viewer's."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def build_event(
    *,
    method: str,
    uri: str,
    querystring: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    client_ip: str,
    request_id: str,
    distribution_id: str = DISTRIBUTION_ID,
    distribution_domain: str = DISTRIBUTION_DOMAIN,
) -> dict[str, Any]:
    """The viewer-request event CloudFront would build, with "include body" on."""
    cf_headers: dict[str, list[dict[str, str]]] = {}
    for name, value in headers:
        cf_headers.setdefault(name.lower(), []).append({"key": header_key(name), "value": value})
    kept = body[:VIEWER_BODY_LIMIT]
    return {
        "Records": [
            {
                "cf": {
                    "config": {
                        "distributionDomainName": distribution_domain,
                        "distributionId": distribution_id,
                        "eventType": "viewer-request",
                        "requestId": request_id,
                    },
                    "request": {
                        "clientIp": client_ip,
                        "headers": cf_headers,
                        "method": method,
                        "querystring": querystring,
                        "uri": uri,
                        "body": {
                            "inputTruncated": len(body) > len(kept),
                            "action": "read-only",
                            "encoding": "base64",
                            "data": base64.b64encode(kept).decode("ascii"),
                        },
                    },
                }
            }
        ]
    }


def _flat_headers(cf_headers: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, entries in cf_headers.items():
        for entry in entries:
            out.append((str(entry.get("key") or name), str(entry["value"])))
    return out


def forward_parts(
    request: dict[str, Any], primary: str, original_body: bytes
) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """``(method, url, headers, body)`` for the primary, from the request the handler returned.

    As at CloudFront, a read-only body goes to the origin whole even when the
    function saw it cut; only ``action: replace`` swaps it.
    """
    query = request.get("querystring") or ""
    url = primary.rstrip("/") + request["uri"] + ("?" + query if query else "")
    headers = [
        (k, v)
        for k, v in _flat_headers(request.get("headers") or {})
        if k.lower() not in HOP_BY_HOP
    ]
    body = original_body
    cf_body = request.get("body")
    if isinstance(cf_body, dict) and cf_body.get("action") == "replace":
        data = str(cf_body.get("data") or "")
        body = base64.b64decode(data) if cf_body.get("encoding") == "base64" else data.encode()
    return str(request["method"]), url, headers, body


def origin_request_event(
    request: dict[str, Any],
    origin: str,
    request_id: str,
    distribution_domain: str = DISTRIBUTION_DOMAIN,
) -> dict[str, Any]:
    """The origin-request event CloudFront would build after the viewer-request function.

    ``origin`` (the primary's URL) becomes ``request.origin.custom``, as a custom
    origin of the distribution; the split (``edge.split``) may swap it for the canary.
    """
    parts = urlsplit(origin)
    protocol = parts.scheme or "http"
    custom = {
        "customHeaders": {},
        "domainName": parts.hostname or "127.0.0.1",
        "keepaliveTimeout": 5,
        "path": parts.path.rstrip("/"),
        "port": parts.port or (443 if protocol == "https" else 80),
        "protocol": protocol,
        "readTimeout": 30,
        "sslProtocols": ["TLSv1.2"],
    }
    config = {
        "distributionDomainName": distribution_domain,
        "distributionId": DISTRIBUTION_ID,
        "eventType": "origin-request",
        "requestId": request_id,
    }
    return {
        "Records": [
            {"cf": {"config": config, "request": {**request, "origin": {"custom": custom}}}}
        ]
    }


def origin_url(request: dict[str, Any], default: str) -> str:
    """Where a request the split returned goes: its custom origin, else ``default``."""
    custom = (request.get("origin") or {}).get("custom")
    if not isinstance(custom, dict) or not custom.get("domainName"):
        return default
    protocol = custom.get("protocol") or "http"
    return (
        f"{protocol}://{custom['domainName']}:{custom.get('port') or 80}{custom.get('path') or ''}"
    )


def response_parts(response: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """``(status, headers, body)`` for a response object the handler generated itself."""
    body = str(response.get("body") or "")
    raw = base64.b64decode(body) if response.get("bodyEncoding") == "base64" else body.encode()
    headers = [
        (k, v)
        for k, v in _flat_headers(response.get("headers") or {})
        if k.lower() not in HOP_BY_HOP
    ]
    return int(response.get("status") or 200), headers, raw


class LocalContext:
    """The bits of a Lambda context object a handler may look at."""

    function_name = "shadowdiff-frontdoor"
    memory_limit_in_mb = 128

    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id

    def get_remaining_time_in_millis(self) -> int:
        return 5000  # viewer-request functions get at most 5 s


class FrontDoor:
    """The ASGI app: event → handler (in a thread, it blocks) → primary → viewer."""

    def __init__(
        self, handler: Handler, primary: str, *, workers: int = 32, split: Handler | None = None
    ) -> None:
        self.handler = handler
        self.primary = primary
        self.split = split  # the origin-request function (edge.split), when the config has one
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="edge")
        self.session: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._session()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.session is not None:
                    await self.session.close()
                self.pool.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _session(self) -> Any:
        """One client session per event loop, made at startup (or first use without lifespan)."""
        import aiohttp

        if self.session is None:
            self.session = aiohttp.ClientSession(
                auto_decompress=False,
                timeout=aiohttp.ClientTimeout(total=60),
                connector=aiohttp.TCPConnector(limit=256),
            )
        return self.session

    async def _http(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        raw_path = scope.get("raw_path") or scope["path"].encode()
        request_id = new_request_id()
        event = build_event(
            method=scope["method"],
            uri=raw_path.decode("latin-1").split("?", 1)[0],
            querystring=scope.get("query_string", b"").decode("latin-1"),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            body=bytes(body),
            client_ip=(scope.get("client") or ("127.0.0.1", 0))[0],
            request_id=request_id,
        )
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(
                self.pool, self.handler, event, LocalContext(request_id)
            )
        except Exception as exc:  # the edge would answer 503 LambdaExecutionError
            await _plain(send, 503, f"edge handler failed: {type(exc).__name__}: {exc}\n")
            return
        cf_id = [("x-amz-cf-id", request_id)]
        if isinstance(result, dict) and "status" in result and "uri" not in result:
            status, headers, raw = response_parts(result)
            await _start(send, status, headers + cf_id)
            await send({"type": "http.response.body", "body": raw})
            return
        if not isinstance(result, dict) or "uri" not in result or "method" not in result:
            # CloudFront's LambdaValidationError: the function returned neither shape.
            await _plain(
                send, 502, f"edge handler returned no request or response: {result!r:.200}\n"
            )
            return
        origin = self.primary
        if self.split is not None:  # CloudFront's cache missed: the origin-request trigger runs
            event = origin_request_event(result, self.primary, request_id)
            split = await loop.run_in_executor(
                self.pool, self.split, event, LocalContext(request_id)
            )
            if isinstance(split, dict) and "uri" in split:
                result, origin = split, origin_url(split, self.primary)
        await self._forward(result, bytes(body), send, cf_id, origin)

    async def _forward(
        self,
        request: dict[str, Any],
        body: bytes,
        send: Send,
        extra: list[tuple[str, str]],
        origin: str | None = None,
    ) -> None:
        import aiohttp

        method, url, headers, data = forward_parts(request, origin or self.primary, body)
        started = False
        try:
            async with self._session().request(
                method, url, headers=headers + extra, data=data, allow_redirects=False
            ) as upstream:
                out = [
                    (k.decode("latin-1").lower(), v.decode("latin-1"))
                    for k, v in upstream.raw_headers
                ]
                out = [(k, v) for k, v in out if k not in HOP_BY_HOP or k == "content-length"]
                await _start(send, upstream.status, out + extra)
                started = True
                async for chunk in upstream.content.iter_chunked(64 * 1024):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
        except (aiohttp.ClientError, TimeoutError) as exc:
            if started:  # the viewer already has a status line: cut the body short
                raise
            await _plain(send, 502, f"primary {self.primary} failed: {type(exc).__name__}\n")


async def _start(send: Send, status: int, headers: list[tuple[str, str]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        }
    )


async def _plain(send: Send, status: int, text: str) -> None:
    await _start(send, status, [("content-type", "text/plain; charset=utf-8")])
    await send({"type": "http.response.body", "body": text.encode()})


def serve(config: dict[str, Any], primary: str, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Run the front door until SIGINT/SIGTERM, with the real edge handler for ``config``."""
    import uvicorn

    from edge.handler import make_handler
    from edge.split import make_handler as make_split

    try:
        handler = make_handler(config)
        split = make_split(config) if "split" in config else None
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigError(f"edge config: {exc}") from exc
    app = FrontDoor(handler, primary, split=split)
    targets = ", ".join(f"{t.get('role')} {t.get('url')}" for t in config.get("targets", []))
    canary = ""
    if split is not None:
        origin = config["split"]["canary_origin"]
        canary = f"; canary {origin['domain']} at weight {config['split']['weight']}"
    print(
        f"front door on http://{host}:{port} → primary {primary}{canary}; "
        f"mirrors to {targets or 'nothing'}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    ).run()
