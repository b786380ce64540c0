"""deepdiff for the subtrees whose shape differs, mapped onto docs/contract.md §4 leaves.

:mod:`analysis.core.jsondiff` walks both documents together, skips equal
subtrees and decides scalar leaves itself, so the noise that differs in every
pair (timestamps, request IDs) never reaches deepdiff. Where the walk meets a
*structural* difference — two objects whose key sets differ, two lists of
different length, or a non-empty container against anything of another type —
it calls :func:`diff_subtrees`, which

1. prunes that node: equal children are dropped, and children that are two
   leaves (scalars, empty containers) are decided directly, as in the walk;
2. runs ``deepdiff.DeepDiff(view="tree")`` on what is left; and
3. maps the report onto the contract: ``values_changed``/``type_changes`` go
   through the walk's leaf rule (JSON types, numeric tolerance), and
   ``dictionary_item_*``/``iterable_item_*`` are flattened to their leaves,
   ``[*]`` for list indexes, kinds following the shadow side.

The result is exactly the flatten definition (property-tested against it and
against the pure walk, example values included). deepdiff settings, and why:

- ``zip_ordered_iterables=True``: the definition compares lists index by index;
  deepdiff's default aligns them with difflib (an inserted element would be one
  ``iterable_item_added`` instead of changes plus an ``added``).
- ``threshold_to_diff_deeper=0``: otherwise two objects sharing few keys come
  back as one ``values_changed`` of the whole objects.
- ``ignore_private_variables=False``: otherwise keys starting with ``__`` are
  skipped.
- no ``ignore_numeric_type_changes``: deepdiff groups numbers with
  ``isinstance``, so it would also call ``True == 1`` and ``False == 0.0``
  equal and say nothing — a missing report cannot be filtered afterwards. It
  therefore reports ``1`` vs ``1.0`` as a ``type_changes`` and the mapping
  folds that back into the number comparison (equal, or ``changed`` beyond the
  tolerance), while a boolean against a number stays ``type_changed``.
- numeric tolerance is applied while mapping (``|a-b| <= absolute`` or
  ``<= relative * max(|a|, |b|)``), not with ``math_epsilon``, which is
  absolute only.
- not ``ignore_order``: ``ignore_list_order`` is defined as "sort every list
  by its elements' canonical JSON, then compare index by index" (the walk does
  the sorting before diffing, and structural nodes of the sorted lists still
  come here). deepdiff's ``ignore_order`` pairs list items by similarity and,
  without ``report_repetition``, ignores repeats (``[1, 1, 2]`` equals
  ``[2, 1]``), so it cannot be mapped onto that definition exactly.

Any report type the mapping does not know makes :func:`diff_subtrees` say so
(it returns False) and the walk diffs that node itself, so the result never
depends on deepdiff reporting something new.
"""

from __future__ import annotations

import sys
from typing import Any

from analysis.core.leaves import DiffOptions, RawDiff, is_branch, leaf_kind, same
from analysis.core.paths import ANY_INDEX, key_segment


