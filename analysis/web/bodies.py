"""Captured bodies as something a person can read: pretty JSON, text, or size and hash.

Pure functions over plain data. JSON is printed one leaf per line with the
contract's field path of each line (``$.items[*].price``), so the pair page can
highlight exactly the lines the diff names, noise apart. Everything here is
plain text; the templates escape it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from analysis.core.bodies import body_bytes, content_type, is_json_type
from analysis.core.paths import key_segment

MAX_LINES = 5000


@dataclass(slots=True)
class Body:
    kind: str  # empty | json | text | binary
    lines: list[tuple[str, str]] = field(default_factory=list)  # (text, css class)
    size: int = 0
    sha256: str = ""
    truncated: bool = False
    clipped: bool = False  # more lines than MAX_LINES; the rest is not shown


def json_lines(value: Any, marks: dict[str, str]) -> list[tuple[str, str]]:
    """Pretty-printed ``value``, each line with the mark of its path or of an ancestor."""
    out: list[tuple[str, str]] = []

    def walk(v: Any, path: str, depth: int, prefix: str, comma: str, inherited: str) -> None:
        mark = marks.get(path, inherited)
        pad = "  " * depth
        if isinstance(v, dict) and v:
            out.append((f"{pad}{prefix}{{", mark))
            items = list(v.items())
            for i, (k, x) in enumerate(items):
                key = orjson.dumps(str(k)).decode()
                sep = "," if i < len(items) - 1 else ""
                walk(x, path + key_segment(str(k)), depth + 1, f"{key}: ", sep, mark)
            out.append((f"{pad}}}{comma}", mark))
        elif isinstance(v, list) and v:
            out.append((f"{pad}{prefix}[", mark))
            for i, x in enumerate(v):
                walk(x, f"{path}[*]", depth + 1, "", "," if i < len(v) - 1 else "", mark)
            out.append((f"{pad}]{comma}", mark))
        else:
            out.append((f"{pad}{prefix}{orjson.dumps(v).decode()}{comma}", mark))

    walk(value, "$", 0, "", "", "")
    return out


def render_body(part: dict[str, Any] | None, marks: dict[str, str]) -> Body:
    """A request or response part of a capture record, ready to show.

    Bodies are decoded the way the analysis compared them (base64, then any
    ``content-encoding``), so a gzip JSON response reads as JSON; what is not
    UTF-8 after that is binary and shown as its size and SHA-256 only.
    """
    if not part or part.get("body") in (None, ""):
        size = (part or {}).get("body_size")
        return Body("empty", size=size if isinstance(size, int) else 0)
    if not isinstance(part.get("body"), str) or not isinstance(part.get("headers") or {}, dict):
        # Not a contract record; show what is there rather than guess.
        return Body("text", [(orjson.dumps(part.get("body")).decode(), marks.get("$", ""))])
    truncated = bool(part.get("body_truncated"))
    raw = body_bytes(part)
    size = part.get("body_size")
    size = size if isinstance(size, int) and not isinstance(size, bool) else len(raw)
    sha = part.get("body_sha256") or hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Body("binary", size=size, sha256=str(sha), truncated=truncated)
    if is_json_type(content_type(part.get("headers"))) and not truncated:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            return _clip(Body("json", json_lines(value, marks), size, str(sha), truncated))
    mark = marks.get("$", "")
    lines = [(line, mark) for line in text.splitlines()] or [("", mark)]
    return _clip(Body("text", lines, size, str(sha), truncated))


def _clip(body: Body) -> Body:
    if len(body.lines) > MAX_LINES:
        body.lines = body.lines[:MAX_LINES]
        body.clipped = True
    return body
