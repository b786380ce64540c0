"""The edge function's settings: parsed and validated once, then passed down as plain data.

Lambda@Edge has no environment variables, so the settings travel inside the zip
as ``config.json``. They are checked twice with this same code: by ``shadowdiff
edge build`` (so a bad value fails on the laptop, naming the key) and at cold
start (so a hand-edited zip cannot crash the viewer path). Standard library only.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.headers import FORBIDDEN, FORBIDDEN_PREFIXES, READ_ONLY_VIEWER_REQUEST, TOKEN

DEFAULT_CORRELATION_HEADER = "x-shadow-correlation-id"
DEFAULT_BUDGET_MS = 50
# Lambda@Edge viewer triggers time out after 5 s; a budget near that is a mistake.
MAX_BUDGET_MS = 4000
DEFAULT_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
KNOWN_METHODS = frozenset((*DEFAULT_METHODS, "CONNECT", "TRACE"))
# The roles a mirror target may have (a collector's --role, less the primary tap).
MIRROR_ROLES = ("shadow", "secondary")
TOP_KEYS = frozenset(
    (
        "targets",
        "correlation_header",
        "budget_ms",
        "methods",
        "include_paths",
        "exclude_paths",
        "mirror_headers",
        "mirror_query",
        "signing_secret",
        "breaker",
        "split",  # the canary split (edge.splitconfig); the mirror ignores it
    )
)
DEFAULT_BREAKER_FAILURES = 3
DEFAULT_BREAKER_COOLDOWN_MS = 5000
MAX_BREAKER_COOLDOWN_MS = 3_600_000
# An AWS region name as AWS_REGION spells it: us-east-1, eu-central-2, us-gov-west-1.
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
# Headers the edge itself writes on every mirror; a transform may not fight over them.
RESERVED_MIRROR_HEADERS = frozenset(
    (
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "x-forwarded-host",
        "x-shadow-role",
        "x-shadow-body-truncated",
        "x-shadow-timestamp",
        "x-shadow-signature",
    )
)


class EdgeConfigError(ValueError):
    """A setting that is missing, unknown or malformed; the message starts with its key.

    The stdlib twin of ``shadowdiff.model.errors.ConfigError`` (edge cannot import it).
    """


@dataclass(frozen=True)
class Target:
    url: str
    role: str
    sample_rate: float
    scheme: str
    host: str
    port: int
    # None: every region; else only functions running in one of these mirror here.
    regions: frozenset[str] | None = None

    def serves(self, region: str | None) -> bool:
        """Whether a function running in ``region`` (its ``AWS_REGION``) mirrors to this target."""
        return self.regions is None or region in self.regions


@dataclass(frozen=True)
class BreakerSettings:
    """After ``failures`` unacknowledged mirrors in a row, skip a target for ``cooldown_ms``."""

    failures: int = DEFAULT_BREAKER_FAILURES
    cooldown_ms: int = DEFAULT_BREAKER_COOLDOWN_MS


@dataclass(frozen=True)
class EdgeConfig:
    targets: tuple[Target, ...]
    correlation_header: str = DEFAULT_CORRELATION_HEADER
    budget_ms: int = DEFAULT_BUDGET_MS
    methods: frozenset[str] = frozenset(DEFAULT_METHODS)
    include_paths: tuple[re.Pattern[str], ...] = ()
    exclude_paths: tuple[re.Pattern[str], ...] = ()
    set_headers: tuple[tuple[str, str], ...] = ()
    remove_headers: frozenset[str] = frozenset()
    set_query: tuple[tuple[str, str], ...] = ()
    signing_secret: str | None = None
    breaker: BreakerSettings | None = BreakerSettings()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def load_config(path: str | Path) -> EdgeConfig:
    """Read and validate a ``config.json``; every failure is an ``EdgeConfigError``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise EdgeConfigError(f"{path}: cannot read edge config: {exc.strerror or exc}") from exc
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise EdgeConfigError(f"{path}: not valid JSON: {exc}") from exc
    return parse_config(obj)


