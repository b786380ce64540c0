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

from analysis.report import cidindex
from analysis.web.catalog import Report
from analysis.web.roots import ReportRoot
from shadowdiff.errors import SourceError

log = logging.getLogger("shadowdiff.serve")
Hours = dict[str, list[str]]  # role -> ["YYYY-MM-DDTHH", ...]


class CidIndex:
    def __init__(self, root: ReportRoot, cache_size: int = 32) -> None:
        self.root = root
        self.cache_size = max(1, cache_size)
        self._lock = threading.Lock()
        self._shards: dict[tuple[str, str], int | None] = {}  # manifest per fingerprint
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

    def hours(self, report: Report, cid: str) -> Hours | None:
        """``{role: [hour, ...]}`` for ``cid`` in ``report`` (empty: not there; None: no index)."""
        with self._lock:
            shards = self._shard_count(report)
            if shards is None:
                return None
            shard = cidindex.shard_of(cid, shards)
            where = f"{self.root.uri}/{report.folder}/{cidindex.DIR}/{cidindex.shard_name(shard)}"
            try:
                return cidindex.find_in_shard(self._shard(report, shard), cid, where)
            except SourceError as exc:
                log.warning("report %s: unreadable correlation index: %s", report.id, exc)
                return None
