"""Field-by-field JSON diff in the contract's terms (CONTRACT §4).

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
back onto the same leaf semantics — the "diff only the subtrees that differ"
of the issue. ``DiffOptions(use_deepdiff=False)`` keeps the pure walk (the
mapping's fallback). Property tests hold both equal to the flatten definition.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import orjson

# Loads deepdiff once here, before the report forks its workers.
from analysis.core import deepdiff_map
from analysis.core.paths import ANY_INDEX, ROOT, key_segment

Kind = Literal["changed", "added", "removed", "type_changed"]
KINDS: tuple[Kind, ...] = ("changed", "added", "removed", "type_changed")
RawDiff = tuple[str, str, Any, Any]  # (path, kind, primary value, shadow value)


@dataclass(frozen=True, slots=True)
class DiffOptions:
    absolute: float = 0.0
    relative: float = 0.0
    ignore_list_order: bool = False
    # When neither body can hold a boolean, ``==`` on containers is exact.
    guard_booleans: bool = True
    # Structural differences go to deepdiff; False keeps the pure walk.
    use_deepdiff: bool = True


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def numbers_equal(a: float, b: float, opts: DiffOptions) -> bool:
    if a == b:
        return True
    gap = abs(a - b)
    if gap <= opts.absolute:
        return True
    return opts.relative > 0 and gap <= opts.relative * max(abs(a), abs(b))


def is_branch(value: Any) -> bool:
    return bool(value) and isinstance(value, dict | list)


def same(a: Any, b: Any, opts: DiffOptions) -> bool:
    """Exactly equal under the contract (fast path only; False means "walk it")."""
    if type(a) is not type(b) or a != b:
        return False
    if opts.guard_booleans and isinstance(a, dict | list):
        # ``==`` says True == 1; the serialised forms do not. Unequal text (key
        # order, 1 vs 1.0) only means "walk it", which then decides exactly.
        try:
            return orjson.dumps(a) == orjson.dumps(b)
        except TypeError:  # an integer beyond 64 bits (parsed by the json fallback)
            return False
    return True


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
    ta, tb = json_type(a), json_type(b)
    if ta != tb:
        kind = "type_changed"
    elif ta == "number":
        if numbers_equal(a, b, opts):
            return
        kind = "changed"
    elif a == b:
        return
    else:
        kind = "changed"
    k = (path, kind)
    if k not in out:
        out[k] = (path, kind, a, b)


def _structural(a: Any, b: Any, path: str, opts: DiffOptions, out: dict[Any, RawDiff]) -> None:
    deepdiff_map.diff_subtrees(a, b, path, opts, out)


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
