"""Field paths in the contract notation: ``$``, ``.name``, ``['odd key']``, ``[*]``."""

from __future__ import annotations

import re

ROOT = "$"
ANY_INDEX = "[*]"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_INDEX = re.compile(r"\[\d+\]")
_cache: dict[str, str] = {}


def key_segment(key: str) -> str:
    """``.name`` for an identifier, else ``['odd key']`` with ``\\`` and ``'`` escaped."""
    seg = _cache.get(key)
    if seg is None:
        if _IDENT.match(key):
            seg = "." + key
        else:
            seg = "['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"
        if len(_cache) < 100_000:
            _cache[key] = seg
    return seg


def normalize_pattern(pattern: str) -> str:
    """Concrete list indexes in a rule (``[0]``) mean any index, as in reported paths."""
    pattern = pattern.strip()
    if not pattern.startswith("$") and not pattern.startswith("headers."):
        pattern = "$." + pattern if not pattern.startswith("[") else "$" + pattern
    return _INDEX.sub(ANY_INDEX, pattern)


def path_matches(pattern: str, path: str) -> bool:
    """A rule matches its own path and everything below it (``$.meta`` covers ``$.meta.x``)."""
    if path == pattern:
        return True
    if path.startswith(pattern) and len(path) > len(pattern):
        return path[len(pattern)] in ".["
    return pattern == ROOT
