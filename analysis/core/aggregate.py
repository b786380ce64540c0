"""Per-partition partial aggregates that merge associatively into one night.

Every bucket of correlation IDs is reduced to a :class:`Partial` by
:func:`analysis.core.pairing.reduce_bucket` (the map) and partials are folded
with :func:`merge` (the reduce), in any grouping and order: sums, min/max,
latency sketches and bottom-k samples (:mod:`analysis.core.latency`), and
"k smallest" example lists and sketches.
Noise and verdicts need the whole night, so they are decided only by
:mod:`analysis.core.finalize` on the merged result. The same functions run
in a process pool today and on Dask later.
"""

from __future__ import annotations

from array import array
from bisect import insort
from dataclasses import dataclass, field
from datetime import datetime

from analysis.core.explain import ExplainAgg
from analysis.core.latency import DEFAULT_K, LatencySample
from analysis.core.noise import SKETCH_SIZE, merge_sketch
from analysis.core.settings import DEFAULT_EXPLAIN_SAMPLE

FieldKey = tuple[str, str]  # (path, kind)
EXAMPLES_KEPT = 5
FIELD_EXAMPLES = 3
SUMMARY_KEYS = (
    "primary_records",
    "shadow_records",
    "secondary_records",
    "pairs",
    "primary_only",
    "shadow_only",
    "duplicates",
    "invalid_records",
    "shadow_errors",
)


def push_example(examples: list[str], cid: str, k: int = EXAMPLES_KEPT) -> None:
    """Keep the ``k`` smallest distinct IDs: deterministic and mergeable in any order."""
    if cid in examples or (len(examples) >= k and cid >= examples[-1]):
        return
    insort(examples, cid)
    del examples[k:]


def merge_examples(a: list[str], b: list[str], k: int = EXAMPLES_KEPT) -> list[str]:
    return sorted(set(a) | set(b))[:k]


@dataclass(slots=True)
class FieldStat:
    count: int = 0
    checked: int = 0  # pairs sampled for the auto-noise test (the first few per bucket)
    shaped: int = 0  # of those, pairs where both values had the same volatile shape
    sketch: list[int] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    def add_hash(self, h: int) -> None:
        sk = self.sketch
        if h in sk or (len(sk) >= SKETCH_SIZE and h >= sk[-1]):
            return
        insort(sk, h)
        del sk[SKETCH_SIZE:]

    def merge(self, other: FieldStat) -> None:
        self.count += other.count
        self.checked += other.checked
        self.shaped += other.shaped
        self.sketch = merge_sketch(self.sketch, other.sketch)
        self.examples = merge_examples(self.examples, other.examples, FIELD_EXAMPLES)


@dataclass(slots=True)
class SignatureStat:
    """Pairs that differ in exactly this set of fields (decides ``body.mismatches`` later)."""

    count: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass(slots=True)
class EndpointAgg:
    k: int = EXAMPLES_KEPT  # examples kept per reason and per signature
    pairs: int = 0
    status_mismatches: int = 0
    errors: int = 0
    compared: int = 0
    sec_compared: int = 0
    matrix: dict[str, int] = field(default_factory=dict)
    latency: LatencySample = field(default_factory=LatencySample)
    fields: dict[FieldKey, FieldStat] = field(default_factory=dict)
    signatures: dict[frozenset[FieldKey], SignatureStat] = field(default_factory=dict)
    sec_fields: dict[FieldKey, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    slowest: list[tuple[float, str]] = field(default_factory=list)  # (-delta, cid), k smallest
    explain: ExplainAgg = field(default_factory=ExplainAgg)  # request attributes, sampled

    def merge(self, o: EndpointAgg) -> None:
        self.pairs += o.pairs
        self.status_mismatches += o.status_mismatches
        self.errors += o.errors
        self.compared += o.compared
        self.sec_compared += o.sec_compared
        for key, n in o.matrix.items():
            self.matrix[key] = self.matrix.get(key, 0) + n
        self.latency.merge(o.latency)
        for fk, stat in o.fields.items():
            mine = self.fields.get(fk)
            if mine is None:
                self.fields[fk] = stat
            else:
                mine.merge(stat)
        for sig, sstat in o.signatures.items():
            have = self.signatures.get(sig)
            if have is None:
                self.signatures[sig] = sstat
            else:
                have.count += sstat.count
                have.examples = merge_examples(have.examples, sstat.examples, self.k)
        for fk, n in o.sec_fields.items():
            self.sec_fields[fk] = self.sec_fields.get(fk, 0) + n
        for reason, ids in o.examples.items():
            self.examples[reason] = merge_examples(self.examples.get(reason, []), ids, self.k)
        self.slowest = sorted(set(self.slowest) | set(o.slowest))[:EXAMPLES_KEPT]
        self.explain.merge(o.explain)

    @property
    def lat_primary(self) -> array[float]:
        """The sampled primary latencies (every one while the sample is exact)."""
        return array("d", self.latency.sample()[0].tobytes())

    def referenced(self) -> set[str]:
        ids: set[str] = set()
        for stat in self.fields.values():
            ids.update(stat.examples)
        for sstat in self.signatures.values():
            ids.update(sstat.examples)
        for lst in self.examples.values():
            ids.update(lst)
        ids.update(cid for _, cid in self.slowest)
        return ids


@dataclass(slots=True)
class Partial:
    k: int = EXAMPLES_KEPT
    lat_k: int = DEFAULT_K  # bottom-k latency sample size per endpoint
    explain_k: int = DEFAULT_EXPLAIN_SAMPLE  # explain.sample: pairs of D and of R per endpoint
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SUMMARY_KEYS, 0))
    invalid_reasons: dict[str, int] = field(default_factory=dict)
    endpoints: dict[str, EndpointAgg] = field(default_factory=dict)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    # Raw lines of the pairs that may end up as examples, by correlation id and role.
    records: dict[str, dict[str, bytes]] = field(default_factory=dict)

    def endpoint(self, name: str) -> EndpointAgg:
        agg = self.endpoints.get(name)
        if agg is None:
            agg = self.endpoints[name] = EndpointAgg(
                k=self.k, latency=LatencySample(self.lat_k), explain=ExplainAgg(self.explain_k)
            )
        return agg

    def see(self, moment: datetime) -> None:
        if self.first_seen is None or moment < self.first_seen:
            self.first_seen = moment
        if self.last_seen is None or moment > self.last_seen:
            self.last_seen = moment

    def referenced(self) -> set[str]:
        ids: set[str] = set()
        for agg in self.endpoints.values():
            ids |= agg.referenced()
        return ids

    def prune_records(self) -> None:
        keep = self.referenced()
        self.records = {cid: r for cid, r in self.records.items() if cid in keep}


def merge(a: Partial, b: Partial) -> Partial:
    """Fold ``b`` into ``a`` (and return ``a``); associative and commutative."""
    for key, n in b.counts.items():
        a.counts[key] = a.counts.get(key, 0) + n
    for reason, n in b.invalid_reasons.items():
        a.invalid_reasons[reason] = a.invalid_reasons.get(reason, 0) + n
    for name, agg in b.endpoints.items():
        mine = a.endpoints.get(name)
        if mine is None:
            a.endpoints[name] = agg
        else:
            mine.merge(agg)
    if b.first_seen is not None:
        a.see(b.first_seen)
    if b.last_seen is not None:
        a.see(b.last_seen)
    a.records.update(b.records)
    a.prune_records()
    return a


def count_invalid(partial: Partial, reason: str, n: int = 1) -> None:
    partial.counts["invalid_records"] += n
    partial.invalid_reasons[reason] = partial.invalid_reasons.get(reason, 0) + n
