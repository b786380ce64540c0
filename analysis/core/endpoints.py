"""Endpoint names: ``GET /users/{id}`` (docs/contract.md §4).

A configured route template wins when it has the same number of segments and
every literal segment is equal (``{name}`` matches any one whole segment).
Otherwise each segment is templated: all digits → ``{id}``, a UUID →
``{uuid}``, 16+ hex characters → ``{hex}``. Names are cached because a night
holds millions of requests over a few hundred distinct paths.
"""

from __future__ import annotations

import re
from functools import lru_cache

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_HEX = re.compile(r"[0-9a-fA-F]{16,}\Z")
_PARAM = re.compile(r"\{[^/{}]*\}\Z")


def template_segment(segment: str) -> str:
    if segment.isdigit() and segment.isascii():
        return "{id}"
    if _UUID.match(segment):
        return "{uuid}"
    if _HEX.match(segment):
        return "{hex}"
    return segment


def _split(path: str) -> list[str]:
    return path.split("/")


def _route_matches(route: str, path: str) -> bool:
    r_parts, p_parts = _split(route), _split(path)
    if len(r_parts) != len(p_parts):
        return False
    for r, p in zip(r_parts, p_parts, strict=True):
        if _PARAM.match(r):
            if not p:
                return False
            continue
        if r != p:
            return False
    return True


@lru_cache(maxsize=65536)
def endpoint_name(method: str, path: str, routes: tuple[str, ...] = ()) -> str:
    """``METHOD template`` for one request; ``routes`` are tried in order first."""
    path = path.split("?", 1)[0] or "/"
    for route in routes:
        if _route_matches(route, path):
            return f"{method.upper()} {route}"
    templated = "/".join(template_segment(s) for s in _split(path))
    return f"{method.upper()} {templated}"
