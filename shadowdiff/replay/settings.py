"""Typed settings of one replay, built once from the flags; every bad value names its flag.

The parsers are plain functions so each rule (what ``--rate`` accepts, what a
``--set-header`` may set) is tested without starting anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from analysis.core.settings import ReportSettings
from shadowdiff.model.errors import ConfigError

DEFAULT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_CONCURRENCY = 16
DEFAULT_TIMEOUT = 10.0
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 token
# Framing is the client's business: a replayed request's length is its body's.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection"})


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """One replay target: where to send, and the record role its answers get."""

    url: str
    origin: str  # scheme://host[:port]
    base_path: str  # "" or "/base", put before every replayed path
    role: str  # shadow | secondary
    flag: str  # --target | --secondary-target, for messages


@dataclass(frozen=True, slots=True)
class ReplaySettings:
    source: str  # where the primary records are
    source_flag: str  # --records | --primary
    targets: tuple[TargetSpec, ...]  # the shadow target first
    out: str
    since: datetime | None = None
    until: datetime | None = None
    rate: float | None = None  # None: as fast as --concurrency allows
    concurrency: int = DEFAULT_CONCURRENCY
    methods: frozenset[str] = DEFAULT_METHODS
    set_headers: tuple[tuple[str, str], ...] = ()
    deployment: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    keep_records: str | None = None
    fail_on: tuple[str, ...] = ()
    work_dir: str | None = None
    report_settings: ReportSettings = field(default_factory=ReportSettings, repr=False)

    @property
    def set_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.set_headers)


def parse_rate(text: str) -> float | None:
    """``--rate``: ``max`` (None) or a positive speed factor (``2`` = twice as fast)."""
    if text.strip().lower() == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"--rate: {text!r} is not a positive number or 'max'")
    return value


def parse_methods(text: str) -> frozenset[str]:
    """``--methods GET,POST``: upper-cased HTTP method tokens."""
    methods = [m.strip().upper() for m in text.split(",") if m.strip()]
    if not methods:
        raise ConfigError(f"--methods: {text!r} names no method (e.g. GET,HEAD,OPTIONS)")
    for method in methods:
        if not method.isalpha():
            raise ConfigError(f"--methods: {method!r} is not an HTTP method")
    return frozenset(methods)


def parse_set_header(text: str) -> tuple[str, str]:
    """``--set-header NAME=VALUE`` → (lower-case name, value); the value may be empty."""
    name, eq, value = text.partition("=")
    name = name.strip().lower()
    if not eq:
        raise ConfigError(f"--set-header: {text!r} is not NAME=VALUE")
    if not _TOKEN.match(name):
        raise ConfigError(f"--set-header: {name!r} in {text!r} is not a header name")
    if name in _FRAMING:
        raise ConfigError(f"--set-header: {name} is set by the client, not by a flag")
    if any(c in value for c in "\r\n\0"):
        raise ConfigError(f"--set-header: the value of {name} holds a line break")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise ConfigError(f"--set-header: the value of {name} is not Latin-1 text") from exc
    return name, value


def parse_target(url: str, flag: str, role: str) -> TargetSpec:
    from collector.settings import parse_upstream

    origin, base_path = parse_upstream(url, flag)
    return TargetSpec(url=url, origin=origin, base_path=base_path, role=role, flag=flag)


def _positive(value: float | None, flag: str, default: float) -> float:
    if value is None:
        return default
    if not value > 0:
        raise ConfigError(f"{flag}: must be > 0, got {value}")
    return value


def build_settings(
    args: Any, report_settings: ReportSettings, fail_on: tuple[str, ...]
) -> ReplaySettings:
    """The settings from an argparse namespace; ``report_settings`` from ``--config``."""
    if bool(args.records) == bool(args.primary):
        raise ConfigError("give exactly one of --records SRC and --primary SRC")
    source, source_flag = (
        (args.records, "--records") if args.records else (args.primary, "--primary")
    )
    targets = [parse_target(args.target, "--target", "shadow")]
    if args.secondary_target:
        targets.append(parse_target(args.secondary_target, "--secondary-target", "secondary"))
    if args.since is not None and args.until is not None and args.since >= args.until:
        raise ConfigError("--since must be earlier than --until")
    concurrency = DEFAULT_CONCURRENCY if args.concurrency is None else int(args.concurrency)
    if concurrency < 1:
        raise ConfigError(f"--concurrency: must be at least 1, got {concurrency}")
    keep = args.keep_records or None
    if keep is not None:
        from collector.settings import parse_sink

        parse_sink(keep, "--keep-records")
    headers: dict[str, str] = {}
    for text in args.set_header or ():
        name, value = parse_set_header(text)
        headers[name] = value  # the last one given wins
    return ReplaySettings(
        source=source,
        source_flag=source_flag,
        targets=tuple(targets),
        out=args.out,
        since=args.since,
        until=args.until,
        rate=parse_rate(args.rate),
        concurrency=concurrency,
        methods=parse_methods(args.methods),
        set_headers=tuple(headers.items()),
        deployment=args.deployment or None,
        timeout=_positive(args.timeout, "--timeout", DEFAULT_TIMEOUT),
        keep_records=keep,
        fail_on=fail_on,
        work_dir=args.work_dir,
        report_settings=report_settings,
    )
