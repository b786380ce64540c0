"""Request rows over a deterministic sample of requests, mergeable in any order.

Each request has a *level*: the number of leading zero bits of the seeded
64-bit hash of its correlation id (:func:`analysis.core.latency.cid_hash`), so
half the requests have level 0, a quarter level 1, and so on. The sample of a
set of requests is every request of level ≥ L, for the smallest L that keeps it
within ``size`` requests (:func:`sample_level`). Which requests those are
depends only on the set, never on how it was split into buckets, partitions or
merge order, so every engine samples the same requests, and counts over the
sample are exact sums.

:class:`AttrSample` keeps, per level, how many requests it saw (``n``) and
their rows (:func:`analysis.core.attributes.request_row`): a plain list, so
adding is an append and merging an ``extend``, both in C; equal rows are
counted together only when they are read (:func:`counts_at`). Levels no
sample can reach any more are dropped (:meth:`AttrSample.restrict`), which
bounds memory at about ``size`` rows per sample however many requests arrive,
and however many distinct values their attributes take.

:func:`counts_at` reads the sampled rows into attribute counts, and bounds the
counting per attribute (heavy hitters): ``explain`` lists only a value held by
≥ 80 % of a sample of at most ``size`` requests, and such an attribute has at
most ``size // 5 + 1`` distinct values there, so an attribute with more (ids,
search terms, tokens) is dropped as soon as it passes that many and marked
``capped``. Which attributes are capped depends only on the sample.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from analysis.core.attributes import PARTS, SEP, parts_of

LEVELS = 65  # leading zero bits of a 64-bit hash: 0..64
Expand = Callable[[bytes, frozenset[str]], list[str]]  # a row → its keys from those parts


def level_of(h: int) -> int:
    """The sampling level of a 64-bit hash (its leading zero bits)."""
    return 64 - h.bit_length()


def cap_for(size: int) -> int:
    """Distinct values beyond which no value of an attribute can reach 80 % of ``size``."""
    return size // 5 + 1


def prune_due(held: int, prune_at: int, size: int) -> bool:
    """Time to drop unreachable levels: past 4 x ``size`` rows held and twice the last prune."""
    return size > 0 and held > prune_at and held > 4 * size


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
    """One set of requests: per level, how many, and their rows."""

    n: dict[int, int] = field(default_factory=dict)
    rows: dict[int, list[bytes]] = field(default_factory=dict)
    floor: int = 0  # rows below are not kept any more (no sample reaches them)

    def wants(self, level: int) -> bool:
        """Does a request of ``level`` still need its row kept?"""
        return level >= self.floor

    def see(self, level: int) -> None:
        """Count a request whose row is not needed (level below the floor)."""
        if level >= self.floor - 1:  # level floor-1 still sizes the samples
            self.n[level] = self.n.get(level, 0) + 1

    def add(self, level: int, row: bytes) -> None:
        """Count one request of ``level`` (at or above the floor) with its row."""
        n = self.n
        n[level] = n.get(level, 0) + 1
        rows = self.rows.get(level)
        if rows is None:
            self.rows[level] = [row]
        else:
            rows.append(row)

    def merge(self, other: AttrSample) -> None:
        """Fold ``other`` in (it is consumed: its counters may be adopted)."""
        floor = max(self.floor, other.floor)
        for level, k in other.n.items():
            self.n[level] = self.n.get(level, 0) + k
        for level, rows in other.rows.items():
            if level < floor:
                continue
            mine = self.rows.get(level)
            if mine is None:
                self.rows[level] = rows
            else:
                mine.extend(rows)
        self.restrict(floor)

    def restrict(self, floor: int) -> None:
        """Forget levels below ``floor`` (the caller knows no sample reaches them)."""
        self.floor = max(self.floor, floor)
        for level in [lv for lv in self.n if lv < self.floor - 1]:
            del self.n[level]
        for level in [lv for lv in self.rows if lv < self.floor]:
            del self.rows[level]

    def empty(self) -> bool:
        return not self.n

    def retained(self) -> int:
        """Requests whose rows are held (the levels at or above the floor)."""
        return sum(k for level, k in self.n.items() if level >= self.floor)

    def size(self) -> int:
        """Entries held: rows plus per-level counts (what memory grows with)."""
        return len(self.n) + sum(len(rows) for rows in self.rows.values())


@dataclass(frozen=True, slots=True)
class Counts:
    """A sample's request count, its attribute key counts, and attributes it cannot list."""

    n: int
    keys: Counter[str]
    capped: frozenset[str] = frozenset()


def _rows_at(samples: Iterable[AttrSample], level: int) -> tuple[int, Counter[bytes]]:
    n = 0
    rows: Counter[bytes] = Counter()
    for s in samples:
        n += sum(k for lv, k in s.n.items() if lv >= level)
        for lv, held in s.rows.items():
            if lv >= level:
                rows.update(held)  # counts a list in C: equal rows are read once
    return n, rows


def counts_at(samples: Iterable[AttrSample], level: int, expand: Expand, size: int) -> Counts:
    """The union's attribute counts over its requests of level ≥ ``level``.

    At most :func:`cap_for` ``(size)`` distinct values are counted per attribute;
    an attribute with more is dropped and named in ``capped``.
    """
    n, rows = _rows_at(samples, level)
    cap = cap_for(size)
    keys: Counter[str] = Counter()
    distinct: Counter[str] = Counter()
    capped: set[str] = set()
    for row, c in rows.items():
        for key in expand(row, PARTS):
            if key in keys:
                keys[key] += c
                continue
            attr = key.partition(SEP)[0]
            if attr in capped:
                continue
            distinct[attr] += 1
            if distinct[attr] > cap:
                capped.add(attr)
                continue
            keys[key] = c
    if capped:
        for key in [k for k in keys if k.partition(SEP)[0] in capped]:
            del keys[key]
    return Counts(n, keys, frozenset(capped))


def count_keys(
    sample: AttrSample, level: int, expand: Expand, wanted: set[str]
) -> tuple[int, Counter[str]]:
    """(its requests of level ≥ ``level``, how many of them hold each key of ``wanted``)."""
    n, rows = _rows_at((sample,), level)
    found: Counter[str] = Counter()
    if wanted:
        parts = parts_of(wanted)
        for row, c in rows.items():
            for key in expand(row, parts):
                if key in wanted:
                    found[key] += c
    return n, found
