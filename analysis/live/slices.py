"""Time slices: how the live window is cut so it can slide without re-reading.

The window is a whole number of slices of ``width`` milliseconds of
``captured_at`` and ends with the slice that holds the newest record, so it
covers ``[start, end)`` with ``end`` the end of that slice: exactly what
``shadowdiff report --since start --until end`` covers. Slices are a minute
for windows up to two hours, and longer above so that a window has at most
:data:`MAX_SLICES` of them (a day: twelve minutes); a window that is not a
whole number of minutes gets the largest slice that divides it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MINUTE_MS = 60_000
MAX_SLICES = 120
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def slice_width(window_ms: int) -> int:
    """The largest divisor of ``window_ms`` that is at most max(1 min, window / 120)."""
    target = max(MINUTE_MS, math.ceil(window_ms / MAX_SLICES))
    best = 1
    for d in range(1, math.isqrt(window_ms) + 1):
        if window_ms % d == 0:
            for cand in (d, window_ms // d):
                if best < cand <= target:
                    best = cand
    return best


def from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch (``captured_at`` has millisecond precision)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


@dataclass(frozen=True, slots=True)
class SliceClock:
    window_ms: int
    width_ms: int

    @classmethod
    def for_window(cls, window_seconds: float) -> SliceClock:
        window_ms = max(1, round(window_seconds * 1000))
        return cls(window_ms, slice_width(window_ms))

    @property
    def count(self) -> int:
        """Slices in the window."""
        return self.window_ms // self.width_ms

    def index(self, ms: int) -> int:
        """The slice that holds the moment ``ms`` (epoch milliseconds)."""
        return ms // self.width_ms

    def bounds(self, newest_ms: int) -> tuple[int, int]:
        """(first, last) slice of the window that ends with the newest record's slice."""
        hi = self.index(newest_ms)
        return hi - self.count + 1, hi

    def start(self, slice_index: int) -> datetime:
        """When a slice begins (a window's ``end`` is ``start(hi + 1)``)."""
        return _EPOCH + timedelta(milliseconds=slice_index * self.width_ms)
