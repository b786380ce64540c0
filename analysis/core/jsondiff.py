"""Field-by-field JSON diff in the contract's terms (docs/contract.md §4).

Semantics are those of flattening both documents to their leaves (scalars,
empty lists, empty objects) with concrete indexes, then comparing the two
leaf maps: a leaf only in the shadow is ``added``, only in the primary
``removed``, in both with different JSON types ``type_changed``, else
``changed`` when the values differ. ``1`` and ``1.0`` are the same number; a
boolean is never a number. Concrete indexes are then reported as ``[*]`` and
each ``(path, kind)`` counts once per pair.

Why not deepdiff on whole bodies: at 4–10 ms per 2 KB pair it caps the job at
a few hundred pairs/s. This walk descends in parallel and skips every subtree
that compares equal with Python's C-level ``==`` (guarded against ``True ==
1`` when either body holds a boolean), and decides two scalar leaves itself,
so it costs time only along the paths that actually differ, and the noise
that differs in every pair never leaves this fast path. Where it meets a
structural difference (objects with different key sets, lists of different
length, a non-empty container against another type) it hands that node to
deepdiff (:mod:`analysis.core.deepdiff_map`), which maps deepdiff's report
back onto the same leaf semantics: deepdiff runs only on the subtrees that
differ. ``DiffOptions(use_deepdiff=False)`` keeps the pure walk (the
mapping's fallback). Property tests hold both equal to the flatten definition.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import orjson

# Loads deepdiff once here, before the report forks its workers.
from analysis.core import deepdiff_map
from analysis.core.leaves import DiffOptions, RawDiff, is_branch, leaf_kind, same
from analysis.core.paths import ANY_INDEX, ROOT, key_segment


def _emit_all(
    value: Any, path: str, kind: str, primary_side: bool, out: dict[Any, RawDiff]
) -> None:
    if isinstance(value, dict) and value:
        for key, child in value.items():
            _emit_all(child, path + key_segment(key), kind, primary_side, out)
    elif isinstance(value, list) and value:
        sub = path + ANY_INDEX
        for child in value:
            _emit_all(child, sub, kind, primary_side, out)
    else:
        k = (path, kind)
        if k not in out:
            out[k] = (path, kind, value, None) if primary_side else (path, kind, None, value)


def _leaf(a: Any, b: Any, path: str, opts: DiffOptions, out: dict[Any, RawDiff]) -> None:
    kind = leaf_kind(a, b, opts)
    if kind is not None and (path, kind) not in out:
        out[(path, kind)] = (path, kind, a, b)


def _structural(a: Any, b: Any, path: str, opts: DiffOptions, out: dict[Any, RawDiff]) -> None:
    """deepdiff for this node; where its report has no exact mapping, the pure walk."""
    if not deepdiff_map.diff_subtrees(a, b, path, opts, out):
        walk(a, b, path, replace(opts, use_deepdiff=False), out)


def walk(a: Any, b: Any, path: str, opts: DiffOptions, out: dict[Any, RawDiff]) -> None:
    """Differences below ``path``; the caller has seen that ``a`` and ``b`` are not the same."""
    if type(a) is dict and type(b) is dict and a and b:
        if opts.use_deepdiff and a.keys() != b.keys():
            _structural(a, b, path, opts, out)
            return
        for key, va in a.items():
            sub = path + key_segment(key)
            if key in b:
                vb = b[key]
                if not same(va, vb, opts):
                    walk(va, vb, sub, opts, out)
            else:
                _emit_all(va, sub, "removed", True, out)
        for key, vb in b.items():
            if key not in a:
                _emit_all(vb, path + key_segment(key), "added", False, out)
        return
    if type(a) is list and type(b) is list and a and b:
        if opts.use_deepdiff and len(a) != len(b):
            _structural(a, b, path, opts, out)
            return
        sub = path + ANY_INDEX
        n = min(len(a), len(b))
        for i in range(n):
            if not same(a[i], b[i], opts):
                walk(a[i], b[i], sub, opts, out)
        for extra in a[n:]:
            _emit_all(extra, sub, "removed", True, out)
        for extra in b[n:]:
            _emit_all(extra, sub, "added", False, out)
        return
    a_branch, b_branch = is_branch(a), is_branch(b)
    if not a_branch and not b_branch:
        _leaf(a, b, path, opts, out)
    elif opts.use_deepdiff:
        _structural(a, b, path, opts, out)
    elif not a_branch:
        out.setdefault((path, "removed"), (path, "removed", a, None))
        _emit_all(b, path, "added", False, out)
    elif not b_branch:
        _emit_all(a, path, "removed", True, out)
        out.setdefault((path, "added"), (path, "added", None, b))
    else:  # a non-empty list against a non-empty object: no leaf in common
        _emit_all(a, path, "removed", True, out)
        _emit_all(b, path, "added", False, out)


def _canonical_key(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # an integer beyond 64 bits (parsed by the json fallback)
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def sort_lists(value: Any) -> Any:
    """Every list sorted by its elements' canonical JSON (the ``ignore_list_order`` view)."""
    if isinstance(value, dict):
        return {k: sort_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((sort_lists(v) for v in value), key=_canonical_key)
    return value


def diff_json(primary: Any, shadow: Any, opts: DiffOptions = DiffOptions()) -> list[RawDiff]:
    """Differences between two decoded JSON documents, one per ``(path, kind)``."""
    if opts.ignore_list_order:
        primary, shadow = sort_lists(primary), sort_lists(shadow)
    out: dict[Any, RawDiff] = {}
    if not same(primary, shadow, opts):
        walk(primary, shadow, ROOT, opts, out)
    return list(out.values())


def flatten(value: Any, path: str = ROOT) -> list[tuple[str, Any]]:
    """Leaves with concrete indexes (``$.a[0].b``); the reference definition tests use."""
    if isinstance(value, dict) and value:
        items: list[tuple[str, Any]] = []
        for key, child in value.items():
            items.extend(flatten(child, path + key_segment(key)))
        return items
    if isinstance(value, list) and value:
        items = []
        for i, child in enumerate(value):
            items.extend(flatten(child, f"{path}[{i}]"))
        return items
    return [(path, value)]
