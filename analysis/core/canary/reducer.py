"""One bucket of correlation ids → a :class:`CanaryPartial`, run by the report's engine.

Validation, dedupe and read order are the report's own
(:func:`analysis.core.pairing.first_records`): every record here is role
``primary``, so a repeated correlation id is a repeat delivery whichever arm it
claims, and the first one read wins. The arm is the source's (``--baseline-records``
/ ``--canary-records``: the engine tags each line with it) or, for one source
holding both (``--records``), the record's ``deployment`` label.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from analysis.core.aggregate import push_example
from analysis.core.bodies import NOT_JSON, body_bytes, content_type, is_json_type, parse_json
from analysis.core.canary.partial import CanaryPartial, merge
from analysis.core.canary.settings import ARMS, CanarySpec
from analysis.core.canary.shapes import leaves
from analysis.core.latency import cid_hash
from analysis.core.pairing import first_records
from analysis.core.responses import record_endpoint

Window = tuple[datetime | None, datetime | None]
Line = tuple[Any, str | None, bytes]


def _as_primary(lines: Iterable[Line]) -> Iterator[Line]:
    """Keep only primary records, carrying each line's arm tag inside its read order."""
    for seq, tag, line in lines:
        yield (seq, tag), "primary", line


class CanaryReducer:
    index = False  # a canary writes no correlation index
    kept: list[tuple[str, str, datetime, Any]]

    def __init__(self, spec: CanarySpec, window: Window) -> None:
        self.spec = spec
        self.since, self.until = window
        self.routes = spec.report.routes
        self.labels = {spec.labels[0]: ARMS[0], spec.labels[1]: ARMS[1]}
        self.explain_headers = spec.report.explain_headers
        self.kept = []

    def reduce(self, lines: Iterable[Line]) -> CanaryPartial:
        report = self.spec.report
        partial = CanaryPartial(lat_k=report.latency_sample, explain_k=report.explain_sample)
        latest, dups = first_records(_as_primary(lines), partial.invalid_reasons)
        counts = partial.counts
        counts["invalid_records"] += sum(partial.invalid_reasons.values())
        counts["duplicates"] += dups
        since, until = self.since, self.until
        for (cid, _), ((_, tag), obj, moment) in latest.items():
            if (since is not None and moment < since) or (until is not None and moment >= until):
                continue
            arm = tag if tag in ARMS else self.labels.get(str(obj.get("deployment")))
            if arm is None:
                counts["unlabelled"] += 1
                continue
            counts[f"{arm}_records"] += 1
            partial.see(moment)
            self._add(partial, cid, obj, arm)
        return partial

    def _add(self, partial: CanaryPartial, cid: str, obj: dict[str, Any], arm: str) -> None:
        stats = partial.arm(record_endpoint(obj, self.routes), arm)
        stats.requests += 1
        resp = obj.get("response")
        h = cid_hash(cid)  # the latency sample's key and explain's sampling level
        failed = resp is None or int(resp["status"]) >= 500
        if arm == "canary":  # what the canary's failed requests share (docs/contract.md §12)
            stats.why.add(h, failed, obj.get("request") or {}, self.explain_headers)
        if resp is None:
            stats.no_response += 1
            push_example(stats.examples, cid)
            return
        status = int(resp["status"])
        cls = f"{status // 100}xx"
        if cls in stats.status:
            stats.status[cls] += 1
        if failed:
            push_example(stats.examples, cid)
        latency = obj.get("latency_ms")
        if latency is not None:
            stats.latency.add(cid, float(latency), h)
        if (
            200 <= status < 300
            and not resp.get("body_truncated")
            and is_json_type(content_type(resp.get("headers")))
        ):
            doc = parse_json(body_bytes(resp))
            if doc is not NOT_JSON:
                stats.shapes.add(leaves(doc))


@dataclass(frozen=True, slots=True)
class CanaryReduction:
    """What the engine (:mod:`analysis.engine`) runs per bucket for a canary."""

    spec: CanarySpec

    def reducer(
        self, window: Window, index: bool, unwindowed: frozenset[str] = frozenset()
    ) -> CanaryReducer:
        return CanaryReducer(self.spec, window)

    def empty(self) -> CanaryPartial:
        return CanaryPartial(lat_k=self.spec.report.latency_sample)

    def merge(self, a: CanaryPartial, b: CanaryPartial) -> CanaryPartial:
        return merge(a, b)