def parse_config(obj: Any) -> EdgeConfig:
    """Validate a config mapping; unknown keys and bad values are rejected by name."""
    if not isinstance(obj, dict):
        raise EdgeConfigError("config: must be a JSON object")
    unknown = sorted(set(obj) - TOP_KEYS)
    if unknown:
        raise EdgeConfigError(f"{unknown[0]}: unknown key (known: {', '.join(sorted(TOP_KEYS))})")
    header = _header_name(obj.get("correlation_header", DEFAULT_CORRELATION_HEADER))
    budget = obj.get("budget_ms", DEFAULT_BUDGET_MS)
    if isinstance(budget, bool) or not isinstance(budget, int) or not 1 <= budget <= MAX_BUDGET_MS:
        raise EdgeConfigError(f"budget_ms: must be an integer from 1 to {MAX_BUDGET_MS}")
    secret = obj.get("signing_secret")
    if secret is not None and (not isinstance(secret, str) or not secret):
        raise EdgeConfigError("signing_secret: must be a non-empty string or null")
    set_headers, remove_headers = _mirror_headers(obj.get("mirror_headers", {}), header)
    return EdgeConfig(
        targets=_targets(obj.get("targets"), _has_split(obj)),
        correlation_header=header,
        budget_ms=budget,
        methods=_methods(obj.get("methods", list(DEFAULT_METHODS))),
        include_paths=_patterns("include_paths", obj.get("include_paths", [])),
        exclude_paths=_patterns("exclude_paths", obj.get("exclude_paths", [])),
        set_headers=set_headers,
        remove_headers=remove_headers,
        set_query=_mirror_query(obj.get("mirror_query", {})),
        signing_secret=secret,
        breaker=_breaker(obj.get("breaker", {})),
        raw=dict(obj),
    )


def _header_name(value: Any) -> str:
    if not isinstance(value, str) or not TOKEN.fullmatch(value):
        raise EdgeConfigError("correlation_header: must be an HTTP header name")
    name = value.lower()
    if (
        name in FORBIDDEN
        or name.startswith(FORBIDDEN_PREFIXES)
        or name in READ_ONLY_VIEWER_REQUEST
        or name in RESERVED_MIRROR_HEADERS
    ):
        raise EdgeConfigError(
            f"correlation_header: {value!r} is a header CloudFront forbids, makes read-only "
            "for viewer requests, or the edge reserves"
        )
    return name


def _has_split(obj: dict[str, Any]) -> bool:
    """Validate ``split`` when present; a split-only config (a canary, no mirror) is valid."""
    if "split" not in obj:
        return False
    from edge.splitconfig import parse_split  # it imports this module's error type

    parse_split(obj["split"])
    return True


def _targets(value: Any, split: bool = False) -> tuple[Target, ...]:
    if split and (value is None or value == []):
        return ()  # the zip only splits; the viewer-request function tags and mirrors nothing
    if not isinstance(value, list) or not value:
        raise EdgeConfigError("targets: must be a non-empty list (or left out when split is set)")
    return tuple(_target(i, item) for i, item in enumerate(value))


