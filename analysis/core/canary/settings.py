"""Typed canary settings: the ``canary`` key of the report config (docs/contract.md §9).

Built once at the entry point (``shadowdiff canary``) and shipped to workers
inside :class:`CanarySpec`, frozen so every process reads the same values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analysis.core.settings import ReportSettings
from shadowdiff.model.errors import ConfigError

ARMS = ("baseline", "canary")
KEYS = ("alpha", "min_error_delta", "min_requests")


@dataclass(frozen=True, slots=True)
class CanarySettings:
    alpha: float = 0.01  # Fisher's exact test significance for error rates
    min_error_delta: float = 0.005  # absolute error-rate difference that matters
    min_requests: int = 200  # per arm, for a pass


@dataclass(frozen=True, slots=True)
class CanarySpec:
    """Everything a bucket reducer needs: the report settings it reuses and the arms' labels."""

    report: ReportSettings = field(default_factory=ReportSettings)
    canary: CanarySettings = field(default_factory=CanarySettings)
    labels: tuple[str, str] = ARMS  # deployment labels of (baseline, canary) for --records


def _bad(key: str, why: str) -> ConfigError:
    return ConfigError(f"config key 'canary.{key}': {why}")


def _rate(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise _bad(key, "expected a number from 0 to 1")
    return float(value)


def parse_canary(value: Any) -> CanarySettings:
    """``canary: {alpha, min_error_delta, min_requests}``; unknown keys are named."""
    if value is None:
        return CanarySettings()
    if not isinstance(value, dict):
        raise ConfigError("config key 'canary': expected a mapping")
    for key in value:
        if key not in KEYS:
            raise _bad(str(key), "unknown key (expected one of " + ", ".join(KEYS) + ")")
    out = CanarySettings()
    alpha = _rate(value.get("alpha", out.alpha), "alpha")
    if alpha == 0:
        raise _bad("alpha", "expected a number above 0 and at most 1")
    delta = _rate(value.get("min_error_delta", out.min_error_delta), "min_error_delta")
    n = value.get("min_requests", out.min_requests)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise _bad("min_requests", "expected a whole number of at least 1")
    return CanarySettings(alpha, delta, n)
