"""Why a field differs: each endpoint's state for ``explain`` (docs/contract.md §12).

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
cardinality; rows become attribute counts only when the report is finalised,
for the sampled levels, and are scored by :mod:`analysis.core.contrast`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.core.attributes import request_row
from analysis.core.attrsample import AttrSample, Expand, prune_due, sample_level
from analysis.core.contrast import score, target
from analysis.core.settings import DEFAULT_EXPLAIN_SAMPLE

FieldKey = tuple[str, str]  # (path, kind), as in analysis.core.aggregate
GroupKey = tuple[str, frozenset[FieldKey] | None]  # (status cell, signature or None)
NO_DIFF: frozenset[FieldKey] = frozenset()


def mismatching(cell: str) -> bool:
    before, sep, after = cell.partition("->")
    return bool(sep) and before != after


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
        if prune_due(self.retained, self.prune_at, self.sample):
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
        if prune_due(self.retained, self.prune_at, self.sample):
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
            targets.append(target(fk, d, inside, expand, size, total, compared - total))
        level_r = sample_level((g.n for g in groups.values()), self.sample)
        return score(targets, groups, level_r, expand)

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
            targets.append(target(cell, d, inside, expand, size, total, pairs - total))
        level_r = sample_level((g.n for g in self.groups.values()), self.sample)
        return score(targets, self.groups, level_r, expand)
