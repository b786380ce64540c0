"""What a field difference is, and the one rule that decides two leaves (docs/contract.md §4).

The ground both differs stand on: :mod:`analysis.core.jsondiff` (the walk) and
:mod:`analysis.core.deepdiff_map` (structural nodes through deepdiff) import
these types and the leaf rule from here, so neither imports the other's
module and the rule exists once.

Two leaves (scalars, empty lists, empty objects) of different JSON types are
``type_changed``; two numbers are equal within the numeric tolerance (``1``
and ``1.0`` are the same number; a boolean is never a number); anything else
is ``changed`` when the values differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

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


def leaf_kind(a: Any, b: Any, opts: DiffOptions) -> str | None:
    """How two leaves differ (``changed`` or ``type_changed``), or None when they are equal."""
    ta, tb = json_type(a), json_type(b)
    if ta != tb:
        return "type_changed"
    if ta == "number":
        return None if numbers_equal(a, b, opts) else "changed"
    return None if a == b else "changed"
