"""The parsed ``report.json`` of every folder in the root, newest first, kept fresh cheaply.

Each call to :meth:`Catalog.snapshot` relists the root at most once every
``rescan_seconds`` and parses only the folders whose fingerprint is new, so a
report written while the service runs appears within that time, and an index
request over 365 nights costs one listing and no parsing. A ``report.json``
that does not parse or is not a ``shadowdiff.report/1`` object is logged once
(per fingerprint) and left out; it never fails the index.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from analysis.web.roots import REPORT_FILE, ReportRoot
from shadowdiff.model.errors import SourceError

REPORT_SCHEMA = "shadowdiff.report/1"
CANARY_SCHEMA = "shadowdiff.canary/1"
log = logging.getLogger("shadowdiff.serve")


@dataclass(frozen=True, slots=True)
class Report:
    folder: str
    fingerprint: str
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def generated_at(self) -> str:
        return str(self.data.get("generated_at") or "")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One consistent view of the root; ``version`` changes whenever the set changes."""

    version: int
    reports: tuple[Report, ...]  # newest first
    by_id: dict[str, Report] = field(default_factory=dict)


def _object(raw: bytes, where: str, schema: str) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise SourceError(f"{where}: not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise SourceError(f"{where}: not a JSON object")
    if data.get("schema") != schema:
        raise SourceError(f"{where}: schema is not {schema!r}")
    if not isinstance(data.get("id"), str) or not data["id"]:
        raise SourceError(f"{where}: id is missing or not a string")
    return data


def parse_report(raw: bytes, where: str) -> dict[str, Any]:
    """The report object, or :class:`SourceError` naming the file and what is wrong."""
    data = _object(raw, where, REPORT_SCHEMA)
    if not isinstance(data.get("summary"), dict) or not isinstance(data.get("endpoints"), list):
        raise SourceError(f"{where}: summary or endpoints missing")
    return data


def parse_canary(raw: bytes, where: str) -> dict[str, Any]:
    """A ``canary.json`` object, or :class:`SourceError` naming the file and what is wrong."""
    data = _object(raw, where, CANARY_SCHEMA)
    if not isinstance(data.get("endpoints"), list) or not isinstance(data.get("reasons"), list):
        raise SourceError(f"{where}: endpoints or reasons missing")
    return data


class Catalog:
    """Reports (``report.json``) by default; ``file``/``parse`` make it list canaries."""

    def __init__(
        self,
        root: ReportRoot,
        rescan_seconds: float = 1.0,
        file: str = REPORT_FILE,
        parse: Callable[[bytes, str], dict[str, Any]] = parse_report,
    ) -> None:
        self.root = root
        self.rescan_seconds = rescan_seconds
        self.file, self.parse = file, parse
        self._lock = threading.Lock()
        self._listed_at = float("-inf")
        self._listing: dict[str, str] = {}
        self._parsed: dict[str, Report] = {}  # folder -> report at its fingerprint
        self._broken: dict[str, str] = {}  # folder -> fingerprint already logged
        self._snapshot = Snapshot(0, ())

    def snapshot(self) -> Snapshot:
        with self._lock:
            now = time.monotonic()
            if now - self._listed_at >= self.rescan_seconds:
                listing = self.root.listing(self.file)
                self._listed_at = now
                if listing != self._listing:
                    self._listing = listing
                    self._rebuild(listing)
            return self._snapshot

    def get(self, report_id: str) -> Report | None:
        return self.snapshot().by_id.get(report_id)

    def _rebuild(self, listing: dict[str, str]) -> None:
        parsed: dict[str, Report] = {}
        for folder, fingerprint in listing.items():
            known = self._parsed.get(folder)
            if known is not None and known.fingerprint == fingerprint:
                parsed[folder] = known
                continue
            if self._broken.get(folder) == fingerprint:
                continue
            where = f"{self.root.uri}/{folder}/{self.file}"
            try:
                data = self.parse(self.root.read(folder, self.file), where)
            except SourceError as exc:
                log.warning("skipping report: %s", exc)
                self._broken[folder] = fingerprint
                continue
            parsed[folder] = Report(folder, fingerprint, data)
        self._parsed = parsed
        ordered = sorted(parsed.values(), key=lambda r: (r.generated_at, r.id), reverse=True)
        by_id: dict[str, Report] = {}
        for report in ordered:
            if report.id in by_id:
                log.warning(
                    "report id %r is in folders %s and %s; serving the newer",
                    report.id,
                    by_id[report.id].folder,
                    report.folder,
                )
                continue
            by_id[report.id] = report
        unique = tuple(r for r in ordered if by_id[r.id] is r)
        self._snapshot = Snapshot(self._snapshot.version + 1, unique, by_id)
