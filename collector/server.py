"""Run a collector: build the sink and the app from the settings, serve with uvicorn.

uvicorn runs on uvloop with the httptools parser. The main port and the
optional admin port are two sockets of one server, so one event loop, one
signal handler and one shutdown serve both. On SIGTERM uvicorn stops
accepting, lets open requests finish (40 % of ``--grace-seconds``), then the
app's shutdown finishes in-flight mirrors and flushes the sink queue (the other
60 %); what the sink will not take in time is spooled and replayed at the next
start.
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import TYPE_CHECKING, Any

from collector.settings import CollectorSettings

if TYPE_CHECKING:
    from collector.mirroring import MirrorPlan

log = logging.getLogger("shadowdiff.collector")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def build_app(
    settings: CollectorSettings, client: Any = None, mirror_plan: MirrorPlan | None = None
) -> Any:
    """The app for ``settings``; ``mirror_plan`` is required exactly when ``settings.mirror`` is set."""
    from collector.app import CollectorApp
    from collector.metrics import Metrics
    from collector.mirroring import Mirrors
    from collector.sinks import make_sink

    if (mirror_plan is None) != (settings.mirror is None):
        raise ValueError("a mirror plan goes with --mirror-config, and only with it")
    metrics = Metrics(settings.role)
    sink = make_sink(settings.sink, metrics, client=client)
    mirrors = None
    if mirror_plan is not None and settings.mirror is not None:
        mirrors = Mirrors(mirror_plan, settings.mirror, metrics)
    return CollectorApp(settings, sink, metrics, mirrors=mirrors)


def serve(settings: CollectorSettings, mirror_plan: MirrorPlan | None = None) -> int:
    import uvicorn

    from collector import logs
    from shadowdiff.model.errors import ConfigError

    logs.setup(settings.log_level)
    # The sink thread shares the GIL with the event loop: hand it over within
    # 1 ms (default 5 ms) so background work never holds a request that long.
    sys.setswitchinterval(0.001)
    app = build_app(settings, mirror_plan=mirror_plan)
    try:
        sockets = [_bind(settings.host, settings.port)]
        if settings.admin_port is not None:
            sockets.append(_bind(settings.host, settings.admin_port))
    except OSError as exc:
        raise ConfigError(f"--port/--admin-port: cannot listen on {settings.host}: {exc}") from exc
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
        proxy_headers=False,
        date_header=False,
        timeout_graceful_shutdown=max(1, int(settings.grace_seconds * 0.4)),
        timeout_keep_alive=30,
        backlog=4096,
    )
    log.info(
        "collector starting",
        extra={
            "role": settings.role,
            "port": settings.port,
            "admin_port": settings.admin_port,
            "upstream": settings.upstream + settings.upstream_base_path,
            "sink": settings.sink.url,
            "spool_dir": str(settings.sink.spool_dir),
            "signing": settings.signing_secret is not None,
            "correlation_header": settings.correlation_header,
            "mirror_targets": [url for _, url in mirror_plan.targets] if mirror_plan else [],
        },
    )
    server = uvicorn.Server(config)
    server.run(sockets=sockets)
    return 0 if server.started else 1
