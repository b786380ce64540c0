"""Which differing fields are noise, and why: ``rule`` → ``secondary`` → ``auto``.

- ``rule``: a configured ignore rule (endpoint glob via fnmatch, path in the
  contract notation; a path also covers everything below it).
- ``secondary`` (Diffy-style): the field also differs between primary and a
  second copy of the primary version. It stays noise unless its raw rate beats
  the primary/secondary noise rate by BOTH margins: ``raw - noise >
  secondary_absolute`` and ``raw > noise * (1 + secondary_relative)``.
- ``auto``: a volatile value. Kind ``changed`` only, in at least half the
  compared pairs (and at least ``AUTO_MIN_PAIRS``), where in ≥ 80 % of those
  pairs both sides hold a value of the same volatile shape, and the shadow's
  values are mostly distinct. Volatile shapes: any ISO 8601 date or
  date-time (one shape, with or without fractions or offset); a token of
  8–200 characters without spaces that has a digit or both letter cases
  (UUIDs, hex, base62/64 IDs), compared by length and punctuation; an integer
  ≥ 1e5 (random IDs, epochs); a float ≥ 1e9 (epoch seconds). A removed field, a
  type change or a constant new value therefore never qualifies. Shapes and
  distinctness are measured on the first ``SHAPE_SAMPLE`` differing pairs of
  each field in each bucket (a sample; the rate uses every pair).
"""

from __future__ import annotations

import hashlib
import re
from fnmatch import fnmatchcase
from typing import Any

from analysis.core.paths import normalize_pattern, path_matches
from analysis.core.settings import ReportSettings

AUTO_MIN_PAIRS = 5
AUTO_MIN_RATE = 0.5
AUTO_SHAPE_SHARE = 0.8
SKETCH_SIZE = 64
SHAPE_SAMPLE = 200
_TOKEN = re.compile(r"[A-Za-z0-9_\-:.+/=]{8,200}\Z")
_DIGIT = re.compile(r"\d")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?([Zz]|[+-]\d{2}:?\d{2})?\Z"
)
_SKELETON = str.maketrans(
    dict.fromkeys("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", "x")
)
_LOWER = re.compile(r"[a-z]")
_UPPER = re.compile(r"[A-Z]")


class RuleMatcher:
    """Ignore rules, resolved per endpoint once (endpoints repeat millions of times)."""

    def __init__(self, settings: ReportSettings) -> None:
        self._rules = [
            (r.endpoint, tuple(normalize_pattern(p) for p in r.paths)) for r in settings.ignore
        ]
        self._per_endpoint: dict[str, tuple[str, ...]] = {}

    def patterns(self, endpoint: str) -> tuple[str, ...]:
        found = self._per_endpoint.get(endpoint)
        if found is None:
            found = tuple(
                p for glob, paths in self._rules if fnmatchcase(endpoint, glob) for p in paths
            )
            self._per_endpoint[endpoint] = found
        return found

    def ignored(self, endpoint: str, path: str) -> bool:
        return any(path_matches(p, path) for p in self.patterns(endpoint))


def volatile_shape(value: Any) -> str | None:
    """The shape of a value that looks volatile, or None when it does not."""
    if value is None or value is True or value is False:
        return None
    if isinstance(value, int):
        return "big-number" if abs(value) >= 1e5 else None  # random integer IDs, epochs
    if isinstance(value, float):
        return "big-number" if abs(value) >= 1e9 else None  # epoch seconds with fractions
    if isinstance(value, str) and _TOKEN.match(value):
        if _DATETIME.match(value):
            return "timestamp"  # fractions and offsets come and go: one shape
        if _DIGIT.search(value) or (_LOWER.search(value) and _UPPER.search(value)):
            return value.translate(_SKELETON)  # UUIDs, hex, base62/64 tokens
    return None


def value_hash(value: Any) -> int:
    return int.from_bytes(hashlib.blake2b(repr(value).encode(), digest_size=8).digest(), "big")


def merge_sketch(a: list[int], b: list[int]) -> list[int]:
    """K smallest distinct hashes (a KMV sketch): associative, so partitions merge in any order."""
    return sorted(set(a) | set(b))[:SKETCH_SIZE]


def distinct_estimate(sketch: list[int]) -> float:
    if len(sketch) < SKETCH_SIZE:
        return float(len(sketch))
    return (SKETCH_SIZE - 1) / (sketch[-1] / 2.0**64)


def is_auto_noise(
    kind: str, count: int, compared: int, checked: int, shaped: int, sketch: list[int]
) -> bool:
    """``checked`` pairs were sampled; ``shaped`` of them kept a volatile shape on both sides."""
    if kind != "changed" or count < AUTO_MIN_PAIRS or compared <= 0 or checked <= 0:
        return False
    if count < AUTO_MIN_RATE * compared or shaped < AUTO_SHAPE_SHARE * checked:
        return False
    return distinct_estimate(sketch) >= max(3.0, 0.5 * min(checked, SKETCH_SIZE))


def is_secondary_noise(
    raw_count: int, compared: int, noise_count: int, noise_compared: int, settings: ReportSettings
) -> bool:
    if noise_count <= 0 or noise_compared <= 0 or compared <= 0:
        return False
    raw, noise = raw_count / compared, noise_count / noise_compared
    reported = raw - noise > settings.secondary_absolute and raw > noise * (
        1.0 + settings.secondary_relative
    )
    return not reported
