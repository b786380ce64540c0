"""Latency statistics: percentiles, Mann-Whitney U, and the contract's verdict."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

MIN_PAIRS = 20


def percentiles(values: Sequence[float] | Any) -> dict[str, float]:
    """numpy's default (linear) percentiles, unrounded so checks can recompute them exactly."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return {"p50": 0.0, "p90": 0.0, "p99": 0.0}
    p50, p90, p99 = np.percentile(arr, [50, 90, 99])
    return {"p50": float(p50), "p90": float(p90), "p99": float(p99)}


def mann_whitney_p(primary: Sequence[float] | Any, shadow: Sequence[float] | Any) -> float:
    """Two-sided Mann-Whitney U p-value; 1.0 when it is undefined (no data, all ties)."""
    a, b = np.asarray(primary, dtype=float), np.asarray(shadow, dtype=float)
    if a.size == 0 or b.size == 0:
        return 1.0
    from scipy.stats import mannwhitneyu

    try:
        p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    except ValueError:
        return 1.0
    return 1.0 if math.isnan(p) else p


def verdict(
    n_pairs: int,
    p_value: float,
    primary_median: float,
    shadow_median: float,
    alpha: float,
    min_effect: float,
) -> str:
    """``slower``/``faster`` only when significant AND material; below 20 pairs, no call."""
    if n_pairs < MIN_PAIRS:
        return "insufficient_data"
    if p_value >= alpha:
        return "same"
    if abs(shadow_median - primary_median) <= min_effect * abs(primary_median):
        return "same"
    return "slower" if shadow_median > primary_median else "faster"


def latency_block(primary: Any, shadow: Any, alpha: float, min_effect: float) -> dict[str, Any]:
    a, b = np.asarray(primary, dtype=float), np.asarray(shadow, dtype=float)
    p_value = mann_whitney_p(a, b)
    pp, sp = percentiles(a), percentiles(b)
    p_med = float(np.median(a)) if a.size else 0.0
    s_med = float(np.median(b)) if b.size else 0.0
    return {
        "primary": pp,
        "shadow": sp,
        "p_value": p_value,
        "verdict": verdict(int(min(a.size, b.size)), p_value, p_med, s_med, alpha, min_effect),
        "delta_ms": percentiles(b - a) if a.size == b.size else percentiles([]),
        "samples": int(min(a.size, b.size)),
    }


def cdf_points(values: Any, points: int = 41) -> list[float]:
    """Evenly spaced quantiles (0..100 %) for a compact CDF chart."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return []
    qs = np.linspace(0, 100, points)
    return [round(float(x), 3) for x in np.percentile(arr, qs)]
