"""Lambda@Edge origin-request entry point: send a sticky share of users to the canary.

The arm is a pure function of a sticky key (a cookie, a header, or the client
IP when the named one is missing): the first 8 bytes of the key's SHA-256, read
as a big-endian fraction in [0, 1), against ``weight`` (docs/contract.md §9). The same
user therefore always lands on the same side, and raising the weight only moves
users from baseline to canary, never back. ``weight`` 0 is a rollback, 1 a full
promotion.

An origin-request function runs on cache misses only and may rewrite the origin,
which a viewer-request function may not: that is why the split lives here and
the mirror (``edge.handler``) on viewer-request. Like the mirror it never raises:
on any problem the request goes to the baseline untouched and one JSON line is
logged.

``infra/edge.yaml`` can override the baked ``weight`` and canary domain per
distribution with two origin custom headers (:data:`WEIGHT_HEADER`,
:data:`ORIGIN_HEADER`), so a weight change is a CloudFront update rather than
a new function version. Configure the function's handler as
``edge.split.handler``; it reads the ``split`` object of ``config.json`` beside
this module once per cold start.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge import event as events
from edge.config import EdgeConfigError, load_config
from edge.handler import _passthrough, log
from edge.splitconfig import CLIENT_IP, SplitConfig, parse_split, parse_weight

CONFIG_PATH = Path(__file__).with_name("config.json")
WEIGHT_HEADER = "x-shadowdiff-canary-weight"
ORIGIN_HEADER = "x-shadowdiff-canary-origin"
BASELINE, CANARY = "baseline", "canary"
_SCALE = 2.0**64
Handler = Callable[[Any, Any], Any]
_default: Handler | None = None
_default_lock = threading.Lock()


class SplitProblem(ValueError):
    """Something in the event or its overrides that keeps the split from deciding."""


def point(key: str) -> int:
    """The key's fixed place: the first 8 bytes of its SHA-256 as a big-endian integer."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big")


def arm_of(key: str, weight: float) -> str:
    """``canary`` when ``point / 2**64 < weight``, compared exactly (no float rounding)."""
    return CANARY if point(key) < weight * _SCALE else BASELINE


def _first(headers: dict[str, Any], name: str) -> str | None:
    entries = headers.get(name)
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("value"), str):
            return str(entry["value"])
    return None


def cookie(headers: dict[str, Any], name: str) -> str | None:
    """The first value of cookie ``name`` over every ``Cookie`` header line."""
    for entry in headers.get("cookie") or []:
        value = entry.get("value") if isinstance(entry, dict) else None
        if not isinstance(value, str):
            continue
        for crumb in value.split(";"):
            key, eq, val = crumb.strip().partition("=")
            if eq and key.strip() == name:
                return val.strip()
    return None


def sticky_key(request: dict[str, Any], headers: dict[str, Any], config: SplitConfig) -> str:
    """The value the arm is a function of; the client IP when the cookie or header is absent."""
    value: str | None = None
    if config.key_kind == "cookie":
        value = cookie(headers, config.key_name)
    elif config.key_kind == "header":
        value = _first(headers, config.key_name)
    if value:
        return value
    ip = request.get("clientIp")
    if not isinstance(ip, str) or not ip:
        raise SplitProblem("request.clientIp: missing, and no other key to split on")
    return ip


