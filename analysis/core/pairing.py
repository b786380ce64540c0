"""One bucket of correlation IDs → a :class:`Partial`: validate, dedupe, window, join, diff.

Lines arrive as ``(sequence, role, line)`` where ``sequence`` is the read
order (file index, line number). Invalid lines are counted by reason
(:func:`shadowdiff.model.validate.check_record`) and skipped; records of a role
their source does not keep are dropped; a repeated ``(correlation_id, role)``
keeps the first one read and counts the rest as ``duplicates`` (deduped before
the window is applied, docs/analysis.md "Order of operations"). Records of the ``unwindowed``
roles are kept whatever their ``captured_at``: a replay's answers are captured
now, and its window selects the original primaries only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson

from analysis.core.aggregate import (
    EXAMPLES_KEPT,
    FIELD_EXAMPLES,
    EndpointAgg,
    FieldKey,
    FieldStat,
    Partial,
    SignatureStat,
    count_invalid,
    push_example,
)
from analysis.core.explain import NO_DIFF
from analysis.core.latency import cid_hash
from analysis.core.leaves import RawDiff
from analysis.core.noise import SHAPE_SAMPLE, value_hash, volatile_shape
from analysis.core.responses import (
    CLOUDFRONT_MARK,
    diff_options,
    record_endpoint,
    response_diffs,
)
from analysis.core.settings import ReportSettings
from shadowdiff.model.errors import InvalidRecord
from shadowdiff.model.validate import check_record

Window = tuple[datetime | None, datetime | None]
Latest = dict[tuple[str, str], tuple[Any, dict[str, Any], datetime]]


def first_records(
    lines: Iterable[tuple[Any, str | None, bytes]], invalid: dict[str, int]
) -> tuple[Latest, int]:
    """Valid records of the role their source keeps, the first read of each (id, role).

    Returns ``{(correlation_id, role): (read order, record, captured_at)}`` and the
    number of duplicates dropped; invalid lines are counted into ``invalid`` by reason.
    """
    latest: Latest = {}
    dups = 0
    loads = orjson.loads
    for seq, keep_role, line in lines:
        try:
            obj = loads(line)
        except orjson.JSONDecodeError:
            invalid["not JSON"] = invalid.get("not JSON", 0) + 1
            continue
        try:
            moment = check_record(obj)
        except InvalidRecord as exc:
            invalid[exc.reason] = invalid.get(exc.reason, 0) + 1
            continue
        role = obj["role"]
        if keep_role is not None and role != keep_role:
            continue
        key = (obj["correlation_id"], role)
        have = latest.get(key)
        if have is not None:
            dups += 1
            if have[0] <= seq:
                continue
        latest[key] = (seq, obj, moment)
    return latest, dups


class BucketReducer:
    """Holds the settings-derived state one worker reuses across buckets."""

    def __init__(
        self,
        settings: ReportSettings,
        window: Window,
        index: bool = False,
        unwindowed: frozenset[str] = frozenset(),
    ) -> None:
        self.settings = settings
        self.unwindowed = unwindowed  # roles the window does not select
        # With ``index``, ``kept`` holds (cid, role, captured_at, read order) of every
        # record kept after dedupe and window: the engine writes the report's cids/ shard.
        self.index = index
        self.kept: list[tuple[str, str, datetime, Any]] = []
        self.since, self.until = window
        self.opts = diff_options(settings)
        self.headers = settings.headers_to_compare()
        self.routes = settings.routes
        self.k = max(1, settings.examples_per_reason)
        self.explain_headers = settings.explain_headers

    # ------------------------------------------------------------ reduce
    def reduce(self, lines: Iterable[tuple[Any, str | None, bytes]]) -> Partial:
        """``lines``: (read order, role the source keeps or None, raw line).

        The read order is any comparable value (a ``(file, line)`` tuple, or the
        engine's fixed-width spill prefix, which sorts the same way).
        """
        partial = Partial(
            k=self.k, lat_k=self.settings.latency_sample, explain_k=self.settings.explain_sample
        )
        invalid: dict[str, int] = {}
        latest, dups = first_records(lines, invalid)
        for reason, n in invalid.items():
            count_invalid(partial, reason, n)
        partial.counts["duplicates"] += dups
        by_cid: dict[str, dict[str, dict[str, Any]]] = {}
        since, until = self.since, self.until
        first = last = None
        counts = dict.fromkeys(("primary", "shadow", "secondary"), 0)
        shadow_errors = 0
        self.kept = []
        kept = self.kept if self.index else None
        free = self.unwindowed
        for (cid, role), (seq, obj, moment) in latest.items():
            if (
                (since is not None and moment < since) or (until is not None and moment >= until)
            ) and role not in free:
                continue
            if kept is not None:
                kept.append((cid, role, moment, seq))
            if first is None or moment < first:
                first = moment
            if last is None or moment > last:
                last = moment
            counts[role] += 1
            if role == "shadow" and obj.get("response") is None:
                shadow_errors += 1
            roles = by_cid.get(cid)
            if roles is None:
                by_cid[cid] = {role: obj}
            else:
                roles[role] = obj
        if first is not None and last is not None:
            partial.see(first)
            partial.see(last)
        for role, n in counts.items():
            partial.counts[f"{role}_records"] += n
        partial.counts["shadow_errors"] += shadow_errors
        for cid, roles in by_cid.items():
            self._join(partial, cid, roles)
        keep = partial.referenced()
        for cid in keep:
            found = by_cid.get(cid)
            if found is not None:
                partial.records[cid] = {role: orjson.dumps(obj) for role, obj in found.items()}
        return partial

    # ------------------------------------------------------------ one id
    def _join(self, partial: Partial, cid: str, roles: dict[str, dict[str, Any]]) -> None:
        prim = roles.get("primary")
        shad = roles.get("shadow")
        sec = roles.get("secondary")
        if prim is not None and sec is not None:
            self._secondary(partial, prim, sec)
        if prim is None:
            if shad is not None:
                partial.counts["shadow_only"] += 1
            return
        if shad is None:
            partial.counts["primary_only"] += 1
            return
        partial.counts["pairs"] += 1
        agg = partial.endpoint(record_endpoint(prim, self.routes))
        agg.pairs += 1
        h = cid_hash(cid)  # the latency sample's key and explain's sampling level
        request = prim.get("request") or {}
        pr, sr = prim.get("response"), shad.get("response")
        if sr is None:
            agg.errors += 1
            push_example(agg.examples.setdefault("error", []), cid, self.k)
        if pr is None or sr is None:
            agg.explain.add(h, "", None, request, self.explain_headers)
            return
        cell = f"{pr['status']}->{sr['status']}"
        agg.matrix[cell] = agg.matrix.get(cell, 0) + 1
        pl, sl = prim.get("latency_ms"), shad.get("latency_ms")
        if pl is not None and sl is not None:
            agg.latency.add(cid, float(pl), float(sl), h)
            slow = (-(float(sl) - float(pl)), cid)
            if len(agg.slowest) < EXAMPLES_KEPT or slow < agg.slowest[-1]:
                agg.slowest = sorted([*agg.slowest, slow])[:EXAMPLES_KEPT]
        if pr["status"] != sr["status"]:
            agg.status_mismatches += 1
            push_example(agg.examples.setdefault("status", []), cid, self.k)
            agg.explain.add(h, cell, None, request, self.explain_headers)
            return
        if prim.get(CLOUDFRONT_MARK):
            agg.explain.add(h, cell, None, request, self.explain_headers)
            return  # a CloudFront log line has status and latency, no body
        agg.compared += 1
        diffs = response_diffs(pr, sr, self.opts, self.headers)
        sig = self._fields(agg, cid, diffs) if diffs else NO_DIFF
        agg.explain.add(h, cell, sig, request, self.explain_headers)

    def _fields(self, agg: EndpointAgg, cid: str, diffs: list[RawDiff]) -> frozenset[FieldKey]:
        """Count each differing field; returns the pair's signature (its set of fields)."""
        auto = self.settings.auto_noise
        keys = []
        for path, kind, pv, sv in diffs:
            fk = (path, kind)
            keys.append(fk)
            stat = agg.fields.get(fk)
            if stat is None:
                stat = agg.fields[fk] = FieldStat()
            stat.count += 1
            push_example(stat.examples, cid, FIELD_EXAMPLES)
            if auto and kind == "changed" and stat.checked < SHAPE_SAMPLE:
                stat.checked += 1
                shape = volatile_shape(sv)
                if shape is not None and shape == volatile_shape(pv):
                    stat.shaped += 1
                stat.add_hash(value_hash(sv))
        sig = frozenset(keys)
        sstat = agg.signatures.get(sig)
        if sstat is None:
            sstat = agg.signatures[sig] = SignatureStat()
        sstat.count += 1
        push_example(sstat.examples, cid, self.k)
        return sig

    def _secondary(self, partial: Partial, prim: dict[str, Any], sec: dict[str, Any]) -> None:
        pr, xr = prim.get("response"), sec.get("response")
        if pr is None or xr is None or pr["status"] != xr["status"] or prim.get(CLOUDFRONT_MARK):
            return
        agg = partial.endpoint(record_endpoint(prim, self.routes))
        agg.sec_compared += 1
        for path, kind, _, _ in response_diffs(pr, xr, self.opts, self.headers):
            fk = (path, kind)
            agg.sec_fields[fk] = agg.sec_fields.get(fk, 0) + 1
