"""What is new in a source since the last look: the cursor a live reader (``watch``) holds.

A :class:`Tail` is the one addition to the source interface for live reading.
:meth:`Tail.poll` lists only where new records can appear and returns the parts
not yet taken; the reader reads a part whole and calls :meth:`Tail.ack`, after
which that part is never returned again. A part whose read failed is simply
not acked, so the next poll returns it once more: nothing is lost and nothing
is read twice.

File and object sources share :class:`HourTail`: in the contract layout only the
*open* hour partitions are listed (from :func:`first_open_hour`, the oldest hour
the live window still covers, to the newest that exists), and a file is new
when its name has not been taken yet. A root without ``role=/dt=/hour=`` folders is listed
whole each poll. Kinesis keeps its shard iterators instead
(:class:`analysis.sources.kinesis.KinesisTail`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from analysis.sources.base import SLACK, Part
from shadowdiff.model.record import ROLES

COLD_EVERY = 10  # polls between listings of the open hours that are not the newest two


@dataclass(frozen=True, slots=True)
class Horizon:
    """Which capture times a poll should look for.

    ``newest`` is the newest ``captured_at`` read so far (None before the first
    record); ``span`` is how far back from it the live window reaches.
    """

    span: timedelta
    newest: datetime | None = None


class Tail(Protocol):
    def poll(self, horizon: Horizon) -> list[Part]:
        """The parts that are new, or were returned before and not acked; in read order."""
        ...

    def ack(self, part: Part) -> None:
        """``part`` was read whole: never return it again."""
        ...


def hour_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def first_open_hour(horizon: Horizon, newest_hour: datetime) -> datetime:
    """The oldest hour partition that may still hold a record the window needs.

    ``span`` before the newest record, less an hour of slack (a collector may file
    a record under the next hour). Before any record was read the newest
    partition found stands in for it, with one more hour of slack: the newest
    record may be anywhere in that hour, or filed there from the hour before.
    """
    if horizon.newest is not None:
        return hour_start(horizon.newest - horizon.span - SLACK)
    return hour_start(newest_hour - horizon.span - 2 * SLACK)


class HourTail:
    """Poll/ack over named files or objects; subclasses list a place and build parts.

    Each poll lists which ``dt=/hour=`` partitions exist from the first open hour
    on (so a new hour is found as soon as a collector starts it), then the
    parts in each: the newest few hours every poll, older open hours every
    :data:`COLD_EVERY` polls (late files there are rare: a collector's spool
    replaying after an outage). Names already taken are remembered per open
    hour and forgotten once it closes; a closed hour is never listed again, so
    the first open hour only moves forward.
    """

    def __init__(self, role: str | None) -> None:
        self.role = role
        self.polls = 0
        self._taken: dict[datetime | None, set[str]] = {}
        self._hour_of: dict[str, datetime | None] = {}
        self._waiting: dict[str, Part] = {}
        self._layout: bool | None = None
        self._floor: datetime | None = None

    # -------------------------------------------------------- for subclasses
    def _partitioned(self) -> bool | None:
        """True/False once the root shows its layout; None while it is empty."""
        raise NotImplementedError

    def _hours(self, role: str, since: datetime | None) -> list[datetime]:
        """The hour partitions of ``role`` that exist now, from ``since`` on."""
        raise NotImplementedError

    def _list_hour(self, role: str, hour: datetime) -> list[Part]:
        """The parts under one hour partition (a subclass may list only the recent ones)."""
        raise NotImplementedError

    def _list_all(self) -> list[Part]:
        raise NotImplementedError

    # -------------------------------------------------------- Tail
    def roles(self) -> tuple[str, ...]:
        return (self.role,) if self.role else ROLES

    def poll(self, horizon: Horizon) -> list[Part]:
        self.polls += 1
        if self._layout is None:
            self._layout = self._partitioned()
        if self._layout is None:
            return self._pending()
        if not self._layout:
            self._offer(None, self._list_all())
            return self._pending()
        found = {role: self._hours(role, self._floor) for role in self.roles()}
        every = sorted({h for hours in found.values() for h in hours})
        if not every:
            return self._pending()
        start = first_open_hour(horizon, every[-1])
        self._floor = start if self._floor is None else max(self._floor, start)
        hot = every[-1] - 2 * SLACK
        cold_turn = self.polls % COLD_EVERY == 1
        for role, hours in found.items():
            for hour in hours:
                if hour >= self._floor and (hour >= hot or cold_turn or hour not in self._taken):
                    self._offer(hour, self._list_hour(role, hour))
        for hour in [h for h in self._taken if h is not None and h < self._floor]:
            del self._taken[hour]
        return self._pending()

    def ack(self, part: Part) -> None:
        self._waiting.pop(part.name, None)
        hour = self._hour_of.pop(part.name, None)
        self._taken.setdefault(hour, set()).add(part.name)

    # -------------------------------------------------------- bookkeeping
    def _offer(self, hour: datetime | None, parts: list[Part]) -> None:
        taken = self._taken.setdefault(hour, set())
        for part in parts:
            if part.name not in taken and part.name not in self._waiting:
                self._waiting[part.name] = part
                self._hour_of[part.name] = hour

    def _pending(self) -> list[Part]:
        return sorted(self._waiting.values(), key=lambda p: p.name)
