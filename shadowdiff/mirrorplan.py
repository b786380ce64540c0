"""The edge's mirror rules as the primary tap's :class:`collector.mirroring.MirrorPlan`.

Why it lives here: a mirror sent by the tap must be byte for byte what the
edge would have sent (docs/contract.md §8), so the tap uses the edge's own parser
(``edge.config``) and builder (``edge.mirror``), not a copy of them. The
collector package may use only the edge's signing module, so the two are
composed at the entry point, which may see both: ``shadowdiff collector``
loads the file into this plan and hands it to the collector app.

The tap stands where CloudFront's origin request arrives, so the viewer's
request is rebuilt from what it received: the path and query as they came,
every header (the edge's own rules drop hop-by-hop ones and replace the
correlation header), and the viewer's host from ``x-forwarded-host`` when a
proxy in front moved it there. ``budget_ms``, ``breaker`` and ``regions`` are
edge-only and ignored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from collector.mirroring import TapRequest
from collector.settings import MirrorSettings
from edge.config import EdgeConfig, EdgeConfigError, Target, parse_config
from edge.event import ViewerRequest
from edge.mirror import build, chosen
from shadowdiff.edgebuild import load_edge_config
from shadowdiff.model.errors import ConfigError


class EdgeMirrorPlan:
    """Targets, choice and bytes exactly as ``edge.mirror`` makes them for the edge."""

    def __init__(self, config: EdgeConfig) -> None:
        self.config = config
        self._targets: tuple[Target, ...] = config.targets

    @property
    def targets(self) -> Sequence[tuple[str, str]]:
        return [(t.role, t.url) for t in self._targets]

    def choose(self, request: TapRequest) -> list[int]:
        picked = chosen(self.config, request.correlation_id, request.method, request.path)
        return [i for i, t in enumerate(self._targets) if t in picked]

    def payload(self, target: int, request: TapRequest, timestamp: int) -> bytes:
        viewer = ViewerRequest(
            request_id=request.correlation_id,
            method=request.method,
            uri=request.path,
            querystring=request.query,
            headers=viewer_headers(request.headers),
            body=request.body,
            body_truncated=request.body_truncated,
        )
        (mirror,) = build(self.config, viewer, timestamp, [self._targets[target]])
        return mirror.payload


def viewer_headers(received: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers as the viewer sent them: its host back from ``x-forwarded-host``."""
    forwarded = next((v for n, v in received if n == "x-forwarded-host"), None)
    if forwarded is None:
        return received
    host = forwarded.split(",", 1)[0].strip()  # the first proxy saw the viewer's
    return [*((n, v) for n, v in received if n not in ("host", "x-forwarded-host")), ("host", host)]


def load_plan(settings: MirrorSettings) -> EdgeMirrorPlan:
    """The plan from ``--mirror-config FILE`` or ``SHADOWDIFF_MIRROR_CONFIG``.

    A bad one is one ``ConfigError`` naming where it came from and the key.
    """
    if settings.config is not None:
        try:
            return EdgeMirrorPlan(load_edge_config(settings.config))
        except ConfigError as exc:
            raise ConfigError(f"--mirror-config: {exc}") from exc
    try:
        return EdgeMirrorPlan(parse_config(json.loads(settings.text or "")))
    except ValueError as exc:  # EdgeConfigError is one too
        detail = exc if isinstance(exc, EdgeConfigError) else f"not valid JSON: {exc}"
        raise ConfigError(f"SHADOWDIFF_MIRROR_CONFIG: {detail}") from exc
