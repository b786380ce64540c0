"""Typed settings for one collector process, built once at the entry point.

Everything the collector does is decided by a :class:`CollectorSettings`; the
command line (and the two environment variables) are parsed into it by
:func:`build_settings`, which is the only place that knows flag names, so every
bad value becomes one :class:`~shadowdiff.model.errors.ConfigError` that names the flag.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from shadowdiff.model.errors import ConfigError
from shadowdiff.model.locations import parse_location
from shadowdiff.model.record import DEFAULT_BODY_LIMIT, ROLES, Role

SinkKind = Literal["local", "s3", "kinesis"]
DEFAULT_CORRELATION_HEADER = "x-shadow-correlation-id"

# How long a batch may wait and how big it may grow before it is written. A
# local file or an S3 object is one batch per partition, so these are also the
# rotation age and size of the files the sink writes.
_SINK_DEFAULTS: dict[str, tuple[float, int, int]] = {
    # kind: (flush seconds, batch bytes, batch records)
    "local": (1.0, 8 * 1024 * 1024, 20_000),
    "s3": (5.0, 16 * 1024 * 1024, 50_000),
    "kinesis": (1.0, 5 * 1024 * 1024, 5_000),
}


@dataclass(frozen=True, slots=True)
class SinkSettings:
    url: str
    kind: SinkKind
    root: Path | None = None  # local
    bucket: str = ""  # s3
    prefix: str = ""  # s3
    stream: str = ""  # kinesis
    spool_dir: Path = Path(".")
    queue_size: int = 100_000
    flush_seconds: float = 1.0
    batch_bytes: int = 8 * 1024 * 1024
    batch_records: int = 20_000
    buckets: int = 0  # N of the optional bucket=NN partition level (local, s3); 0: none


@dataclass(frozen=True, slots=True)
class MirrorSettings:
    """The primary tap as mirror source (``--mirror-config``, docs/contract.md §8).

    The edge config file itself is parsed by the edge's own code at the entry
    point (``shadowdiff.cli.collector``) and handed to the app as a
    :class:`collector.mirroring.MirrorPlan`; these are the tap's own knobs.
    """

    config: Path | None  # --mirror-config FILE
    text: str | None = None  # else SHADOWDIFF_MIRROR_CONFIG: the file's JSON itself
    timeout: float = 5.0  # one delivery attempt, connect included
    queue: int = 10_000  # mirrors waiting per target before new ones are dropped
    workers: int = 32  # connections per target: mirrors/s per target ≈ workers / round trip


@dataclass(frozen=True, slots=True)
class CollectorSettings:
    role: Role
    upstream: str  # scheme://host[:port], no trailing slash
    upstream_base_path: str  # "" or "/base" prepended to every forwarded path
    sink: SinkSettings
    host: str = "0.0.0.0"
    port: int = 8080
    admin_port: int | None = None
    signing_secret: str | None = None
    wait: bool = False
    correlation_header: str = DEFAULT_CORRELATION_HEADER
    deployment: str | None = None
    body_limit: int = DEFAULT_BODY_LIMIT
    redact_headers: frozenset[str] = field(default_factory=frozenset)
    redact_json_fields: tuple[str, ...] = ()
    max_concurrency: int = 256
    max_pending: int = 10_000
    max_request_bytes: int = 32 * 1024 * 1024
    upstream_timeout: float = 30.0
    grace_seconds: float = 20.0
    log_level: str = "info"
    mirror: MirrorSettings | None = None

    @property
    def is_mirror(self) -> bool:
        return self.role != "primary"


def parse_sink(url: str, flag: str = "--sink") -> tuple[SinkKind, dict[str, Any]]:
    """``dir``, ``file://dir``, ``s3://bucket/prefix`` or ``kinesis://stream`` (one parser of
    locations for every command: :mod:`shadowdiff.model.locations`)."""
    loc = parse_location(url, flag)
    if loc.kind == "s3":
        return "s3", {"bucket": loc.bucket, "prefix": loc.prefix}
    if loc.kind == "kinesis":
        return "kinesis", {"stream": loc.stream}
    return "local", {"root": loc.local_path}


def parse_upstream(url: str, flag: str = "--upstream") -> tuple[str, str]:
    """Split ``--upstream`` (or another ``flag``'s URL) into its origin and an optional base path."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{flag}: {url!r} is not an http(s):// URL with a host")
    if parts.query or parts.fragment:
        raise ConfigError(f"{flag}: {url!r} must not have a query or fragment")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise ConfigError(f"{flag}: {url!r} has a bad port") from exc
    return f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")


def _positive(value: Any, flag: str, *, allow_zero: bool = False) -> Any:
    if value is None:
        return None
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{flag}: must be {'>= 0' if allow_zero else '> 0'}, got {value}")
    return value


def _port(value: int | None, flag: str) -> int | None:
    if value is not None and not 0 < value < 65536:
        raise ConfigError(f"{flag}: {value} is not a TCP port")
    return value


def default_spool(role: str, port: int) -> Path:
    base = os.environ.get("SHADOWDIFF_SPOOL_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state"),
        "shadowdiff",
        "spool",
    )
    return Path(base) / f"{role}-{port}"


