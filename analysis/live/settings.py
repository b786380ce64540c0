"""The typed settings of ``shadowdiff watch``, built once from the flags and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from analysis.core.settings import ReportSettings
from analysis.live.duration import parse_duration
from shadowdiff.model.errors import ConfigError

DEFAULT_LATENCY_SAMPLE = 10_000


@dataclass(frozen=True, slots=True)
class WatchSettings:
    reports: str
    name: str = "live"
    records: str | None = None
    primary: str | None = None
    shadow: str | None = None
    secondary: str | None = None
    every: float = 60.0  # seconds between ticks
    window: float = 3600.0  # seconds of captured_at the report covers
    grace: float = 120.0  # seconds an id waits for its other side
    settings: ReportSettings = field(default_factory=ReportSettings)
    fail_on: tuple[str, ...] = ()
    alert_webhook: str | None = None
    report_url: str | None = None  # where `shadowdiff serve` shows the report (alert links)
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"

    @property
    def named_sources(self) -> dict[str, str | None]:
        return {
            "records": self.records,
            "primary": self.primary,
            "shadow": self.shadow,
            "secondary": self.secondary,
        }


def _http_url(url: str | None, flag: str) -> str | None:
    if url is None:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{flag} {url!r}: expected an http:// or https:// URL")
    return url


def build_watch_settings(
    *,
    reports: str,
    name: str = "live",
    records: str | None = None,
    primary: str | None = None,
    shadow: str | None = None,
    secondary: str | None = None,
    every: str = "60",
    window: str = "1h",
    grace: str = "2m",
    settings: ReportSettings | None = None,
    fail_on: tuple[str, ...] = (),
    alert_webhook: str | None = None,
    report_url: str | None = None,
    metrics_port: int | None = None,
    metrics_host: str = "127.0.0.1",
) -> WatchSettings:
    """Check every value (one-line :class:`ConfigError` naming the flag)."""
    if not reports:
        raise ConfigError("--reports is empty: give a directory or s3://bucket/prefix")
    if not any((records, primary, shadow, secondary)):
        raise ConfigError("no input: give --records SRC or --primary/--shadow SRC")
    if metrics_port is not None and not 0 <= metrics_port <= 65535:
        raise ConfigError(f"--metrics-port {metrics_port} is not a TCP port (0-65535)")
    return WatchSettings(
        reports=reports,
        name=name,
        records=records,
        primary=primary,
        shadow=shadow,
        secondary=secondary,
        every=parse_duration(every, "--every"),
        window=parse_duration(window, "--window"),
        grace=_grace(grace),
        settings=settings or ReportSettings(),
        fail_on=fail_on,
        alert_webhook=_http_url(alert_webhook, "--alert-webhook"),
        report_url=_http_url(report_url, "--report-url"),
        metrics_port=metrics_port,
        metrics_host=metrics_host,
    )


def _grace(text: str) -> float:
    if text.strip() in ("0", "0s"):
        return 0.0
    return parse_duration(text, "--grace")
