"""Per-bucket canary aggregates that merge associatively (sums, sketches, bottom-k sets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from analysis.core.aggregate import EXAMPLES_KEPT, merge_examples
from analysis.core.canary.latency import ArmLatency
from analysis.core.canary.settings import ARMS
from analysis.core.canary.shapes import Shapes
from analysis.core.canary.why import FailureSample
from analysis.core.latency import DEFAULT_K
from analysis.core.settings import DEFAULT_EXPLAIN_SAMPLE

CLASSES = ("2xx", "3xx", "4xx", "5xx")
COUNT_KEYS = (
    "baseline_records",
    "canary_records",
    "duplicates",
    "invalid_records",
    "unlabelled",  # primary records whose deployment is neither arm's label (--records)
    "other_roles",  # shadow/secondary records in the sources, which a canary ignores
)


@dataclass(slots=True)
class ArmStats:
    """One arm of one endpoint."""

    requests: int = 0
    status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CLASSES, 0))
    no_response: int = 0  # records with ``response: null`` (timeouts, resets)
    latency: ArmLatency = field(default_factory=ArmLatency)
    shapes: Shapes = field(default_factory=Shapes)
    examples: list[str] = field(default_factory=list)  # a few failed requests' ids
    why: FailureSample = field(default_factory=FailureSample)  # the canary arm's, for explain

    @property
    def errors(self) -> int:
        """5xx responses plus records without a response (docs/contract.md §9)."""
        return self.status["5xx"] + self.no_response

    def merge(self, other: ArmStats) -> None:
        self.requests += other.requests
        for key, n in other.status.items():
            self.status[key] = self.status.get(key, 0) + n
        self.no_response += other.no_response
        self.latency.merge(other.latency)
        self.shapes.merge(other.shapes)
        self.examples = merge_examples(self.examples, other.examples, EXAMPLES_KEPT)
        self.why.merge(other.why)


@dataclass(slots=True)
class CanaryPartial:
    lat_k: int = DEFAULT_K
    explain_k: int = DEFAULT_EXPLAIN_SAMPLE
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    invalid_reasons: dict[str, int] = field(default_factory=dict)
    endpoints: dict[str, dict[str, ArmStats]] = field(default_factory=dict)
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    def arm(self, endpoint: str, arm: str) -> ArmStats:
        arms = self.endpoints.get(endpoint)
        if arms is None:
            arms = self.endpoints[endpoint] = {
                a: ArmStats(latency=ArmLatency(self.lat_k), why=FailureSample(self.explain_k))
                for a in ARMS
            }
        return arms[arm]

    def see(self, moment: datetime) -> None:
        if self.first_seen is None or moment < self.first_seen:
            self.first_seen = moment
        if self.last_seen is None or moment > self.last_seen:
            self.last_seen = moment


def merge(a: CanaryPartial, b: CanaryPartial) -> CanaryPartial:
    """Fold ``b`` into ``a`` (and return ``a``); associative and commutative."""
    for key, n in b.counts.items():
        a.counts[key] = a.counts.get(key, 0) + n
    for reason, n in b.invalid_reasons.items():
        a.invalid_reasons[reason] = a.invalid_reasons.get(reason, 0) + n
    for name, arms in b.endpoints.items():
        mine = a.endpoints.get(name)
        if mine is None:
            a.endpoints[name] = arms
            continue
        for arm, stats in arms.items():
            mine[arm].merge(stats)
    for moment in (b.first_seen, b.last_seen):
        if moment is not None:
            a.see(moment)
    return a
