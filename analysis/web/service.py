"""What both the pages and the API ask for, answered once: reports, endpoints, pairs.

Lookups that find nothing raise :class:`NotFound` with a sentence naming what
was missing; the app turns it into a 404 with a JSON or HTML body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from analysis.web.catalog import Catalog, Report, Snapshot, parse_canary
from analysis.web.cids import CidIndex
from analysis.web.pairs import PairIndex
from analysis.web.present import endpoint_of
from analysis.web.roots import CANARY_FILE, ReportRoot
from analysis.web.settings import ServeSettings
from shadowdiff.model.errors import ShadowdiffError


class NotFound(Exception):
    """Something named in the URL does not exist; ``str()`` says what."""


class RecordLookup(Protocol):
    """The optional fallback: one pair's records from the record source, by partition hint.

    ``known_noise(endpoint)`` gives the ``(path, kind) -> noise_reason`` a report
    already decided for that endpoint, so one pair is judged like the night was.
    """

    urls: list[str]

    def find(
        self,
        cid: str,
        dt: str,
        hour: int,
        known_noise: Callable[[str], Mapping[tuple[str, str], str]] | None = None,
    ) -> dict[str, Any] | None: ...

    def find_at(
        self,
        cid: str,
        hours: list[tuple[str, int]],
        known_noise: Callable[[str], Mapping[tuple[str, str], str]] | None = None,
        parts: frozenset[str] = frozenset(),
    ) -> dict[str, Any] | None: ...


class HoursLookup(Protocol):
    """One pair from the record source(s), reading only the hours a report's index names."""

    urls: list[str]

    def find_at(
        self,
        cid: str,
        hours: list[tuple[str, int]],
        known_noise: Callable[[str], Mapping[tuple[str, str], str]] | None = None,
        parts: frozenset[str] = frozenset(),
    ) -> dict[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class FoundPair:
    pair: dict[str, Any]
    report: Report | None  # None when it came from the record source
    found_in: str  # "report" (pairs.jsonl.gz) | "index" (cids/ -> records) | "records" (hint)


class ReportService:
    def __init__(
        self,
        settings: ServeSettings,
        root: ReportRoot,
        records: RecordLookup | None = None,
        report_sources: Callable[[Mapping[str, str]], HoursLookup] | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = Catalog(root, settings.rescan_seconds)
        self.canaries = Catalog(root, settings.rescan_seconds, CANARY_FILE, parse_canary)
        self.pairs = PairIndex(root, settings.pair_files_cached)
        self.cids = CidIndex(root, settings.pair_files_cached * 2)
        self.records = records
        self.report_sources = report_sources

    def snapshot(self) -> Snapshot:
        return self.catalog.snapshot()

    def report(self, report_id: str) -> Report:
        report = self.catalog.get(report_id)
        if report is None:
            raise NotFound(f"report {report_id!r} not found under {self.catalog.root.uri}")
        return report

    def canary(self, canary_id: str) -> Report:
        """A ``shadowdiff canary`` folder's canary.json, by its id."""
        found = self.canaries.get(canary_id)
        if found is None:
            raise NotFound(f"canary {canary_id!r} not found under {self.canaries.root.uri}")
        return found

    def endpoint(self, report_id: str, name: str) -> tuple[Report, dict[str, Any]]:
        report = self.report(report_id)
        endpoint = endpoint_of(report.data, name)
        if endpoint is None:
            raise NotFound(f"endpoint {name!r} not found in report {report_id!r}")
        return report, endpoint

    def known_noise(self, endpoint: str) -> dict[tuple[str, str], str]:
        """The noise the newest report that has ``endpoint`` decided for it."""
        for report in self.snapshot().reports:
            found = endpoint_of(report.data, endpoint)
            if found is not None:
                fields = (found.get("body") or {}).get("fields") or []
                return {
                    (str(f.get("path")), str(f.get("kind"))): str(f.get("noise_reason") or "rule")
                    for f in fields
                    if isinstance(f, dict) and f.get("noise")
                }
        return {}

    def pair(
        self, cid: str, report_id: str | None = None, dt: str | None = None, hour: int | None = None
    ) -> FoundPair:
        snapshot = self.snapshot()
        report = self.report(report_id) if report_id is not None else None
        hit = self.pairs.find(snapshot, cid, report)
        if hit is not None:
            return FoundPair(hit[1], hit[0], "report")
        if self.records is not None and dt is not None and hour is not None:
            try:
                date.fromisoformat(dt)
            except ValueError as exc:
                raise NotFound(f"partition dt={dt} is not a calendar day") from exc
            pair = self.records.find(cid, dt, hour, self.known_noise)
            if pair is not None:
                return FoundPair(pair, None, "records")
            raise NotFound(
                f"pair {cid!r} not found in any report's pairs.jsonl.gz nor in the record "
                f"source at dt={dt}/hour={hour:02d}"
            )
        found = self._from_index(snapshot, cid, report, dt)
        if found is not None:
            return found
        where = f"report {report_id!r}" if report_id else "any report"
        hint = (
            "; add ?dt=YYYY-MM-DD&hour=HH to look it up in the record source"
            if self.records is not None
            else ""
        )
        raise NotFound(
            f"pair {cid!r} not found in {where}: neither an example in pairs.jsonl.gz "
            f"nor in a correlation index (cids/){hint}"
        )

    def _from_index(
        self, snapshot: Snapshot, cid: str, only: Report | None, dt: str | None = None
    ) -> FoundPair | None:
        """The newest report whose ``cids/`` index holds ``cid``, its records read by hour.

        A report whose records cannot be read is passed over for an older one that
        also holds the id; only when none can, the first reason is the 404.

        A ``dt`` hint puts the reports whose window covers that day first, so an
        old id costs one shard read instead of one per newer report.
        """
        reports = [only] if only is not None else snapshot.reports
        if dt is not None:
            reports = sorted(reports, key=lambda r: not _covers(r, dt))  # stable: newest first
        missing: NotFound | None = None  # the first (newest) reason, if no report answers
        for rep in reports:
            located = self.cids.locate(rep, cid)
            if located is None:
                continue
            named = ", ".join(f"{d}T{h:02d}" for d, h in located.hours)
            lookup, why = self._sources_for(rep)
            if lookup is None:
                missing = missing or NotFound(
                    f"pair {cid!r} is in report {rep.id!r}'s correlation index (captured "
                    f"{named}) but no record source is reachable: {why}"
                )
                continue
            pair = lookup.find_at(cid, located.hours, self.known_noise, located.parts)
            if pair is not None:
                return FoundPair(pair, rep, "index")
            missing = missing or NotFound(
                f"pair {cid!r} is in report {rep.id!r}'s correlation index but its records are "
                f"not in {', '.join(lookup.urls)} at {named}"
            )
        if missing is not None:
            raise missing
        return None

    def _sources_for(self, report: Report) -> tuple[HoursLookup | None, str]:
        if self.records is not None:
            return self.records, ""
        named = report.data.get("sources")
        if not isinstance(named, dict) or not named:
            return None, "--records is not given and the report names no sources"
        if self.report_sources is None:
            return None, "--records is not given"
        try:
            return self.report_sources(named), ""
        except ShadowdiffError as exc:
            return None, f"--records is not given and the report's sources are unreadable ({exc})"


def _covers(report: Report, dt: str) -> bool:
    window = report.data.get("window")
    if not isinstance(window, dict):
        return False
    return str(window.get("start", ""))[:10] <= dt <= str(window.get("end", ""))[:10]
