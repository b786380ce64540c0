"""Lambda@Edge viewer-request entry point: tag the request, mirror it, return it.

A viewer-request function sits in front of every request, cache hits included,
and an exception here is a 5xx for the user. So the handler never raises:
anything unexpected becomes one JSON line on stdout (Lambda ships stdout to
CloudWatch) and the request goes on. Its cost is bounded by ``budget_ms``
whatever the targets do (see ``edge.transport``).

Configure the function's handler as ``edge.handler.handler``; it reads
``config.json`` beside this module once per cold start.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import ssl
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge import event as events
from edge.breaker import Breaker
from edge.config import EdgeConfig, EdgeConfigError, load_config, parse_config
from edge.mirror import build
from edge.pool import Pool, Resolver
from edge.transport import Sender

CONFIG_PATH = Path(__file__).with_name("config.json")
Handler = Callable[[Any, Any], Any]
# Answers that mean the collector refused the mirror (bad signature, auth), not that
# the shadow application disagreed: those are worth a log line.
REJECTED = frozenset((401, 403))

# Kept across warm invocations of this sandbox: idle connections and DNS answers.
POOL = Pool()
RESOLVER = Resolver()
_ssl_context: ssl.SSLContext | None = None
_default: Handler | None = None
_default_lock = threading.Lock()


def log(level: str, message: str, **fields: Any) -> None:
    """One JSON line on stdout; logging itself must never raise either."""
    with contextlib.suppress(Exception):  # nowhere left to report to
        line = json.dumps({"level": level, "message": message, **fields}, default=str)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def default_ssl_context() -> ssl.SSLContext:
    """Built once per cold start: loading the CA bundle costs milliseconds."""
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = ssl.create_default_context()
    return _ssl_context


def for_region(config: EdgeConfig, region: str | None) -> EdgeConfig:
    """The config with only the targets that a function running in ``region`` mirrors to.

    Lambda@Edge runs in the region nearest the viewer and sets ``AWS_REGION`` to
    it; a target limited by ``regions`` is left out everywhere else, so far-away
    edge locations never pay the round trip to it. Logged once per cold start.
    """
    kept = tuple(t for t in config.targets if t.serves(region))
    if len(kept) == len(config.targets):
        return config
    log(
        "info",
        "targets limited to other regions get no mirrors here",
        region=region,
        skipped=[t.url for t in config.targets if not t.serves(region)],
    )
    return dataclasses.replace(config, targets=kept)


class Mirrorer:
    def __init__(self, config: EdgeConfig, sender: Sender, region: str | None = None) -> None:
        self.config, self.sender = for_region(config, region), sender
        self.breaker = Breaker(config.breaker, log) if config.breaker is not None else None

    def __call__(self, event: Any, context: Any = None) -> Any:
        started = time.monotonic()
        request = events.request_of(event)
        correlation_id = None
        try:
            if request is None:
                log("error", "not a viewer-request event: Records[0].cf.request missing")
                return request
            correlation_id = events.request_id_of(event)
            _tag(request, self.config.correlation_header, correlation_id)
            self._mirror(event, started, correlation_id)
        except events.BadEvent as exc:
            log("error", f"malformed event, not mirrored: {exc}", correlation_id=correlation_id)
        except Exception as exc:
            log(
                "error",
                f"mirroring failed: {exc.__class__.__name__}: {exc}",
                correlation_id=correlation_id,
            )
        return request

    def _mirror(self, event: Any, started: float, correlation_id: str) -> None:
        viewer = events.parse(event)
        mirrors = build(self.config, viewer, int(time.time()))
        breaker = self.breaker
        if breaker is not None:
            mirrors = [m for m in mirrors if breaker.allow(m.target.url)]
        if not mirrors:
            return
        deadline = started + self.config.budget_ms / 1000.0
        outcomes = self.sender.send_all(mirrors, deadline, viewer.method)
        for o in outcomes:
            if o.status in REJECTED:  # a signing-secret or auth mismatch with the collector
                o.error, o.detail = "rejected", f"HTTP {o.status}"
            elif o.status is not None and not 200 <= o.status < 300:
                o.error, o.detail = "refused", f"HTTP {o.status}"
            if breaker is not None:
                breaker.record(o.url, o.error is None, error=o.error, detail=o.detail)
        failed = [o for o in outcomes if o.error is not None]
        if failed:
            log(
                "warning",
                "mirror not acknowledged",
                correlation_id=correlation_id,
                elapsed_ms=round((time.monotonic() - started) * 1000.0, 2),
                targets=[
                    {"url": o.url, "role": o.role, "error": o.error, "detail": o.detail}
                    for o in failed
                ],
            )


def _tag(request: dict[str, Any], header: str, correlation_id: str) -> None:
    """Set the correlation header on the returned request, overwriting the viewer's."""
    headers = request.get("headers")
    if headers is None:
        headers = request["headers"] = {}
    if not isinstance(headers, dict):
        raise events.BadEvent("request.headers: not an object")
    headers[header] = [{"key": header, "value": correlation_id}]


def make_handler(
    config: dict[str, Any],
    *,
    pool: Pool | None = None,
    ssl_context: ssl.SSLContext | None = None,
    region: str | None = None,
) -> Handler:
    """A handler for ``config``; raises ``EdgeConfigError`` naming a bad key.

    ``pool`` defaults to this module's pool (shared by every handler in the
    process); ``ssl_context`` to the system CA bundle; ``region`` to
    ``AWS_REGION``, which Lambda@Edge sets to the region the function runs in.
    """
    parsed = parse_config(config)
    sender = Sender(pool or POOL, RESOLVER, ssl_context or default_ssl_context())
    return Mirrorer(parsed, sender, region or os.environ.get("AWS_REGION"))


def _passthrough(event: Any, context: Any = None) -> Any:
    return events.request_of(event)


def _load_default() -> Handler:
    global _default
    with _default_lock:
        if _default is None:
            try:
                config = load_config(CONFIG_PATH)
                sender = Sender(POOL, RESOLVER, default_ssl_context())
                _default = Mirrorer(config, sender, os.environ.get("AWS_REGION"))
            except EdgeConfigError as exc:
                log("error", f"edge config unusable, passing requests through: {exc}")
                _default = _passthrough
            except Exception as exc:
                log("error", f"edge start-up failed, passing requests through: {exc!r}")
                _default = _passthrough
        return _default


def handler(event: Any, context: Any = None) -> Any:
    """The Lambda@Edge entry point (``edge.handler.handler``)."""
    try:
        return _load_default()(event, context)
    except Exception as exc:  # the handler above already catches; this is the last net
        log("error", f"edge handler failed: {exc!r}")
        return events.request_of(event)