def _target(i: int, item: Any) -> Target:
    where = f"targets[{i}]"
    if not isinstance(item, dict):
        raise EdgeConfigError(f"{where}: must be an object with url, role, sample_rate")
    unknown = sorted(set(item) - {"url", "role", "sample_rate", "regions"})
    if unknown:
        raise EdgeConfigError(
            f"{where}.{unknown[0]}: unknown key (known: regions, role, sample_rate, url)"
        )
    url = item.get("url")
    if not isinstance(url, str):
        raise EdgeConfigError(f"{where}.url: must be a string")
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:
        raise EdgeConfigError(f"{where}.url: bad port in {url!r}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EdgeConfigError(f"{where}.url: must be http:// or https:// with a host, got {url!r}")
    # The collector verifies the signature over the path it receives, which is the
    # viewer's URI; a prefix on the target would change it, so targets are origins only.
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise EdgeConfigError(f"{where}.url: must be scheme://host[:port] only, got {url!r}")
    role = item.get("role", "shadow")
    if role not in MIRROR_ROLES:
        raise EdgeConfigError(
            f"{where}.role: must be one of {', '.join(MIRROR_ROLES)}, got {role!r}"
        )
    rate = item.get("sample_rate", 1.0)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
        raise EdgeConfigError(f"{where}.sample_rate: must be a number from 0 to 1")
    default_port = 443 if parts.scheme == "https" else 80
    return Target(
        url=f"{parts.scheme}://{parts.netloc}",
        role=role,
        sample_rate=float(rate),
        scheme=parts.scheme,
        host=parts.hostname,
        port=port or default_port,
        regions=_regions(f"{where}.regions", item.get("regions")),
    )


def _regions(where: str, value: Any) -> frozenset[str] | None:
    """Absent or null: every region. An empty list would silently mirror nothing: refused."""
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise EdgeConfigError(f"{where}: must be a non-empty list of AWS region names")
    for name in value:
        if not isinstance(name, str) or not REGION.fullmatch(name):
            raise EdgeConfigError(f"{where}: {name!r} is not an AWS region name (like 'us-east-1')")
    return frozenset(value)


def _breaker(value: Any) -> BreakerSettings | None:
    """``null`` turns the breaker off; absent keys take the defaults."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise EdgeConfigError("breaker: must be an object with failures and cooldown_ms, or null")
    unknown = sorted(set(value) - {"failures", "cooldown_ms"})
    if unknown:
        raise EdgeConfigError(f"breaker.{unknown[0]}: unknown key (known: cooldown_ms, failures)")
    failures = value.get("failures", DEFAULT_BREAKER_FAILURES)
    if isinstance(failures, bool) or not isinstance(failures, int) or not 1 <= failures <= 1000:
        raise EdgeConfigError("breaker.failures: must be an integer from 1 to 1000")
    cooldown = value.get("cooldown_ms", DEFAULT_BREAKER_COOLDOWN_MS)
    if (
        isinstance(cooldown, bool)
        or not isinstance(cooldown, int)
        or not 1 <= cooldown <= MAX_BREAKER_COOLDOWN_MS
    ):
        raise EdgeConfigError(
            f"breaker.cooldown_ms: must be an integer from 1 to {MAX_BREAKER_COOLDOWN_MS}"
        )
    return BreakerSettings(failures, cooldown)


def _methods(value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
        raise EdgeConfigError("methods: must be a list of HTTP method names")
    bad = [m for m in value if m not in KNOWN_METHODS]
    if bad:
        raise EdgeConfigError(f"methods: unknown method {bad[0]!r} (upper-case names only)")
    return frozenset(value)


def _patterns(key: str, value: Any) -> tuple[re.Pattern[str], ...]:
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise EdgeConfigError(f"{key}: must be a list of regular expressions")
    compiled = []
    for i, pattern in enumerate(value):
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise EdgeConfigError(f"{key}[{i}]: bad regular expression {pattern!r}: {exc}") from exc
    return tuple(compiled)


def _mirror_headers(
    value: Any, correlation: str
) -> tuple[tuple[tuple[str, str], ...], frozenset[str]]:
    if not isinstance(value, dict):
        raise EdgeConfigError("mirror_headers: must be an object with set and remove")
    unknown = sorted(set(value) - {"set", "remove"})
    if unknown:
        raise EdgeConfigError(f"mirror_headers.{unknown[0]}: unknown key (known: remove, set)")
    to_set = value.get("set", {})
    if not isinstance(to_set, dict):
        raise EdgeConfigError("mirror_headers.set: must be an object of header name to value")
    reserved = RESERVED_MIRROR_HEADERS | {correlation}
    pairs = []
    for name, val in to_set.items():
        where = f"mirror_headers.set.{name}"
        if not TOKEN.fullmatch(name) or name.lower() in reserved:
            raise EdgeConfigError(f"{where}: not a header name the mirror may set")
        if not isinstance(val, str) or any(c in val for c in "\r\n\x00"):
            raise EdgeConfigError(f"{where}: must be a single-line string")
        pairs.append((name.lower(), val))
    remove = value.get("remove", [])
    if not isinstance(remove, list) or not all(isinstance(n, str) for n in remove):
        raise EdgeConfigError("mirror_headers.remove: must be a list of header names")
    for name in remove:
        if not TOKEN.fullmatch(name) or name.lower() in reserved:
            raise EdgeConfigError(f"mirror_headers.remove: {name!r} cannot be removed")
    return tuple(pairs), frozenset(n.lower() for n in remove)


def _mirror_query(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise EdgeConfigError("mirror_query: must be an object with set")
    unknown = sorted(set(value) - {"set"})
    if unknown:
        raise EdgeConfigError(f"mirror_query.{unknown[0]}: unknown key (known: set)")
    to_set = value.get("set", {})
    if not isinstance(to_set, dict):
        raise EdgeConfigError("mirror_query.set: must be an object of parameter name to value")
    for name, val in to_set.items():
        if not name or not isinstance(val, str):
            raise EdgeConfigError(
                f"mirror_query.set.{name}: must be a non-empty name with a string value"
            )
    return tuple(to_set.items())