def _load_deepdiff() -> Any:
    """``deepdiff.DeepDiff``, imported without its optional pandas/polars support.

    deepdiff imports pandas (and polars) if installed, only to recognise their
    objects; it never sees one here. In the report job that doubled the memory
    of every worker (pandas is counted once per forked process) and added
    about 10 % CPU; blocking those two imports while deepdiff loads keeps its
    cost to ~80 ms once, in the parent, before the workers fork. When pandas
    is already loaded nothing is blocked.
    """
    blocked = [name for name in ("pandas", "polars") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # "not installed" to importers
    try:
        from deepdiff import DeepDiff
    finally:
        for name in blocked:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
    return DeepDiff


DeepDiff = _load_deepdiff()

# (order key, path, kind, primary value, shadow value). The order key is the
# node-level position followed by the list indexes down to the reported level;
# a stable sort on it restores the walk's document order (one level's leaves
# are emitted in document order already), which decides the example values
# kept when several indexes report the same (path, kind).
Entry = tuple[tuple[int, ...], str, str, Any, Any]

_DEEPDIFF_OPTIONS: dict[str, Any] = {
    "view": "tree",
    "zip_ordered_iterables": True,
    "threshold_to_diff_deeper": 0,
    "ignore_private_variables": False,
}
_ADDED = ("dictionary_item_added", "iterable_item_added")
_REMOVED = ("dictionary_item_removed", "iterable_item_removed")
_CHANGED = ("values_changed", "type_changes")
_KNOWN = frozenset(_ADDED + _REMOVED + _CHANGED)


class _Unmapped(Exception):
    """deepdiff reported something this mapping has no exact meaning for."""


def diff_subtrees(a: Any, b: Any, path: str, opts: DiffOptions, out: dict[Any, RawDiff]) -> bool:
    """Differences of one structurally different node pair, added to ``out`` in walk order.

    False (and nothing added) when deepdiff reported something this mapping has
    no exact meaning for: the caller then walks the node without deepdiff.
    """
    entries: list[Entry] = []
    pa: Any
    pb: Any
    order: dict[Any, int] | None
    try:
        if type(a) is dict and type(b) is dict:
            pa, pb, order = _prune_object(a, b, path, opts, entries)
        elif type(a) is list and type(b) is list:
            pa, pb, order = _prune_list(a, b, path, opts, entries)
        else:
            pa, pb, order = a, b, None
        report = DeepDiff(pa, pb, **_DEEPDIFF_OPTIONS)
        for name, levels in report.items():
            for level in levels:
                _map(name, level, a, b, path, order, opts, entries)
    except _Unmapped:
        return False
    entries.sort(key=_order_key)
    for _, p, kind, pv, sv in entries:
        key = (p, kind)
        if key not in out:
            out[key] = (p, kind, pv, sv)
    return True


def _order_key(entry: Entry) -> tuple[int, ...]:
    return entry[0]


def _prune_object(
    a: dict[str, Any], b: dict[str, Any], path: str, opts: DiffOptions, entries: list[Entry]
) -> tuple[dict[str, Any], dict[str, Any], dict[Any, int]]:
    pa: dict[str, Any] = {}
    pb: dict[str, Any] = {}
    order: dict[Any, int] = {}
    for i, (key, va) in enumerate(a.items()):
        if key in b:
            vb = b[key]
            if same(va, vb, opts):
                continue
            if not is_branch(va) and not is_branch(vb):
                _leaf(va, vb, path + key_segment(key), (i,), opts, entries)
                continue
            pb[key] = vb
        pa[key] = va
        order[key] = i
    n = len(a)
    for j, (key, vb) in enumerate(b.items()):
        if key not in a:
            pb[key] = vb
            order[key] = n + j
    return pa, pb, order


def _prune_list(
    a: list[Any], b: list[Any], path: str, opts: DiffOptions, entries: list[Entry]
) -> tuple[list[Any], list[Any], dict[Any, int]]:
    """Drop index pairs decided here from both lists alike, so the rest stays aligned."""
    n = min(len(a), len(b))
    keep: list[int] = []
    sub = path + ANY_INDEX
    for i in range(n):
        va, vb = a[i], b[i]
        if same(va, vb, opts):
            continue
        if not is_branch(va) and not is_branch(vb):
            _leaf(va, vb, sub, (i,), opts, entries)
            continue
        keep.append(i)
    index = keep + list(range(n, max(len(a), len(b))))
    pa = [a[i] for i in keep] + a[n:]
    pb = [b[i] for i in keep] + b[n:]
    return pa, pb, dict(enumerate(index))


def _map(
    name: str,
    level: Any,
    a: Any,
    b: Any,
    path: str,
    order: dict[Any, int] | None,
    opts: DiffOptions,
    entries: list[Entry],
) -> None:
    if name not in _KNOWN:
        raise _Unmapped(name)
    rel: list[Any] = level.path(output_format="list")
    if order is None:  # an unpruned node: deepdiff's indexes are the real ones
        ints = (0, *(x for x in rel if type(x) is int))
    else:  # the pruned node's child comes first: its original position
        ints = (order[rel[0]], *(x for x in rel[1:] if type(x) is int))
    where = path + "".join(_segment(x) for x in rel)
    if name in _CHANGED:
        _pair(level.t1, level.t2, where, ints, opts, entries)
    elif name in _ADDED:
        _emptied(level, rel, a, path, ints, "removed", True, entries)
        _leaves(level.t2, where, ints, "added", False, entries)
    else:
        _leaves(level.t1, where, ints, "removed", True, entries)
        _emptied(level, rel, b, path, ints, "added", False, entries)


def _emptied(
    level: Any,
    rel: list[Any],
    node: Any,
    path: str,
    ints: tuple[int, ...],
    kind: str,
    primary_side: bool,
    entries: list[Entry],
) -> None:
    """An item added to an empty container also removes that empty-container leaf."""
    if len(rel) > 1:
        parent = level.up.t1 if primary_side else level.up.t2
        where = path + "".join(_segment(x) for x in rel[:-1])
        if type(rel[-1]) is int:
            ints = ints[:-1]
    else:  # the node itself: the original, not its pruned copy
        parent, where, ints = node, path, (-1,)
    if not parent and isinstance(parent, dict | list):
        entries.append(_entry(ints, where, kind, parent, primary_side))


def _segment(part: Any) -> str:
    return ANY_INDEX if type(part) is int else key_segment(part)


def _entry(ints: tuple[int, ...], where: str, kind: str, value: Any, primary_side: bool) -> Entry:
    return (ints, where, kind, value, None) if primary_side else (ints, where, kind, None, value)


def _leaves(
    value: Any,
    where: str,
    ints: tuple[int, ...],
    kind: str,
    primary_side: bool,
    entries: list[Entry],
) -> None:
    if type(value) is dict and value:
        for key, child in value.items():
            _leaves(child, where + key_segment(key), ints, kind, primary_side, entries)
    elif type(value) is list and value:
        sub = where + ANY_INDEX
        for child in value:
            _leaves(child, sub, ints, kind, primary_side, entries)
    else:
        entries.append(_entry(ints, where, kind, value, primary_side))


def _pair(
    t1: Any, t2: Any, where: str, ints: tuple[int, ...], opts: DiffOptions, entries: list[Entry]
) -> None:
    b1, b2 = is_branch(t1), is_branch(t2)
    if not b1 and not b2:
        _leaf(t1, t2, where, ints, opts, entries)
    elif type(t1) is type(t2):
        raise _Unmapped("same-type containers reported as one change")
    else:  # a leaf or container against a container of another type: no leaf in common
        _leaves(t1, where, ints, "removed", True, entries)
        _leaves(t2, where, ints, "added", False, entries)


def _leaf(
    a: Any, b: Any, where: str, ints: tuple[int, ...], opts: DiffOptions, entries: list[Entry]
) -> None:
    kind = leaf_kind(a, b, opts)
    if kind is not None:
        entries.append((ints, where, kind, a, b))
