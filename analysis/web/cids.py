"""Which hours a correlation id was captured in, from each report's own ``cids/`` index.

A lookup reads a report's small manifest once (per fingerprint) and then the ONE
shard the id hashes to (:mod:`analysis.report.cidindex`); shards live in an LRU
of ``cache_size`` files, so a year of reports never sits in memory. A report
without an index (older, or written by the Dask engine) is simply skipped.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from analysis.report import cidindex
from analysis.web.catalog import Report
from analysis.web.roots import ReportRoot
from shadowdiff.model.errors import SourceError

log = logging.getLogger("shadowdiff.serve")


@dataclass(frozen=True, slots=True)
class Located:
    """Where the records of one id are: the capture hours, and the input parts when known."""

    hours: list[tuple[str, int]]  # (dt, hour), sorted
    parts: frozenset[str]  # part tails (``role=/dt=/hour=/file``); empty when not known


class CidIndex:
    def __init__(self, root: ReportRoot, cache_size: int = 32) -> None:
        self.root = root
        self.cache_size = max(1, cache_size)
        self._lock = threading.Lock()
        self._shards: dict[tuple[str, str], int | None] = {}  # manifest per fingerprint
        self._parts: OrderedDict[tuple[str, str], list[str]] = OrderedDict()
        self._files: OrderedDict[tuple[str, str, int], bytes] = OrderedDict()

    def _shard_count(self, report: Report) -> int | None:
        key = (report.folder, report.fingerprint)
        if key in self._shards:
            return self._shards[key]
        name = f"{cidindex.DIR}/{cidindex.MANIFEST}"
        try:
            raw = self.root.read(report.folder, name)
            shards: int | None = cidindex.parse_manifest(
                raw, f"{self.root.uri}/{report.folder}/{name}"
            )
        except SourceError as exc:
            log.info("report %s has no correlation index: %s", report.id, exc)
            shards = None
        self._shards[key] = shards
        return shards

    def _shard(self, report: Report, shard: int) -> bytes:
        key = (report.folder, report.fingerprint, shard)
        raw = self._files.get(key)
        if raw is not None:
            self._files.move_to_end(key)
            return raw
        raw = self.root.read(report.folder, f"{cidindex.DIR}/{cidindex.shard_name(shard)}")
        self._files[key] = raw
        while len(self._files) > self.cache_size:
            self._files.popitem(last=False)
        return raw

    def _part_names(self, report: Report) -> list[str]:
        key = (report.folder, report.fingerprint)
        names = self._parts.get(key)
        if names is None:
            name = f"{cidindex.DIR}/{cidindex.PARTS}"
            try:
                raw = self.root.read(report.folder, name)
                names = cidindex.parse_parts(raw, f"{self.root.uri}/{report.folder}/{name}")
            except SourceError as exc:
                log.warning("report %s: %s", report.id, exc)
                names = []
            self._parts[key] = names
            while len(self._parts) > self.cache_size:
                self._parts.popitem(last=False)
        return names

    def locate(self, report: Report, cid: str) -> Located | None:
        """Where ``cid``'s records are per ``report``'s index; None when it is not there."""
        with self._lock:
            shards = self._shard_count(report)
            if shards is None:
                return None
            shard = cidindex.shard_of(cid, shards)
            where = f"{self.root.uri}/{report.folder}/{cidindex.DIR}/{cidindex.shard_name(shard)}"
            try:
                hits = cidindex.find_in_shard(self._shard(report, shard), cid, where)
            except SourceError as exc:
                log.warning("report %s: unreadable correlation index: %s", report.id, exc)
                return None
            if not hits:
                return None
            names = self._part_names(report) if any(p is not None for _, _, p in hits) else []
        hours = sorted({_hour(h) for _, h, _ in hits})
        parts = frozenset(names[p] for _, _, p in hits if p is not None and 0 <= p < len(names))
        return Located(hours, parts)


def _hour(text: str) -> tuple[str, int]:
    """``YYYY-MM-DDTHH`` → (dt, hour)."""
    dt, _, hh = text.partition("T")
    try:
        return dt, int(hh)
    except ValueError:
        return dt, 0