def _origin(request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    origin = request.get("origin")
    if not isinstance(origin, dict):
        raise SplitProblem("request.origin: missing (not an origin-request event?)")
    for kind in ("custom", "s3"):
        found = origin.get(kind)
        if isinstance(found, dict):
            return kind, found
    raise SplitProblem("request.origin: neither custom nor s3")


def overrides(origin: dict[str, Any], config: SplitConfig) -> tuple[float, str]:
    """``(weight, canary domain)``: the origin's custom headers win over the baked config."""
    weight, domain = config.weight, config.canary_origin.domain
    custom = origin.get("customHeaders")
    if not isinstance(custom, dict):
        return weight, domain
    raw_weight, raw_domain = _first(custom, WEIGHT_HEADER), _first(custom, ORIGIN_HEADER)
    if raw_weight is not None:
        try:
            weight = parse_weight(float(raw_weight), WEIGHT_HEADER)
        except (ValueError, EdgeConfigError) as exc:
            raise SplitProblem(
                f"origin header {WEIGHT_HEADER}: {raw_weight!r} is not 0..1"
            ) from exc
    if raw_domain:
        if any(c in raw_domain for c in "/: \t"):
            raise SplitProblem(f"origin header {ORIGIN_HEADER}: {raw_domain!r} is not a host")
        domain = raw_domain.lower()
    return weight, domain


def canary_origin(base: dict[str, Any], domain: str, config: SplitConfig) -> dict[str, Any]:
    """A complete custom origin (CloudFront wants every field when the origin changes)."""
    origin = config.canary_origin
    return {
        "custom": {
            "customHeaders": base.get("customHeaders") or {},
            "domainName": domain,
            "keepaliveTimeout": base.get("keepaliveTimeout", 5),
            "path": origin.path,
            "port": origin.port,
            "protocol": origin.protocol,
            "readTimeout": base.get("readTimeout", 30),
            "sslProtocols": base.get("sslProtocols") or ["TLSv1.2"],
        }
    }


class Splitter:
    def __init__(self, config: SplitConfig) -> None:
        self.config = config

    def decide(self, request: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        """``(arm, new headers, new origin or None)``, computed without touching ``request``."""
        headers = request.get("headers")
        if headers is None:
            headers = {}
        if not isinstance(headers, dict):
            raise SplitProblem("request.headers: not an object")
        _, base = _origin(request)
        weight, domain = overrides(base, self.config)
        arm = arm_of(sticky_key(request, headers, self.config), weight)
        name = self.config.arm_header
        new_headers = {**headers, name: [{"key": name, "value": arm}]}
        if arm == BASELINE:
            return arm, new_headers, None
        new_headers["host"] = [{"key": "Host", "value": domain}]
        return arm, new_headers, canary_origin(base, domain, self.config)

    def __call__(self, event: Any, context: Any = None) -> Any:
        request = events.request_of(event)
        if request is None:
            log("error", "not an origin-request event: Records[0].cf.request missing")
            return request
        try:
            _, headers, origin = self.decide(request)
        except Exception as exc:  # SplitProblem or anything unforeseen: baseline, untouched
            log(
                "error",
                f"split failed, request left to the baseline untouched: {exc}",
                correlation_id=_request_id(event),
            )
            return request
        request["headers"] = headers
        if origin is not None:
            request["origin"] = origin
        return request


def _request_id(event: Any) -> str | None:
    try:
        return events.request_id_of(event)
    except events.BadEvent:
        return None


def split_of(config: dict[str, Any]) -> SplitConfig:
    """The split of a whole edge config (validated like ``edge build`` does) or of a bare split."""
    if not isinstance(config, dict):
        raise EdgeConfigError("config: must be a JSON object")
    if "split" in config:
        from edge.config import parse_config

        parse_config(config)
        return parse_split(config["split"])
    if "canary_origin" in config or "weight" in config:
        return parse_split(config)
    raise EdgeConfigError("split: missing (the canary split needs a split object)")


def make_handler(config: dict[str, Any]) -> Handler:
    """A handler for ``config``; raises ``EdgeConfigError`` naming a bad key."""
    return Splitter(split_of(config))


def _load_default() -> Handler:
    global _default
    with _default_lock:
        if _default is None:
            try:
                config = load_config(CONFIG_PATH).raw
                _default = make_handler(config)
            except Exception as exc:  # EdgeConfigError or worse: never fail the origin request
                log("error", f"split config unusable, every request goes to the baseline: {exc}")
                _default = _passthrough
        return _default


def handler(event: Any, context: Any = None) -> Any:
    """The Lambda@Edge entry point (``edge.split.handler``)."""
    try:
        return _load_default()(event, context)
    except Exception as exc:  # the splitter already catches; this is the last net
        log("error", f"split handler failed: {exc!r}")
        return events.request_of(event)


__all__ = ["BASELINE", "CANARY", "CLIENT_IP", "arm_of", "handler", "make_handler", "point"]
