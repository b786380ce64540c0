"""Which JSON paths, with which types, an arm's 2xx responses hold (schema drift, docs/contract.md §9).

A body is flattened to its leaves in the report's notation (§4: ``$``, ``.name``,
``['odd key']``, ``[*]``) with each leaf's JSON type; a response counts once per
``(path, type)`` it holds. To keep memory bounded on APIs with data-dependent
keys, each arm of each endpoint keeps at most :data:`MAX_PATHS` paths: those with
the smallest ``(crc32(path), path)``. That choice depends only on the set of
paths, never on bucket or merge order, and a kept path's counts are exact (had a
partial dropped it, the paths it kept instead would all rank before it).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from analysis.core.leaves import json_type
from analysis.core.paths import ANY_INDEX, ROOT, key_segment

MAX_PATHS = 2000
ADDED_MIN, ABSENT_MAX = 0.5, 0.05  # "in ≥ 50 % of one arm and ≤ 5 % of the other"
MIN_BODIES = 20  # fewer JSON bodies in either arm: no schema call

Rank = tuple[int, str]


def rank(path: str) -> Rank:
    return zlib.crc32(path.encode("utf-8", "surrogatepass")), path


_SCALARS: dict[type, str] = {
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


_CONTAINERS = (dict, list)


def leaves(value: Any) -> set[tuple[str, str]]:
    """Every ``(path, JSON type)`` leaf of a decoded body, list indexes as ``[*]``.

    Iterative, with scalars decided inline, and an object whose path, keys and
    value types were already seen in this body (the elements of a list of records)
    contributes only what its nested containers hold: a 2 KB body has a hundred-odd
    leaves and this runs on every 2xx JSON response of both arms.
    """
    out: set[tuple[str, str]] = set()
    add, scalars, segment = out.add, _SCALARS, key_segment
    seen: set[tuple[str, tuple[str, ...], tuple[type, ...]]] = set()
    stack: list[tuple[Any, str]] = [(value, ROOT)]
    push, pop = stack.append, stack.pop
    while stack:
        node, path = pop()
        kind = type(node)
        if kind is dict:
            if not node:
                add((path, "object"))
                continue
            types = tuple(map(type, node.values()))
            signature = (path, tuple(node), types)
            if signature in seen:
                if dict in types or list in types:
                    for key, child in node.items():
                        if type(child) in _CONTAINERS:
                            push((child, path + segment(key)))
                continue
            seen.add(signature)
            for key, child in node.items():
                sub = path + segment(key)
                name = scalars.get(type(child))
                if name is None:
                    push((child, sub))
                else:
                    add((sub, name))
        elif kind is list:
            if not node:
                add((path, "list"))
                continue
            sub = path + ANY_INDEX
            for child in node:
                name = scalars.get(type(child))
                if name is None:
                    push((child, sub))
                else:
                    add((sub, name))
        else:
            add((path, scalars.get(kind) or json_type(node)))
    return out


@dataclass(slots=True)
class Shapes:
    bodies: int = 0  # 2xx JSON responses looked at
    paths: dict[str, int] = field(default_factory=dict)  # responses holding the path
    types: dict[tuple[str, str], int] = field(default_factory=dict)  # ... with that type
    cut: Rank | None = None  # paths ranked after this one were dropped

    def add(self, found: set[tuple[str, str]]) -> None:
        self.bodies += 1
        paths, types, cut = self.paths, self.types, self.cut
        seen: set[str] = set()
        for pt in found:
            path = pt[0]
            if cut is not None and rank(path) > cut:
                continue
            types[pt] = types.get(pt, 0) + 1
            if path not in seen:
                seen.add(path)
                paths[path] = paths.get(path, 0) + 1
        if len(paths) > MAX_PATHS:
            self._prune()

    def merge(self, other: Shapes) -> None:
        self.bodies += other.bodies
        for path, n in other.paths.items():
            self.paths[path] = self.paths.get(path, 0) + n
        for pt, n in other.types.items():
            self.types[pt] = self.types.get(pt, 0) + n
        if other.cut is not None:
            self.cut = other.cut if self.cut is None else min(self.cut, other.cut)
        self._prune()

    def _prune(self) -> None:
        cut = self.cut
        if len(self.paths) > MAX_PATHS:
            kept = sorted(self.paths, key=rank)[:MAX_PATHS]
            last = rank(kept[-1])
            cut = last if cut is None else min(cut, last)
        if cut is None:
            return
        self.cut = cut
        self.paths = {p: n for p, n in self.paths.items() if rank(p) <= cut}
        self.types = {pt: n for pt, n in self.types.items() if rank(pt[0]) <= cut}

    def top_type(self, path: str) -> str:
        found = [(n, t) for (p, t), n in self.types.items() if p == path]
        return max(found)[1] if found else ""


def drift(baseline: Shapes, canary: Shapes) -> list[dict[str, Any]]:
    """Paths added, removed or retyped between the arms, by the contract's thresholds."""
    if baseline.bodies < MIN_BODIES or canary.bodies < MIN_BODIES:
        return []
    cuts = [c for c in (baseline.cut, canary.cut) if c is not None]
    limit = min(cuts) if cuts else None
    out: list[dict[str, Any]] = []
    for path in sorted(set(baseline.paths) | set(canary.paths)):
        if limit is not None and rank(path) > limit:
            continue  # one arm may have dropped it: no call
        b = baseline.paths.get(path, 0) / baseline.bodies
        c = canary.paths.get(path, 0) / canary.bodies
        entry: dict[str, Any] = {"path": path, "baseline_share": b, "canary_share": c}
        if c >= ADDED_MIN and b <= ABSENT_MAX:
            out.append({**entry, "kind": "added", "canary_type": canary.top_type(path)})
        elif b >= ADDED_MIN and c <= ABSENT_MAX:
            out.append({**entry, "kind": "removed", "baseline_type": baseline.top_type(path)})
        elif b >= ADDED_MIN and c >= ADDED_MIN:
            bt, ct = baseline.top_type(path), canary.top_type(path)
            if bt != ct:
                out.append(
                    {**entry, "kind": "type_changed", "baseline_type": bt, "canary_type": ct}
                )
    order = {"removed": 0, "type_changed": 1, "added": 2}
    out.sort(key=lambda e: (order[e["kind"]], e["path"]))
    return out
