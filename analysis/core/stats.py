"""Latency statistics: percentiles, Mann-Whitney U, and the contract's verdict.

:func:`latency_summary` is the one entry point for the report: exact numpy/scipy
statistics while the endpoint's bottom-k sample holds every pair, sketch
percentiles plus Mann-Whitney on the sample above that (see
:mod:`analysis.core.latency`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from analysis.core.latency import RELATIVE_ACCURACY, LatencySample

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


def latency_summary(lat: LatencySample, alpha: float, min_effect: float) -> dict[str, Any]:
    """The report's ``latency_ms`` block, plus ``exact`` and the sketch's relative accuracy."""
    a, b = lat.sample()
    block = latency_block(a, b, alpha, min_effect)
    block["exact"] = lat.exact
    block["sketch_relative_accuracy"] = RELATIVE_ACCURACY
    if lat.exact:
        return block
    pq, sq = lat.sketch_quantiles([0.5, 0.9, 0.99])
    block["primary"] = dict(zip(("p50", "p90", "p99"), pq, strict=True))
    block["shadow"] = dict(zip(("p50", "p90", "p99"), sq, strict=True))
    block["verdict"] = verdict(lat.total, block["p_value"], pq[0], sq[0], alpha, min_effect)
    block["samples"] = lat.total
    block["sampled"] = int(a.size)
    return block


def latency_chart(lat: LatencySample, points: int = 41) -> dict[str, list[float]]:
    """CDF points per side: from every value when exact, else from the sketches."""
    if lat.exact:
        a, b = lat.sample()
        return {"primary": cdf_points(a, points), "shadow": cdf_points(b, points)}
    qs = [float(q) for q in np.linspace(0.0, 1.0, points)]
    pq, sq = lat.sketch_quantiles(qs)
    return {"primary": [round(x, 3) for x in pq], "shadow": [round(x, 3) for x in sq]}


def cdf_points(values: Any, points: int = 41) -> list[float]:
    """Evenly spaced quantiles (0..100 %) for a compact CDF chart."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return []
    qs = np.linspace(0, 100, points)
    return [round(float(x), 3) for x in np.percentile(arr, qs)]
