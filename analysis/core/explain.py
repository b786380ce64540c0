"""Why a field differs: the request attributes behind each divergence (CONTRACT §12).

For a set D of pairs (those that differ at one field, or fall in one mismatching
status cell) and the rest R, an attribute value is listed when it is much more
common in D than in R: ``support`` (its share of D) ≥ 0.8, ``lift`` =
``support / max(baseline, 1/|R|)`` ≥ 2 and ≥ 5 pairs of D hold it; at most
three, by lift then support (:func:`contrast`, which any caller can use on its
own two sets, e.g. a canary's failing and passing requests: :func:`explain_sets`).

Per endpoint, :class:`ExplainAgg` counts each pair once, in the group of pairs
that share its status cell and its set of differing fields (its *signature*),
as a level-sampled count of request rows (:mod:`analysis.core.attrsample`).
Every set the report needs is a union of groups, derived when the night is final:

* D of a field = the compared groups whose signature holds it, sampled at its
  own level, so a rare field keeps (up to ``sample``) all of its pairs;
* R of a field = the other compared groups, read at the level of the
  endpoint's compared pairs: one shared sample of at most ``sample`` pairs
  serves every field, instead of one per field;
* D of a status cell = that cell's group; its R = every other pair, read at the
  level of all the endpoint's pairs.

:meth:`ExplainAgg.prune` drops the levels no sample can reach any more, so an
endpoint holds about ``sample`` rows per set (every field's D, every cell's D,
the two shared R samples) whatever the night's size or its attributes'
cardinality; rows become attribute counts only then, for the sampled levels.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.core.attributes import request_row, row_keys, split_key
from analysis.core.attrsample import (
    AttrSample,
    Counts,
    Expand,
    count_keys,
    counts_at,
    sample_level,
)
from analysis.core.settings import DEFAULT_EXPLAIN_SAMPLE

MIN_LIFT = 2.0
MIN_PAIRS = 5
MAX_ENTRIES = 3

FieldKey = tuple[str, str]  # (path, kind), as in analysis.core.aggregate
GroupKey = tuple[str, frozenset[FieldKey] | None]  # (status cell, signature or None)
NO_DIFF: frozenset[FieldKey] = frozenset()


def mismatching(cell: str) -> bool:
    before, sep, after = cell.partition("->")
    return bool(sep) and before != after


def candidates(d: Counts, d_total: int) -> dict[str, int]:
    """The keys of D's sample that reach support ≥ 0.8 (exactly) on ≥ 5 pairs: key → count."""
    if d.n <= 0 or d_total < MIN_PAIRS:
        return {}
    out = {}
    for key, c in d.keys.items():
        if 5 * c < 4 * d.n or split_key(key)[0] in d.capped:
            continue
        if (c if d.n >= d_total else round(c / d.n * d_total)) >= MIN_PAIRS:
            out[key] = c
    return out


def contrast(
    d: Counts, r_n: int, r_count: Callable[[str], int], d_total: int, r_total: int
) -> list[dict[str, Any]]:
    """The attribute values that set D apart from R, best first (at most three).

    ``d`` counts a sample of D (``d_total`` pairs in all); ``r_n`` is the size of
    R's sample and ``r_count(key)`` how many of it hold ``key``; ``r_total`` is |R|.
    ``pairs`` is exact while the sample holds all of D, else ``support × |D|``.
    """
    if r_n <= 0 or r_total <= 0:
        return []
    floor = 1.0 / r_total
    found: list[dict[str, Any]] = []
    for key, c in candidates(d, d_total).items():
        attr, value = split_key(key)
        support = c / d.n
        pairs = c if d.n >= d_total else round(support * d_total)
        baseline = r_count(key) / r_n
        lift = support / max(baseline, floor)
        if lift < MIN_LIFT:
            continue
        found.append(
            {
                "attribute": attr,
                "value": value,
                "support": support,
                "baseline": baseline,
                "lift": lift,
                "pairs": pairs,
            }
        )
    found.sort(key=lambda e: (-e["lift"], -e["support"], e["attribute"], e["value"]))
    return found[:MAX_ENTRIES]


def reader(headers: tuple[str, ...]) -> Expand:
    """Rows built with ``headers`` → their attribute keys (:func:`row_keys`)."""

    def expand(row: bytes, parts: frozenset[str]) -> list[str]:
        return row_keys(row, headers, parts)

    return expand


@dataclass(slots=True)
class _Target:
    """One D (a field or a status cell) whose R is "the shared sample minus D"."""

    name: Any
    d: Counts
    wanted: dict[str, int]  # D's candidate keys
    d_total: int
    r_total: int
    inside: Callable[[Any], bool]  # is a group (by its key) part of D?


def _score(
    targets: list[_Target], groups: Mapping[Any, AttrSample], level_r: int, expand: Expand
) -> dict[Any, list[dict[str, Any]]]:
    """Score every target against one shared R sample, scanned once for all their candidates."""
    wanted = set().union(*(t.wanted for t in targets)) if targets else set()
    per_group = {key: count_keys(g, level_r, expand, wanted) for key, g in groups.items()}
    out: dict[Any, list[dict[str, Any]]] = {}
    for t in targets:
        if not t.wanted:
            out[t.name] = []
            continue
        r_n, r_counts = 0, Counter[str]()
        for key, (n, found) in per_group.items():
            if not t.inside(key):
                r_n += n
                for k in t.wanted:
                    r_counts[k] += found.get(k, 0)
        out[t.name] = contrast(t.d, r_n, r_counts.__getitem__, t.d_total, t.r_total)
    return out


