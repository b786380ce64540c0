"""One arm's latencies: the report's DDSketch and seeded bottom-k sample, for unpaired values.

The report keeps *pairs* (:class:`analysis.core.latency.LatencySample`); a canary
compares two independent groups of requests, so each arm keeps its own sketch
(same relative accuracy, merged exactly) and its own bottom-k sample keyed by the
same seeded hash of the correlation id (:func:`analysis.core.latency.cid_hash`),
so the sample, and therefore Mann-Whitney, does not depend on how records were
split into buckets, workers or engines.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ddsketch import DDSketch

from analysis.core.latency import DEFAULT_K, RELATIVE_ACCURACY, cid_hash
from analysis.core.stats import cdf_points, latency_block, verdict


def _sketch() -> DDSketch:
    return DDSketch(relative_accuracy=RELATIVE_ACCURACY)


@dataclass(slots=True)
class ArmLatency:
    k: int = DEFAULT_K
    total: int = 0
    hashes: array[int] = field(default_factory=lambda: array("Q"))
    values: array[float] = field(default_factory=lambda: array("d"))
    sketch: DDSketch = field(default_factory=_sketch)

    def add(self, cid: str, ms: float, h: int | None = None) -> None:
        """One value; ``h`` the id's :func:`cid_hash` when the caller has it already."""
        self.total += 1
        self.hashes.append(cid_hash(cid) if h is None else h)
        self.values.append(ms)
        self.sketch.add(ms)
        if len(self.hashes) > 2 * self.k:
            self._keep_smallest()

    def merge(self, other: ArmLatency) -> None:
        self.k = min(self.k, other.k)
        self.total += other.total
        self.hashes.extend(other.hashes)
        self.values.extend(other.values)
        self.sketch.merge(other.sketch)
        if len(self.hashes) > 2 * self.k:
            self._keep_smallest()

    def _order(self) -> Any:
        return np.argsort(np.frombuffer(self.hashes, dtype=np.uint64), kind="stable")[: self.k]

    def _keep_smallest(self) -> None:
        order = self._order()
        self.hashes = array("Q", np.frombuffer(self.hashes, dtype=np.uint64)[order].tobytes())
        self.values = array("d", np.frombuffer(self.values, dtype=np.float64)[order].tobytes())

    @property
    def exact(self) -> bool:
        return self.total <= self.k

    def sample(self) -> Any:
        """The sampled values in hash order: every value while exact."""
        return np.frombuffer(self.values, dtype=np.float64)[self._order()]

    def quantiles(self, qs: list[float]) -> list[float]:
        return [float(self.sketch.get_quantile_value(q) or 0.0) for q in qs]


def compare(
    baseline: ArmLatency, canary: ArmLatency, alpha: float, min_effect: float
) -> dict[str, Any]:
    """The canary's ``latency_ms`` block: §4's test and verdict between the two arms."""
    block = latency_block(baseline.sample(), canary.sample(), alpha, min_effect)
    out: dict[str, Any] = {
        "baseline": block["primary"],
        "canary": block["shadow"],
        "p_value": block["p_value"],
        "verdict": block["verdict"],
        "samples": {"baseline": baseline.total, "canary": canary.total},
        "exact": baseline.exact and canary.exact,
    }
    if out["exact"]:
        return out
    names = ("p50", "p90", "p99")
    bq, cq = baseline.quantiles([0.5, 0.9, 0.99]), canary.quantiles([0.5, 0.9, 0.99])
    out["baseline"] = dict(zip(names, bq, strict=True))
    out["canary"] = dict(zip(names, cq, strict=True))
    n = min(baseline.total, canary.total)
    out["verdict"] = verdict(n, block["p_value"], bq[0], cq[0], alpha, min_effect)
    return out


def chart(lat: ArmLatency, points: int = 41) -> list[float]:
    """CDF points (0..100 %) of one arm: from every value when exact, else from the sketch."""
    if lat.total == 0:
        return []
    if lat.exact:
        return cdf_points(lat.sample(), points)
    qs = [float(q) for q in np.linspace(0.0, 1.0, points)]
    return [round(x, 3) for x in lat.quantiles(qs)]
