"""The ``split`` object of the edge config (docs/contract.md §9): parsed and validated once.

Kept apart from :mod:`edge.config` so the mirror's settings and the canary's
change independently; :func:`edge.config.parse_config` calls :func:`parse_split`
so ``shadowdiff edge build`` rejects a bad ``split`` by key, like any other key.
Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge.config import EdgeConfigError
from edge.headers import FORBIDDEN, FORBIDDEN_PREFIXES, TOKEN

DEFAULT_ARM_HEADER = "x-shadowdiff-arm"
SPLIT_KEYS = frozenset(("weight", "canary_origin", "key", "arm_header"))
ORIGIN_KEYS = frozenset(("domain", "protocol", "port", "path"))
KEY_FORMS = ("cookie", "header")
CLIENT_IP = "client_ip"
# Headers an origin-request function may not set (CloudFront answers 502 otherwise),
# plus the one the split rewrites itself.
_NOT_ARM_HEADERS = frozenset(("host", "via", "content-length", "transfer-encoding"))


class SplitConfigError(EdgeConfigError):
    """A bad ``split`` setting; the message starts with its key (``split.weight: …``)."""


@dataclass(frozen=True)
class CanaryOrigin:
    domain: str
    protocol: str = "https"
    port: int = 443
    path: str = ""


@dataclass(frozen=True)
class SplitConfig:
    weight: float
    canary_origin: CanaryOrigin
    key_kind: str = CLIENT_IP  # "cookie" | "header" | "client_ip"
    key_name: str = ""  # the cookie or header name ("" for client_ip)
    arm_header: str = DEFAULT_ARM_HEADER


def _bad(key: str, why: str) -> SplitConfigError:
    return SplitConfigError(f"split.{key}: {why}")


def parse_weight(value: Any, key: str = "weight") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise _bad(key, f"must be a number from 0 to 1, got {value!r}")
    return float(value)


def parse_split(obj: Any) -> SplitConfig:
    """Validate a ``split`` mapping; unknown keys, bad weights, empty names are named."""
    if not isinstance(obj, dict):
        raise SplitConfigError("split: must be an object with weight, canary_origin, key")
    unknown = sorted(set(obj) - SPLIT_KEYS)
    if unknown:
        raise _bad(unknown[0], f"unknown key (known: {', '.join(sorted(SPLIT_KEYS))})")
    if "weight" not in obj:
        raise _bad("weight", "missing")
    if "canary_origin" not in obj:
        raise _bad("canary_origin", "missing")
    kind, name = _key(obj.get("key", CLIENT_IP))
    return SplitConfig(
        weight=parse_weight(obj["weight"]),
        canary_origin=_origin(obj["canary_origin"]),
        key_kind=kind,
        key_name=name,
        arm_header=_arm_header(obj.get("arm_header", DEFAULT_ARM_HEADER)),
    )


def _key(value: Any) -> tuple[str, str]:
    if value == CLIENT_IP:
        return CLIENT_IP, ""
    if not isinstance(value, dict) or len(value) != 1:
        raise _bad("key", 'must be {"cookie": NAME}, {"header": NAME} or "client_ip"')
    ((kind, name),) = value.items()
    if kind not in KEY_FORMS:
        raise _bad(f"key.{kind}", "unknown key form (known: cookie, header)")
    if not isinstance(name, str) or not name.strip():
        raise _bad(f"key.{kind}", "must be a non-empty name")
    if kind == "header":
        if not TOKEN.fullmatch(name):
            raise _bad("key.header", f"{name!r} is not an HTTP header name")
        return kind, name.lower()
    if any(c in name for c in ";=, \t\r\n"):
        raise _bad("key.cookie", f"{name!r} is not a cookie name")
    return kind, name


def _origin(value: Any) -> CanaryOrigin:
    if not isinstance(value, dict):
        raise _bad("canary_origin", "must be an object with domain, protocol, port, path")
    unknown = sorted(set(value) - ORIGIN_KEYS)
    if unknown:
        raise _bad(
            f"canary_origin.{unknown[0]}", f"unknown key (known: {', '.join(sorted(ORIGIN_KEYS))})"
        )
    domain = value.get("domain")
    if not isinstance(domain, str) or not domain or any(c in domain for c in "/: \t\r\n"):
        raise _bad("canary_origin.domain", "must be a non-empty host name (no scheme, port, path)")
    protocol = value.get("protocol", "https")
    if protocol not in ("http", "https"):
        raise _bad("canary_origin.protocol", f"must be http or https, got {protocol!r}")
    port = value.get("port", 443 if protocol == "https" else 80)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise _bad("canary_origin.port", f"must be a TCP port (1-65535), got {port!r}")
    path = value.get("path", "")
    if not isinstance(path, str) or (path and (not path.startswith("/") or path.endswith("/"))):
        raise _bad("canary_origin.path", "must be empty or start with '/' and not end with '/'")
    return CanaryOrigin(domain.lower(), protocol, port, path)


def _arm_header(value: Any) -> str:
    if not isinstance(value, str) or not value or not TOKEN.fullmatch(value):
        raise _bad("arm_header", "must be a non-empty HTTP header name")
    name = value.lower()
    if name in FORBIDDEN or name.startswith(FORBIDDEN_PREFIXES) or name in _NOT_ARM_HEADERS:
        raise _bad("arm_header", f"{value!r} is a header CloudFront forbids or the split rewrites")
    return name


def normalised(config: SplitConfig) -> dict[str, Any]:
    """Every key spelled out, for the ``config.json`` that ``shadowdiff edge build`` bakes."""
    key: Any = CLIENT_IP if config.key_kind == CLIENT_IP else {config.key_kind: config.key_name}
    origin = config.canary_origin
    return {
        "weight": config.weight,
        "canary_origin": {
            "domain": origin.domain,
            "protocol": origin.protocol,
            "port": origin.port,
            "path": origin.path,
        },
        "key": key,
        "arm_header": config.arm_header,
    }
