"""Redaction of configured JSON body fields, before a record leaves the collector.

Paths use the report's field-path syntax (docs/contract.md §4): ``$`` the root,
``.name`` or ``['odd key']`` an object key, ``[*]`` every list element, e.g.
``$.user.password`` or ``$.cards[*].number``. A matched value becomes
``"[REDACTED]"``; paths that do not match are ignored.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from shadowdiff.model.record import REDACTED

ANY = object()  # the [*] step
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_\-]*)|\['((?:[^'\\]|\\.)*)'\]|\[(\*|\d+)\]")


def parse_path(path: str) -> tuple[object, ...]:
    """``"$.a[*].b"`` -> ``("a", ANY, "b")``; ValueError naming the path when malformed."""
    if not path.startswith("$") or path == "$":
        raise ValueError(f"{path!r} is not a field path like $.user.password")
    steps: list[object] = []
    pos = 1
    while pos < len(path):
        match = _STEP.match(path, pos)
        if not match:
            raise ValueError(f"{path!r} is not a field path like $.user.password")
        name, quoted, index = match.groups()
        if name is not None:
            steps.append(name)
        elif quoted is not None:
            steps.append(quoted.replace("\\'", "'"))
        else:
            steps.append(ANY if index == "*" else int(index))
        pos = match.end()
    return tuple(steps)


def _apply(node: Any, steps: tuple[object, ...]) -> bool:
    if not steps:
        return False
    step, rest = steps[0], steps[1:]
    changed = False
    if step is ANY:
        if isinstance(node, list):
            for i, item in enumerate(node):
                if rest:
                    changed |= _apply(item, rest)
                else:
                    node[i] = REDACTED
                    changed = True
        return changed
    if isinstance(step, int):
        if isinstance(node, list) and -len(node) <= step < len(node):
            if rest:
                return _apply(node[step], rest)
            node[step] = REDACTED
            return True
        return False
    if isinstance(node, dict) and step in node:
        if rest:
            return _apply(node[step], rest)
        node[step] = REDACTED
        return True
    return False


class JsonRedactor:
    """Compiled once from the settings; :meth:`redact` rewrites a JSON body."""

    def __init__(self, paths: tuple[str, ...]) -> None:
        self.paths = tuple(parse_path(p) for p in paths)

    def __bool__(self) -> bool:
        return bool(self.paths)

    def redact(self, body: bytes) -> bytes | None:
        """The body with the fields redacted; the same bytes when nothing matched;
        ``None`` when it is not JSON (the caller then withholds it)."""
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        changed = False
        for steps in self.paths:
            changed |= _apply(doc, steps)
        return orjson.dumps(doc) if changed else body


def is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    main = content_type.split(";", 1)[0].strip().lower()
    return main == "application/json" or main.endswith("+json")
