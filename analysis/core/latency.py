"""Per-endpoint latency state that merges exactly where small and with stated error where not.

Each :class:`LatencySample` keeps

* two DDSketches (primary, shadow) over every paired latency, with relative
  accuracy :data:`RELATIVE_ACCURACY`: bins add up, so merging is exact and
  order-free; and
* a bottom-k sample of the pairs, keyed by a seeded 64-bit hash of the
  correlation id: the ``k`` pairs with the smallest hashes. Which pairs those
  are depends only on the set of ids, never on how the records were split into
  buckets or partitions, so every engine and worker count gets the same sample.

While the night has at most ``k`` pairs the sample *is* every pair, and
percentiles and the Mann-Whitney test are exact (numpy/scipy on all values).
Above ``k`` percentiles come from the sketches and Mann-Whitney runs on the
sample — a seeded, uniform reservoir of pairs.
"""

from __future__ import annotations

import hashlib
from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ddsketch import DDSketch

RELATIVE_ACCURACY = 0.01
DEFAULT_K = 50_000
_SEED = b"shadowdiff.latency/1"


def cid_hash(cid: str) -> int:
    """Seeded 64-bit hash of a correlation id (the bottom-k sample's key)."""
    digest = hashlib.blake2b(cid.encode("utf-8", "surrogatepass"), digest_size=8, key=_SEED)
    return int.from_bytes(digest.digest(), "big")


def _sketch() -> DDSketch:
    return DDSketch(relative_accuracy=RELATIVE_ACCURACY)


@dataclass(slots=True)
class LatencySample:
    k: int = DEFAULT_K
    total: int = 0  # pairs seen (both sides with a latency)
    hashes: array[int] = field(default_factory=lambda: array("Q"))
    primary: array[float] = field(default_factory=lambda: array("d"))
    shadow: array[float] = field(default_factory=lambda: array("d"))
    sketch_primary: DDSketch = field(default_factory=_sketch)
    sketch_shadow: DDSketch = field(default_factory=_sketch)

    def add(self, cid: str, primary_ms: float, shadow_ms: float, h: int | None = None) -> None:
        """One pair; ``h`` is ``cid_hash(cid)`` when the caller has it already."""
        self.total += 1
        self.hashes.append(cid_hash(cid) if h is None else h)
        self.primary.append(primary_ms)
        self.shadow.append(shadow_ms)
        self.sketch_primary.add(primary_ms)
        self.sketch_shadow.add(shadow_ms)
        if len(self.hashes) > 2 * self.k:
            self._prune()

    def merge(self, other: LatencySample) -> None:
        self.k = min(self.k, other.k)
        self.total += other.total
        self.hashes.extend(other.hashes)
        self.primary.extend(other.primary)
        self.shadow.extend(other.shadow)
        self.sketch_primary.merge(other.sketch_primary)
        self.sketch_shadow.merge(other.sketch_shadow)
        if len(self.hashes) > 2 * self.k:  # amortised: sample() takes the k smallest anyway
            self._prune()

    def _prune(self) -> None:
        """Keep the ``k`` smallest hashes, sorted by hash (a canonical order)."""
        h = np.frombuffer(self.hashes, dtype=np.uint64)
        order = np.argsort(h, kind="stable")[: self.k]
        p = np.frombuffer(self.primary, dtype=np.float64)[order]
        s = np.frombuffer(self.shadow, dtype=np.float64)[order]
        self.hashes = array("Q", h[order].tobytes())
        self.primary = array("d", p.tobytes())
        self.shadow = array("d", s.tobytes())

    @property
    def exact(self) -> bool:
        """Does the sample hold every pair (so statistics on it are exact)?"""
        return self.total <= self.k

    def sample(self) -> tuple[Any, Any]:
        """The sampled (primary, shadow) arrays in hash order: every pair when exact."""
        h = np.frombuffer(self.hashes, dtype=np.uint64)
        order = np.argsort(h, kind="stable")[: self.k]
        p = np.frombuffer(self.primary, dtype=np.float64)[order]
        s = np.frombuffer(self.shadow, dtype=np.float64)[order]
        return p, s

    def sketch_quantiles(self, qs: list[float]) -> tuple[list[float], list[float]]:
        def of(sk: DDSketch) -> list[float]:
            return [float(sk.get_quantile_value(q) or 0.0) for q in qs]

        return of(self.sketch_primary), of(self.sketch_shadow)
