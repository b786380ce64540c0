"""What the watch knows between ticks: records in, settled groups out, partials per slice.

:meth:`LiveState.ingest` takes the raw lines a tick read. Each line is decoded
and checked (invalid ones are counted by reason, like the report does), kept
only when its source keeps its role, and deduped by
``(correlation_id, role)`` against what the window holds of its slice
(:mod:`analysis.live.seen`); then it joins its correlation id's *group*.

A group waits until it is complete: primary and shadow, and a secondary too
once any secondary record was seen. One whose other side has not arrived waits
``grace`` of this machine's time from when its first record was read, and is
then settled as it is (primary-only, shadow-only). Wall time, not capture time:
sinks deliver in batches (a collector every second, Firehose every few
minutes), so one role's records may be minutes ahead of the other's in what has
been read, and only the time a side has been waiting says it is missing.

:meth:`LiveState.settle` reduces settled groups with the report's own :class:`BucketReducer` (the same join, diff
and counting as ``shadowdiff report``) into the slice partials of
:class:`~analysis.live.window.SlidingPartials`. A side that turns up after its
group was settled is counted on its own, and said so in the notes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson

from analysis.core.aggregate import Partial
from analysis.core.pairing import BucketReducer
from analysis.core.settings import ReportSettings
from analysis.live.index import LiveIndex
from analysis.live.seen import SeenKeys, key_hash
from analysis.live.slices import SliceClock, epoch_ms
from analysis.live.window import SlidingPartials
from shadowdiff.model.errors import InvalidRecord
from shadowdiff.model.validate import check_record

Line = tuple[str | None, bytes]  # (role its source keeps, raw line)


@dataclass(slots=True)
class Group:
    """The records of one correlation id read so far: role → (line, captured ms, slice)."""

    read_at: float
    roles: dict[str, tuple[bytes, int, int]] = field(default_factory=dict)

    def complete(self, secondary: bool) -> bool:
        r = self.roles
        return "primary" in r and "shadow" in r and (not secondary or "secondary" in r)


@dataclass(slots=True)
class Counters:
    records: int = 0  # valid records read, duplicates included
    late: int = 0  # records whose id had been settled without them
    settled: int = 0  # groups reduced


class LiveState:
    def __init__(
        self,
        settings: ReportSettings,
        clock: SliceClock,
        grace_seconds: float,
        expect_secondary: bool = False,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.grace_ms = max(0, round(grace_seconds * 1000))
        self.secondary = expect_secondary
        self.reducer = BucketReducer(settings, (None, None))
        lateness = math.ceil(self.grace_ms / clock.width_ms) + 2
        self.store = SlidingPartials(Partial, lateness)
        self.seen = SeenKeys()
        self.index = LiveIndex()
        self.pending: dict[str, Group] = {}
        self.counters = Counters()
        self.newest_ms: int | None = None
        self._ready: list[str] = []
        self._held_invalid: list[bytes] = []  # invalid lines read before any valid record
        self._seq = 0

    # ---------------------------------------------------------------- window
    def bounds(self) -> tuple[int, int] | None:
        """(first, last) slice of the window, or None before the first valid record."""
        return None if self.newest_ms is None else self.clock.bounds(self.newest_ms)

    def window(self) -> Partial | None:
        b = self.bounds()
        return None if b is None else self.store.window(*b)

    # ---------------------------------------------------------------- ingest
    def ingest(self, lines: list[Line], now: float) -> None:
        """One tick's new lines, in read order; ``now`` is this machine's monotonic clock."""
        valid: list[tuple[str, str, int, bytes, Any]] = []
        invalid: list[bytes] = []
        loads = orjson.loads
        for keep, raw in lines:
            line = raw.strip()
            if not line:
                continue
            try:
                obj = loads(line)
                moment = check_record(obj)  # checked whole: an invalid copy is never a duplicate
            except (orjson.JSONDecodeError, InvalidRecord):
                invalid.append(line)
                continue
            role = obj["role"]
            if keep is not None and role != keep:
                continue
            valid.append((obj["correlation_id"], role, epoch_ms(moment), line, moment))
        if valid:
            newest = max(v[2] for v in valid)
            if self.newest_ms is None or newest > self.newest_ms:
                self.newest_ms = newest
        self.counters.records += len(valid)
        self._take(valid, now)
        self._count_invalid(invalid)

    def _take(self, valid: list[tuple[str, str, int, bytes, Any]], now: float) -> None:
        index = self.clock.index
        hashes = [key_hash(v[0], v[1]) for v in valid]
        slices = [index(v[2]) for v in valid]
        held = self.seen.contains_at(slices, hashes)
        dups: dict[int, int] = defaultdict(int)
        fresh: dict[int, list[int]] = defaultdict(list)
        this_tick: set[int] = set()
        pending, ready = self.pending, self._ready
        for (cid, role, ms, line, moment), s, h, old in zip(
            valid, slices, hashes, held, strict=True
        ):
            if old or h in this_tick:
                dups[s] += 1
                continue
            this_tick.add(h)
            fresh[s].append(h)
            self.index.add(s, cid, role, moment)
            if role == "secondary":
                self.secondary = True
            group = pending.get(cid)
            if group is None:
                group = pending[cid] = Group(now)
            was = group.complete(self.secondary)
            group.roles[role] = (line, ms, s)
            if not was and group.complete(self.secondary):
                ready.append(cid)
        for s, keys in fresh.items():
            self.seen.add(s, keys)
        for s, n in dups.items():
            partial = Partial()
            partial.counts["duplicates"] = n
            self.store.add(s, partial)

    def _count_invalid(self, invalid: list[bytes]) -> None:
        """Invalid lines have no usable time: they count in the newest slice when read."""
        self._held_invalid.extend(invalid)
        if self.newest_ms is None or not self._held_invalid:
            return
        lines = [(self._next_seq(), None, line) for line in self._held_invalid]
        self._held_invalid = []
        self.store.add(self.clock.index(self.newest_ms), self.reducer.reduce(lines))

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # ---------------------------------------------------------------- settle
    def settle(self, now: float) -> int:
        """Reduce every group that is complete or has waited ``grace``; returns how many."""
        bounds = self.bounds()
        if bounds is None:
            return 0
        lo, _ = bounds
        due = self._due(now)
        by_key: dict[tuple[int | None, int], list[tuple[int, str | None, bytes]]] = {}
        incomplete: list[tuple[str, str]] = []
        settled = 0
        for cid in due:
            group = self.pending.pop(cid, None)
            if group is None:
                continue
            settled += 1
            records = sorted(group.roles.values(), key=lambda r: r[2])
            if records[-1][2] < lo:
                continue  # wholly before the window
            for role in ("primary", "shadow"):
                if role not in group.roles:
                    incomplete.append((cid, role))
            # Its first slice gets the whole group; each later slice the records from
            # there on, for a window that starts after the one before (see window.py).
            after: int | None = None
            for cut in sorted({s for _, _, s in records}):
                if cut >= lo:
                    lines = by_key.setdefault((after, cut), [])
                    lines.extend((self._next_seq(), None, ln) for ln, _, s in records if s >= cut)
                after = cut
        for (after, cut), lines in by_key.items():
            self.store.add(cut, self.reducer.reduce(lines), after)
        if incomplete:
            self.counters.late += int(self.seen_other_side(incomplete))
        self.counters.settled += settled
        self.seen.forget_before(lo)
        self.index.forget_before(lo)
        return settled

    def seen_other_side(self, missing: list[tuple[str, str]]) -> int:
        """How many of these (id, role) were already counted with an earlier group."""
        return int(self.seen.contains([key_hash(c, r) for c, r in missing]).sum())

    def _due(self, now: float) -> list[str]:
        """Complete groups, then those whose grace is over (first read first)."""
        due, self._ready = self._ready, []
        grace_s = self.grace_ms / 1000
        for cid, g in self.pending.items():  # in first-read order: stop at the first still waiting
            if now - g.read_at < grace_s:
                break
            due.append(cid)
        return due
