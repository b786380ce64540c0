"""Why the canary's requests fail: the request attributes its errors share (docs/contract.md §12).

A canary that fails with "POST /orders: 5xx 4.8 % on canary vs 0.3 % on
baseline" leaves the engineer to find, by eye, which orders fail. For every
endpoint, the canary arm's requests are kept as two deterministic samples of
request rows (:mod:`analysis.core.attrsample`, level-sampled by the hash of
the correlation id, mergeable in any order): the ones that failed (5xx or no
response) and the ones that did not. For an endpoint whose errors are
``worse``, :func:`analysis.core.contrast.explain_sets` then lists the
attributes that set the failed ones apart, with the report's thresholds:
"100 % of these requests (16), and 0 % of the others, have body `bulk` = `true`".

Memory is bounded as in the report: each sample drops the levels its final
sample level cannot reach once it holds more than four times ``size`` rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.core.attributes import request_row
from analysis.core.attrsample import AttrSample, level_of, prune_due, sample_level
from analysis.core.contrast import explain_sets
from analysis.core.settings import DEFAULT_EXPLAIN_SAMPLE


@dataclass(slots=True)
class FailureSample:
    """One endpoint's canary requests for ``explain``: failed and served, each sampled."""

    size: int = DEFAULT_EXPLAIN_SAMPLE  # 0: explain is off
    failed: AttrSample = field(default_factory=AttrSample)
    served: AttrSample = field(default_factory=AttrSample)
    kept: int = 0  # rows held; prune when past 4 x size and twice the last prune
    prune_at: int = 0

    def add(
        self, h: int, failed: bool, request: Mapping[str, Any], headers: tuple[str, ...]
    ) -> None:
        """One canary request: ``h`` its correlation id's hash (the latency sample's key)."""
        if self.size <= 0:
            return
        sample = self.failed if failed else self.served
        level = level_of(h)
        if not sample.wants(level):
            sample.see(level)
            return
        sample.add(level, request_row(request, headers))
        self.kept += 1
        if prune_due(self.kept, self.prune_at, self.size):
            self.prune()

    def merge(self, other: FailureSample) -> None:
        self.size = min(self.size, other.size)
        self.failed.merge(other.failed)
        self.served.merge(other.served)
        self.kept += other.kept
        if prune_due(self.kept, self.prune_at, self.size):
            self.prune()

    def prune(self) -> None:
        for sample in (self.failed, self.served):
            sample.restrict(sample_level((sample.n,), self.size))
        self.kept = self.failed.retained() + self.served.retained()
        self.prune_at = 2 * self.kept

    def explain(self, failed: int, served: int, headers: tuple[str, ...]) -> list[dict[str, Any]]:
        """What the failed requests (``failed`` of them) share that the ``served`` do not."""
        if self.size <= 0 or failed <= 0 or served <= 0:
            return []
        return explain_sets([self.failed], [self.served], headers, self.size, failed, served)
