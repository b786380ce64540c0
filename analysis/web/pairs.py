"""Find an example pair by correlation id through each report's own ``pairs.jsonl.gz``.

A lookup never touches the night's records: the report writer already put
every example pair (records and diff) in ``pairs.jsonl.gz`` beside
``report.json``. Each file is read and split into lines once per fingerprint;
the correlation ids it holds go into a small id -> folder map that stays, while
the lines themselves live in an LRU of ``cache_size`` files, so memory stays
bounded with a year of reports in the root. Lines are parsed only when asked
for. A lookup without a report hint searches the map, then loads the files not
yet indexed, newest report first, stopping at the first hit.
"""

from __future__ import annotations

import gzip
import logging
import threading
import zlib
from collections import OrderedDict
from typing import Any

import orjson

from analysis.web.catalog import Report, Snapshot
from analysis.web.roots import PAIRS_FILE, ReportRoot
from shadowdiff.model.errors import SourceError

log = logging.getLogger("shadowdiff.serve")
_Lines = dict[str, bytes]


def index_lines(raw_gz: bytes, where: str) -> _Lines:
    """``{correlation_id: raw JSON line}`` of a pairs file; bad lines are logged and skipped."""
    try:
        text = gzip.decompress(raw_gz)
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceError(f"{where}: not a gzip file ({exc})") from exc
    out: _Lines = {}
    skipped = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            cid = orjson.loads(line).get("correlation_id")
        except (orjson.JSONDecodeError, AttributeError):
            cid = None
        if not isinstance(cid, str):
            skipped += 1
            continue
        out.setdefault(cid, line)
    if skipped:
        log.warning("%s: skipped %d lines that are not pair objects", where, skipped)
    return out


class PairIndex:
    def __init__(self, root: ReportRoot, cache_size: int = 16) -> None:
        self.root = root
        self.cache_size = max(1, cache_size)
        self._lock = threading.Lock()
        self._lines: OrderedDict[tuple[str, str], _Lines] = OrderedDict()
        self._where: dict[str, list[tuple[str, str]]] = {}  # cid -> [(folder, fingerprint)]
        self._indexed: set[tuple[str, str]] = set()

    def _load(self, report: Report) -> _Lines:
        key = (report.folder, report.fingerprint)
        cached = self._lines.get(key)
        if cached is not None:
            self._lines.move_to_end(key)
            return cached
        where = f"{self.root.uri}/{report.folder}/{PAIRS_FILE}"
        try:
            lines = index_lines(self.root.read(report.folder, PAIRS_FILE), where)
        except SourceError as exc:
            log.warning("no pairs for report %s: %s", report.id, exc)
            lines = {}
        self._lines[key] = lines
        while len(self._lines) > self.cache_size:
            self._lines.popitem(last=False)
        if key not in self._indexed:
            self._indexed.add(key)
            for cid in lines:
                self._where.setdefault(cid, []).append(key)
        return lines

    def find(
        self, snapshot: Snapshot, cid: str, report: Report | None = None
    ) -> tuple[Report, dict[str, Any]] | None:
        """``(report, pair)`` for ``cid``: in ``report`` only when given, else the newest hit."""
        with self._lock:
            candidates = [report] if report is not None else self._search_order(snapshot, cid)
            for rep in candidates:
                line = self._load(rep).get(cid)
                if line is not None:
                    pair: dict[str, Any] = orjson.loads(line)
                    return rep, pair
        return None

    def _search_order(self, snapshot: Snapshot, cid: str) -> list[Report]:
        """Reports already known to hold ``cid`` first, then every one not yet indexed."""
        live = {(r.folder, r.fingerprint): r for r in snapshot.reports}
        known = [live[key] for key in self._where.get(cid, ()) if key in live]
        known.sort(key=lambda r: (r.generated_at, r.id), reverse=True)
        rest = [r for r in snapshot.reports if (r.folder, r.fingerprint) not in self._indexed]
        return known + rest
