"""Typed report settings (docs/contract.md §5), built once at the entry point and passed down.

Pure data: :mod:`analysis.config` builds it from YAML and rejects bad keys; the
core only reads it. Frozen so it can be shared by worker processes unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_COMPARE_HEADERS = ("content-type", "cache-control", "location")
DEFAULT_EXPLAIN_HEADERS = ("accept", "accept-language", "content-type", "user-agent")
DEFAULT_EXPLAIN_SAMPLE = 10_000


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    """Paths (contract notation) that are noise for endpoints matching ``endpoint`` (fnmatch)."""

    endpoint: str
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReportSettings:
    ignore: tuple[IgnoreRule, ...] = ()
    ignore_headers: tuple[str, ...] = ()
    compare_headers: tuple[str, ...] = DEFAULT_COMPARE_HEADERS
    numeric_absolute: float = 0.0
    numeric_relative: float = 0.0
    ignore_list_order: bool = False
    routes: tuple[str, ...] = ()
    latency_alpha: float = 0.01
    latency_min_effect: float = 0.05
    fail_on: tuple[str, ...] = ()
    # Diffy-style margins: a field that also differs between primary and
    # secondary is reported only when its raw rate beats the noise rate by
    # both margins (absolute: rate points; relative: fraction of noise rate).
    secondary_absolute: float = 0.03
    secondary_relative: float = 0.2
    auto_noise: bool = True
    examples_per_reason: int = 5
    latency_sample: int = 50_000  # bottom-k pairs per endpoint: exact statistics up to this
    explain_headers: tuple[str, ...] = DEFAULT_EXPLAIN_HEADERS  # request headers explain names
    explain_sample: int = DEFAULT_EXPLAIN_SAMPLE  # pairs of D and of R counted; 0: off
    extra: dict[str, str] = field(default_factory=dict)

    def headers_to_compare(self) -> tuple[str, ...]:
        ignored = {h.lower() for h in self.ignore_headers}
        return tuple(h.lower() for h in self.compare_headers if h.lower() not in ignored)