def _target(
    name: Any,
    d: list[AttrSample],
    inside: Callable[[Any], bool],
    expand: Expand,
    size: int,
    d_total: int,
    r_total: int,
) -> _Target:
    dc = counts_at(d, sample_level((g.n for g in d), size), expand, size)
    return _Target(name, dc, candidates(dc, d_total), d_total, r_total, inside)


def explain_sets(
    d: Iterable[AttrSample],
    r: Iterable[AttrSample],
    headers: tuple[str, ...],
    size: int,
    d_total: int,
    r_total: int,
) -> list[dict[str, Any]]:
    """Which request attributes distinguish the requests of ``d`` from those of ``r``.

    Both sets' rows built with ``headers`` (:func:`request_row`), each sampled at
    its own level.
    """
    rs = dict(enumerate(r))
    expand = reader(headers)
    t = _target("d", list(d), lambda key: False, expand, size, d_total, r_total)
    return _score([t], rs, sample_level((s.n for s in rs.values()), size), expand)["d"]


@dataclass(slots=True)
class ExplainAgg:
    """One endpoint's attribute counts, grouped by (status cell, signature)."""

    sample: int = DEFAULT_EXPLAIN_SAMPLE  # 0: explain is off
    groups: dict[GroupKey, AttrSample] = field(default_factory=dict)
    retained: int = 0  # pairs whose attributes are held; prune when it doubles
    prune_at: int = 0

    def add(
        self,
        h: int,
        cell: str,
        sig: frozenset[FieldKey] | None,
        request: Mapping[str, Any],
        headers: tuple[str, ...],
    ) -> None:
        """One pair: ``h`` its correlation id's hash, ``sig`` None when not compared."""
        if self.sample <= 0:
            return
        level = 64 - h.bit_length()  # level_of(h), inline: this runs for every pair
        key = (cell, sig)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = AttrSample()
        if level < group.floor:
            group.see(level)
            return
        group.add(level, request_row(request, headers))
        self.retained += 1
        if self.retained > self.prune_at and self.retained > 4 * self.sample:
            self.prune()

    def merge(self, other: ExplainAgg) -> None:
        self.sample = min(self.sample, other.sample)
        for key, group in other.groups.items():
            mine = self.groups.get(key)
            if mine is None:
                self.groups[key] = group
            else:
                mine.merge(group)
        self.retained += other.retained
        if self.sample > 0 and self.retained > self.prune_at and self.retained > 4 * self.sample:
            self.prune()

    def prune(self) -> None:
        """Drop the levels no sample can reach (each group's lowest sample level)."""
        size = self.sample
        all_n, compared_n = [], []
        by_field: dict[FieldKey, list[dict[int, int]]] = {}
        by_cell: dict[str, list[dict[int, int]]] = {}
        for (cell, sig), g in self.groups.items():
            all_n.append(g.n)
            if sig is not None:
                compared_n.append(g.n)
                for fk in sig:
                    by_field.setdefault(fk, []).append(g.n)
            elif mismatching(cell):
                by_cell.setdefault(cell, []).append(g.n)
        level_all, level_compared = sample_level(all_n, size), sample_level(compared_n, size)
        level_field = {fk: sample_level(ns, size) for fk, ns in by_field.items()}
        level_cell = {cell: sample_level(ns, size) for cell, ns in by_cell.items()}
        for (cell, sig), g in self.groups.items():
            if sig is not None:
                g.restrict(min((level_field[fk] for fk in sig), default=level_compared))
            elif mismatching(cell):
                g.restrict(level_cell[cell])
            else:
                g.restrict(level_all)
        self.groups = {k: g for k, g in self.groups.items() if not g.empty()}
        self.retained = sum(g.retained() for g in self.groups.values())
        self.prune_at = 2 * self.retained

    def size(self) -> int:
        """Entries held (distinct rows and per-level counts): what its memory grows with."""
        return sum(g.size() for g in self.groups.values())

    # ------------------------------------------------------------ the final night
    def fields(
        self, totals: Mapping[FieldKey, int], compared: int, expand: Expand
    ) -> dict[FieldKey, list[dict[str, Any]]]:
        """``explain`` of each field in ``totals`` (its pair count); ``compared`` = |C|.

        Each field's D is its groups at its own level; R is the shared sample of
        the compared pairs minus D.
        """
        groups = {k: g for k, g in self.groups.items() if k[1] is not None}
        by_field: dict[FieldKey, list[AttrSample]] = {}
        for (_, sig), g in groups.items():
            for fk in sig or ():
                by_field.setdefault(fk, []).append(g)
        size = self.sample
        targets = []
        for fk, total in totals.items():

            def inside(key: GroupKey, fk: FieldKey = fk) -> bool:
                return fk in (key[1] or ())

            d = by_field.get(fk, [])
            targets.append(_target(fk, d, inside, expand, size, total, compared - total))
        level_r = sample_level((g.n for g in groups.values()), self.sample)
        return _score(targets, groups, level_r, expand)

    def cells(
        self, matrix: Mapping[str, int], pairs: int, expand: Expand
    ) -> dict[str, list[dict[str, Any]]]:
        """``status.explain``: each mismatching cell of ``matrix``; ``pairs`` = all pairs.

        A cell's D is its group; R is the shared sample of all pairs minus D.
        """
        size = self.sample
        targets = []
        for cell, total in sorted(matrix.items()):
            if not mismatching(cell) or total <= 0:
                continue

            def inside(key: GroupKey, cell: str = cell) -> bool:
                return key == (cell, None)

            d = [g for key, g in self.groups.items() if inside(key)]
            targets.append(_target(cell, d, inside, expand, size, total, pairs - total))
        level_r = sample_level((g.n for g in self.groups.values()), self.sample)
        return _score(targets, self.groups, level_r, expand)
