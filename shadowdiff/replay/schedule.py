"""The pacing of ``--rate``: when each replayed request is due (pure).

``--rate F`` keeps the original spacing at F times the speed: a request captured
``d`` seconds after the first one is due ``d / F`` seconds after the replay's
start. The schedule is absolute, not a sleep between neighbours, so a request
held up by a full ``--concurrency`` is sent as soon as a slot frees and the ones
after it are not pushed back too: the replay catches up instead of drifting.
``max`` (rate ``None``) sends everything as soon as a slot is free.
"""

from __future__ import annotations

from collections.abc import Iterable


def due_offset(first_us: int, at_us: int, rate: float | None) -> float:
    """Seconds after the start at which a request captured at ``at_us`` is due."""
    if rate is None or at_us <= first_us:
        return 0.0
    return (at_us - first_us) / 1e6 / rate


def schedule(captured_us: Iterable[int], rate: float | None) -> list[float]:
    """Due offsets of requests given in ``captured_at`` order (microseconds since the epoch)."""
    first: int | None = None
    out: list[float] = []
    for at in captured_us:
        if first is None:
            first = at
        out.append(due_offset(first, at, rate))
    return out


class Pacer:
    """Tells the replay loop how long to wait before each request, against its own clock."""

    __slots__ = ("first_us", "rate", "start")

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.first_us: int | None = None
        self.start = 0.0

    def wait(self, at_us: int, now: float) -> float:
        """Seconds to sleep before sending the request captured at ``at_us`` (``now``: a monotonic clock)."""
        if self.rate is None:
            return 0.0
        if self.first_us is None:
            self.first_us, self.start = at_us, now
            return 0.0
        return max(0.0, self.start + due_offset(self.first_us, at_us, self.rate) - now)
