"""Which request attributes set one set of requests apart from another (docs/contract.md §12).

For a set D (pairs that differ at one field, fall in one mismatching status
cell, or any "these requests" a verdict has) and the rest R, an attribute value
is listed when it is much more common in D than in R: ``support`` (its share of
D) ≥ 0.8, ``lift`` = ``support / max(baseline, 1/|R|)`` ≥ 2 and ≥ 5 pairs of D
hold it; at most three, by lift then support (:func:`contrast`).

Both sets are :class:`~analysis.core.attrsample.AttrSample` unions read at their
sample levels. Several Ds that share one R sample (every field of an endpoint)
are scored together (:func:`score`): R's rows are read once, for the union of
the Ds' candidate keys, and only from the row parts those keys come from.
:func:`explain_sets` does it for any two sets, e.g. a canary's failing and
passing requests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from analysis.core.attributes import row_keys, split_key
from analysis.core.attrsample import (
    AttrSample,
    Counts,
    Expand,
    count_keys,
    counts_at,
    sample_level,
)

MIN_LIFT = 2.0
MIN_PAIRS = 5
MAX_ENTRIES = 3


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
class Target:
    """One D (a field or a status cell) whose R is "the shared sample minus D"."""

    name: Any
    d: Counts
    wanted: dict[str, int]  # D's candidate keys
    d_total: int
    r_total: int
    inside: Callable[[Any], bool]  # is a group (by its key) part of D?


def score(
    targets: list[Target], groups: Mapping[Any, AttrSample], level_r: int, expand: Expand
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


def target(
    name: Any,
    d: list[AttrSample],
    inside: Callable[[Any], bool],
    expand: Expand,
    size: int,
    d_total: int,
    r_total: int,
) -> Target:
    dc = counts_at(d, sample_level((g.n for g in d), size), expand, size)
    return Target(name, dc, candidates(dc, d_total), d_total, r_total, inside)


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
    t = target("d", list(d), lambda key: False, expand, size, d_total, r_total)
    return score([t], rs, sample_level((s.n for s in rs.values()), size), expand)["d"]
