"""Attribute counts over a deterministic sample of requests, mergeable in any order.

Each request has a *level*: the number of leading zero bits of the seeded
64-bit hash of its correlation id (:func:`analysis.core.latency.cid_hash`), so
half the requests have level 0, a quarter level 1, and so on. The sample of a
set of requests is every request of level ≥ L, for the smallest L that keeps it
within ``size`` requests (:func:`sample_level`). Which requests that is depends
only on the set, never on how it was split into buckets, partitions or merge
order, so every engine samples the same requests, and the counts over the
sample are exact sums.

:class:`AttrSample` keeps, per level, how many requests it saw (``n``) and
how many of them hold each attribute key (``counts``). Levels no sample can
reach any more are dropped (:meth:`AttrSample.restrict`), which bounds memory
at about ``size`` requests' attributes per sample, however many arrive.

On levels that only a *differing* set's sample needs, per-attribute counting
is bounded too (heavy hitters): ``explain`` lists only a value held by ≥ 80 %
of a sample of at most ``size`` requests, and such an attribute has at most
``size // 5 + 1`` distinct values in it. So once an attribute has more
distinct values than :func:`cap_for` at one level, it can never be listed
for any sample holding that level: its values are dropped and the attribute
is marked ``capped``. Ids, search terms or tokens therefore cost at most that
many entries per level there. The rule depends only on the set, so it is as
deterministic as the sample.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from analysis.core.attributes import SEP

LEVELS = 65  # leading zero bits of a 64-bit hash: 0..64


def level_of(h: int) -> int:
    """The sampling level of a 64-bit hash (its leading zero bits)."""
    return 64 - h.bit_length()


def cap_for(size: int) -> int:
    """Distinct values beyond which no value of an attribute can reach 80 % of ``size``."""
    return size // 5 + 1


def sample_level(ns: Iterable[dict[int, int]], size: int) -> int:
    """The smallest L such that the union's requests of level ≥ L number at most ``size``."""
    total = [0] * LEVELS
    for n in ns:
        for level, k in n.items():
            total[level] += k
    acc = 0
    for level in range(LEVELS - 1, -1, -1):
        acc += total[level]
        if acc > size:
            return level + 1
    return 0


@dataclass(slots=True)
class AttrSample:
    """One set of requests: per level, how many, and how many hold each attribute key."""

    n: dict[int, int] = field(default_factory=dict)
    counts: dict[int, Counter[str]] = field(default_factory=dict)
    capped: dict[int, set[str]] = field(default_factory=dict)
    floor: int = 0  # levels below are not counted any more (no sample reaches them)

    def wants(self, level: int) -> bool:
        """Does a request of ``level`` still need its attributes counted?"""
        return level >= self.floor

    def see(self, level: int) -> None:
        """Count a request whose attributes are not needed (level below the floor)."""
        if level >= self.floor - 1:  # level floor-1 still sizes the samples
            self.n[level] = self.n.get(level, 0) + 1

    def add(self, level: int, keys: list[str]) -> None:
        """Count one request of ``level`` (at or above the floor) with its attribute keys."""
        self.n[level] = self.n.get(level, 0) + 1
        counter = self.counts.get(level)
        if counter is None:
            counter = self.counts[level] = Counter()
        capped = self.capped.get(level)
        if capped:
            keys = [k for k in keys if k.partition(SEP)[0] not in capped]
        counter.update(keys)

    def merge(self, other: AttrSample) -> None:
        """Fold ``other`` in (it is consumed: its counters may be adopted)."""
        for level, k in other.n.items():
            self.n[level] = self.n.get(level, 0) + k
        for level, counter in other.counts.items():
            mine = self.counts.get(level)
            if mine is None:
                self.counts[level] = counter
            else:
                mine.update(counter)
        for level, attrs in other.capped.items():
            self.capped.setdefault(level, set()).update(attrs)
        for level in set(other.counts) | set(other.capped):
            dropped = self.capped.get(level)
            kept = self.counts.get(level)
            if dropped and kept is not None:
                _drop(kept, dropped)
        self.restrict(max(self.floor, other.floor))

    def restrict(self, floor: int, cap_below: int = 0, cap: int = 0) -> None:
        """Forget levels below ``floor``; cap attributes on levels below ``cap_below``.

        The caller guarantees that no sample will reach below ``floor`` and that
        levels below ``cap_below`` are only read by samples of at most
        ``cap * 5 - 1`` requests looking for a value held by 80 % of them.
        """
        self.floor = max(self.floor, floor)
        for level in [lv for lv in self.n if lv < self.floor - 1]:
            del self.n[level]
        for level in [lv for lv in self.counts if lv < self.floor]:
            del self.counts[level]
            self.capped.pop(level, None)
        if cap <= 0:
            return
        for level, counter in self.counts.items():
            if level >= cap_below:
                continue
            distinct: Counter[str] = Counter(k.partition(SEP)[0] for k in counter)
            over = {attr for attr, d in distinct.items() if d > cap}
            if over:
                self.capped.setdefault(level, set()).update(over)
                _drop(counter, over)

    def empty(self) -> bool:
        return not self.n

    def retained(self) -> int:
        """Requests whose attributes are held (the levels at or above the floor)."""
        return sum(k for level, k in self.n.items() if level >= self.floor)

    def size(self) -> int:
        """Entries held: attribute keys plus per-level counts (what memory grows with)."""
        return len(self.n) + sum(len(c) for c in self.counts.values())


def _drop(counter: Counter[str], attrs: set[str]) -> None:
    for key in [k for k in counter if k.partition(SEP)[0] in attrs]:
        del counter[key]


@dataclass(frozen=True, slots=True)
class Counts:
    """A sample's request count, its attribute key counts, and attributes it cannot list."""

    n: int
    keys: Counter[str]
    capped: frozenset[str] = frozenset()


def counts_at(samples: Iterable[AttrSample], level: int) -> Counts:
    """The union's counts over its requests of level ≥ ``level``."""
    n = 0
    keys: Counter[str] = Counter()
    capped: set[str] = set()
    for s in samples:
        for lv, k in s.n.items():
            if lv >= level:
                n += k
        for lv, counter in s.counts.items():
            if lv >= level:
                keys.update(counter)
                capped.update(s.capped.get(lv, ()))
    return Counts(n, keys, frozenset(capped))


def count_of(samples: Iterable[AttrSample], level: int, key: str) -> int:
    """How many of the union's requests of level ≥ ``level`` hold ``key``."""
    return sum(
        counter.get(key, 0) for s in samples for lv, counter in s.counts.items() if lv >= level
    )
