"""The record source: one pair's records by correlation id and the hour(s) it was captured in.

Only for pairs that are not in any report's ``pairs.jsonl.gz``. The hours come
from the report's ``cids/`` index or from a partition hint
(``?dt=YYYY-MM-DD&hour=HH``). A lookup reads
the partitions of those hours only (the source adds
its hour of slack on each side, since a collector may file a record under the
next hour), never the whole night. The first lookup in an hour scans its parts
once and keeps a correlation id -> parts index for that hour (an LRU of a few
hours), so later lookups in the same hour open only the parts that hold the id.
Records are diffed with the analysis core's ``diff_pair``, reusing the noise the
newest report decided for that endpoint when one is given.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import orjson

from analysis.core.endpoints import endpoint_name
from analysis.core.pairdiff import pair_line
from analysis.core.settings import ReportSettings
from analysis.report.cidindex import part_tail
from analysis.sources import Part, iter_lines, open_source
from shadowdiff.model.errors import InvalidRecord, SourceError
from shadowdiff.model.locations import parse_location
from shadowdiff.model.record import ROLES
from shadowdiff.model.validate import record_from_obj

_CID = re.compile(rb'"correlation_id"\s*:\s*"((?:[^"\\]|\\.)*)"')
KnownNoise = Callable[[str], Mapping[tuple[str, str], str]]


def hour_window(dt: str, hour: int) -> tuple[datetime, datetime]:
    try:
        start = datetime.fromisoformat(f"{dt}T{hour:02d}:00:00+00:00")
    except ValueError as exc:
        raise SourceError(f"partition hint dt={dt} hour={hour} is not a UTC hour") from exc
    return start, start + timedelta(hours=1)


def _cid_of(line: bytes) -> str | None:
    m = _CID.search(line)
    if m is None:
        return None
    raw = m.group(1)
    return raw.decode("utf-8", "replace") if b"\\" not in raw else orjson.loads(b'"' + raw + b'"')


class SourceLookup:
    def __init__(
        self,
        url: str,
        clients: dict[str, Any] | None = None,
        settings: ReportSettings | None = None,
        hours_cached: int = 4,
        role: str | None = None,
    ) -> None:
        self.url = url
        self.urls = [url]
        self.source = open_source(url, role, clients)
        self.settings = settings or ReportSettings()
        self.hours_cached = max(1, hours_cached)
        self._lock = threading.Lock()
        self._hours: OrderedDict[tuple[str, int], dict[str, list[Part]]] = OrderedDict()

    def _index(self, dt: str, hour: int) -> dict[str, list[Part]]:
        key = (dt, hour)
        with self._lock:
            cached = self._hours.get(key)
            if cached is not None:
                self._hours.move_to_end(key)
                return cached
        index: dict[str, list[Part]] = {}
        for part in self.source.parts(*hour_window(dt, hour)):
            for line in iter_lines(part):
                cid = _cid_of(line)
                if cid is not None:
                    holders = index.setdefault(cid, [])
                    if not holders or holders[-1] is not part:
                        holders.append(part)
        with self._lock:
            self._hours[key] = index
            while len(self._hours) > self.hours_cached:
                self._hours.popitem(last=False)
        return index

    def records(
        self, cid: str, dt: str, hour: int, parts: frozenset[str] = frozenset()
    ) -> dict[str, dict[str, Any]]:
        """The first valid record of each role for ``cid`` in the hour (deduped).

        With ``parts`` (tails from a report's index) only those files of the
        hour are read; when none of them is listed any more, the whole hour is.
        """
        chosen: list[Part] = []
        if parts:
            listed = self.source.parts(*hour_window(dt, hour))
            chosen = [p for p in listed if part_tail(p.name) in parts]
        if not chosen:
            chosen = self._index(dt, hour).get(cid, [])
        found: dict[str, dict[str, Any]] = {}
        needle = orjson.dumps(cid)
        for part in chosen:
            for line in iter_lines(part):
                if needle not in line:
                    continue
                try:
                    obj = orjson.loads(line)
                    record_from_obj(obj)
                except (orjson.JSONDecodeError, InvalidRecord):
                    continue
                if obj["correlation_id"] == cid and obj["role"] not in found:
                    found[obj["role"]] = obj
        return found

    def find(
        self, cid: str, dt: str, hour: int, known_noise: KnownNoise | None = None
    ) -> dict[str, Any] | None:
        return build_pair(cid, self.records(cid, dt, hour), self.settings, known_noise)

    def find_at(
        self,
        cid: str,
        hours: list[tuple[str, int]],
        known_noise: KnownNoise | None = None,
        parts: frozenset[str] = frozenset(),
    ) -> dict[str, Any] | None:
        return find_in([self], cid, hours, known_noise, parts)


def find_in(
    lookups: list[SourceLookup],
    cid: str,
    hours: list[tuple[str, int]],
    known_noise: KnownNoise | None = None,
    parts: frozenset[str] = frozenset(),
) -> dict[str, Any] | None:
    """The pair from the records of ``cid`` in ``hours`` of every source (first record wins)."""
    found: dict[str, dict[str, Any]] = {}
    for lookup in lookups:
        for dt, hour in hours:
            for role, obj in lookup.records(cid, dt, hour, parts).items():
                found.setdefault(role, obj)
    return build_pair(cid, found, lookups[0].settings, known_noise) if lookups else None


def build_pair(
    cid: str,
    found: dict[str, dict[str, Any]],
    settings: ReportSettings,
    known_noise: KnownNoise | None = None,
) -> dict[str, Any] | None:
    """A pair object like the report's ``pairs.jsonl.gz`` lines, from one record per role."""
    if not found:
        return None
    any_rec = found.get("primary") or found.get("shadow") or next(iter(found.values()))
    req = any_rec.get("request") or {}
    endpoint = endpoint_name(str(req.get("method", "")), str(req.get("path", "")), settings.routes)
    noise = known_noise(endpoint) if known_noise else None
    return pair_line(cid, endpoint, {role: found.get(role) for role in ROLES}, settings, noise)


def open_lookup(
    url: str,
    clients: dict[str, Any] | None = None,
    report_settings: ReportSettings | None = None,
    role: str | None = None,
) -> SourceLookup:
    """The lookup for ``--records`` (or one source a report names, for ``role``).

    A local path that does not exist is refused here, not at the first lookup.
    """
    flag = f"--{role}" if role else "--records"
    location = parse_location(url, flag)
    if location.kind == "local" and not location.local_path.exists():
        raise SourceError(f"{flag} {url}: no such file or directory")
    return SourceLookup(url, clients, report_settings, role=role)


class ReportSources:
    """The record sources a report.json names (``sources``), opened once per set of URLs.

    Used when the service has no ``--records``: a pair found in a report's
    ``cids/`` index is read from where that report read it. ``records`` opens
    one lookup for every role; per-role keys open one lookup that keeps its role.
    """

    def __init__(
        self,
        clients: dict[str, Any] | None = None,
        report_settings: ReportSettings | None = None,
        cache_size: int = 8,
    ) -> None:
        self.clients = clients
        self.settings = report_settings
        self.cache_size = max(1, cache_size)
        self._lock = threading.Lock()
        self._open: OrderedDict[tuple[tuple[str, str], ...], MultiLookup] = OrderedDict()

    def __call__(self, named: Mapping[str, str]) -> MultiLookup:
        key = tuple(sorted((str(k), str(v)) for k, v in named.items() if v))
        with self._lock:
            hit = self._open.get(key)
            if hit is not None:
                self._open.move_to_end(key)
                return hit
        if not key:
            raise SourceError("the report names no record source")
        lookups = [
            open_lookup(url, self.clients, self.settings, None if k == "records" else k)
            for k, url in key
            if k in ("records", *ROLES)
        ]
        if not lookups:
            raise SourceError(f"the report's sources {dict(key)} name no known role")
        multi = MultiLookup(lookups)
        with self._lock:
            self._open[key] = multi
            while len(self._open) > self.cache_size:
                self._open.popitem(last=False)
        return multi


class MultiLookup:
    def __init__(self, lookups: list[SourceLookup]) -> None:
        self.lookups = lookups
        self.urls = [lk.url for lk in lookups]

    def find_at(
        self,
        cid: str,
        hours: list[tuple[str, int]],
        known_noise: KnownNoise | None = None,
        parts: frozenset[str] = frozenset(),
    ) -> dict[str, Any] | None:
        return find_in(self.lookups, cid, hours, known_noise, parts)