def _json_path(path: str) -> str:
    from collector.redact import parse_path

    try:
        parse_path(path)
    except ValueError as exc:
        raise ConfigError(f"--redact-json-field: {exc}") from exc
    return path


def _buckets(value: int | None, kind: str) -> int:
    """``--buckets N``: 0 (no level) or 1..100, for the sinks that write partitions."""
    if not value:
        return 0
    if not 1 <= value <= 100:
        raise ConfigError(f"--buckets: {value} is not between 0 and 100")
    if kind == "kinesis":
        raise ConfigError(
            "--buckets: a kinesis:// sink writes no partitions; "
            "set the bucket level in Firehose (infra/capture.yaml CaptureBuckets)"
        )
    return value


def _mirror(args: Any, role: str, env: Any) -> MirrorSettings | None:
    """``--mirror-config`` (or ``SHADOWDIFF_MIRROR_CONFIG``) and the flags that need it.

    The environment variable holds the config's JSON text, for platforms that
    inject secrets as variables (an ECS task's ``Secrets``, a Kubernetes
    ``secretKeyRef``): the file holds the signing secret.
    """
    path = getattr(args, "mirror_config", None)
    text = None if path else env.get("SHADOWDIFF_MIRROR_CONFIG") or None
    knobs = {
        "--mirror-timeout": getattr(args, "mirror_timeout", None),
        "--mirror-queue": getattr(args, "mirror_queue", None),
        "--mirror-workers": getattr(args, "mirror_workers", None),
    }
    if not path and not text:
        given = [flag for flag, value in knobs.items() if value is not None]
        if given:
            raise ConfigError(f"{given[0]}: needs --mirror-config")
        return None
    if role != "primary":
        source = "--mirror-config" if path else "SHADOWDIFF_MIRROR_CONFIG"
        raise ConfigError(f"{source}: only the primary tap sends mirrors, not --role {role}")
    return MirrorSettings(
        config=Path(path) if path else None,
        text=text,
        timeout=_positive(knobs["--mirror-timeout"], "--mirror-timeout") or 5.0,
        queue=_positive(knobs["--mirror-queue"], "--mirror-queue") or 10_000,
        workers=_positive(knobs["--mirror-workers"], "--mirror-workers") or 32,
    )


def build_settings(args: Any, environ: dict[str, str] | None = None) -> CollectorSettings:
    """Build and check the settings from an argparse namespace (and the environment)."""
    env = os.environ if environ is None else environ
    if args.role not in ROLES:
        raise ConfigError(f"--role: {args.role!r} is not one of {', '.join(ROLES)}")
    origin, base_path = parse_upstream(args.upstream or "")
    port = _port(args.port, "--port") or 8080
    admin_port = _port(args.admin_port, "--admin-port")
    if admin_port is not None and admin_port == port:
        raise ConfigError(f"--admin-port: {admin_port} is also --port")
    kind, sink_fields = parse_sink(args.sink)
    flush, batch_bytes, batch_records = _SINK_DEFAULTS[kind]
    spool = Path(args.spool_dir) if args.spool_dir else default_spool(args.role, port)
    sink = SinkSettings(
        url=args.sink,
        kind=kind,
        spool_dir=spool,
        queue_size=_positive(args.queue_size, "--queue-size") or 100_000,
        flush_seconds=_positive(args.flush_seconds, "--flush-seconds") or flush,
        batch_bytes=_positive(args.batch_bytes, "--batch-bytes") or batch_bytes,
        batch_records=_positive(args.batch_records, "--batch-records") or batch_records,
        buckets=_buckets(getattr(args, "buckets", None), kind),
        **sink_fields,
    )
    header = (args.correlation_header or DEFAULT_CORRELATION_HEADER).strip().lower()
    if not header or any(c in header for c in " :\t\r\n"):
        raise ConfigError(f"--correlation-header: {args.correlation_header!r} is not a header name")
    secret = args.signing_secret or env.get("SHADOWDIFF_SIGNING_SECRET") or None
    deployment = args.deployment or env.get("SHADOWDIFF_DEPLOYMENT") or None
    body_limit = _positive(args.body_limit, "--body-limit", allow_zero=True)
    return CollectorSettings(
        role=args.role,
        upstream=origin,
        upstream_base_path=base_path,
        sink=sink,
        host=args.host or "0.0.0.0",
        port=port,
        admin_port=admin_port,
        signing_secret=secret,
        wait=bool(args.wait),
        correlation_header=header,
        deployment=deployment,
        body_limit=DEFAULT_BODY_LIMIT if body_limit is None else body_limit,
        redact_headers=frozenset(h.strip().lower() for h in args.redact_header or ()),
        redact_json_fields=tuple(_json_path(p) for p in args.redact_json_field or ()),
        max_concurrency=_positive(args.max_concurrency, "--max-concurrency") or 256,
        max_pending=_positive(args.max_pending, "--max-pending") or 10_000,
        max_request_bytes=_positive(args.max_request_bytes, "--max-request-bytes")
        or 32 * 1024 * 1024,
        upstream_timeout=_positive(args.upstream_timeout, "--upstream-timeout") or 30.0,
        grace_seconds=_positive(args.grace_seconds, "--grace-seconds") or 20.0,
        log_level=args.log_level or "info",
        mirror=_mirror(args, args.role, env),
    )
