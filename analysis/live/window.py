"""The window's :class:`Partial`, kept per slice and combined with a few merges per tick.

Every correlation id's records are reduced once, when its group is settled,
into the partial of its *first* slice: that contribution holds while the
window still starts at or before it. When its records span slices
``s1 < s2 < …``, the records from ``s2`` on are also reduced alone into a
*tail* that holds while the window starts in ``(s1, s2]``, and so on; so a pair
cut by the window's start counts exactly as ``shadowdiff report`` counts it (the
later side alone). Partials are never subtracted: the window slides by leaving
old slices out.

Combining sixty slice partials every tick would cost sixty merges (each one
re-sampling latencies), so the slices are kept as two stacks (the classic
sliding-window aggregation): the older part of the window as suffix merges
``suffix[j] = slice j ⊕ … ⊕ slice m``, built once each time the window has
slid past ``m``, and the newer part as one running merge. A window is then
``suffix[lo] ⊕ back ⊕ tails``: a couple of merges whatever its length. Late
data for a slice in the older part rebuilds the suffixes from it down.

All combining goes through :func:`analysis.core.aggregate.merge` on copies
(``merge`` folds into its first argument and may share the second's parts),
so fields a :class:`Partial` gains later merge here without change.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from analysis.core.aggregate import Partial, merge


def _copy(partial: Partial) -> Partial:
    return copy.deepcopy(partial)


class SlidingPartials:
    def __init__(self, new: Callable[[], Partial], lateness: int = 3) -> None:
        self.new = new
        self.lateness = max(0, lateness)  # recent slices kept out of the suffixes
        self.version = 0  # changes whenever what a window would hold changes
        self._full: dict[int, Partial] = {}
        self._tails: dict[tuple[int, int], Partial] = {}  # (after, slice) -> partial
        self._split: int | None = None  # m: the suffixes cover [front, m]
        self._front = 0
        self._suffix: dict[int, Partial] = {}
        self._back: Partial = new()
        self._dirty: int | None = None  # newest front slice changed since the suffixes

    # ---------------------------------------------------------------- add
    def add(self, slice_index: int, partial: Partial, after: int | None = None) -> None:
        """Fold ``partial`` (owned from now on) into slice ``slice_index``.

        ``after`` None: a full contribution, counted while the window starts at
        or before the slice. Else a tail: counted while it starts in
        ``(after, slice_index]``.
        """
        self.version += 1
        if after is not None:
            key = (after, slice_index)
            have = self._tails.get(key)
            self._tails[key] = partial if have is None else merge(have, partial)
            return
        split = self._split
        if split is not None and slice_index > split:
            merge(self._back, _copy(partial))
        elif split is not None and slice_index >= self._front:
            self._dirty = slice_index if self._dirty is None else max(self._dirty, slice_index)
        have = self._full.get(slice_index)
        self._full[slice_index] = partial if have is None else merge(have, partial)

    # ---------------------------------------------------------------- read
    def window(self, lo: int, hi: int) -> Partial:
        """A new partial of the window ``[lo, hi]`` (slices), the caller's to keep."""
        self._forget(lo)
        if self._split is None or lo > self._split or lo < self._front:
            self._flip(lo, hi)
        elif self._dirty is not None and self._dirty >= lo:
            self._rebuild(lo, self._dirty)
        self._dirty = None
        out = self.new()
        front = self._suffix.get(lo)
        if front is not None:
            merge(out, _copy(front))
        merge(out, _copy(self._back))
        for (after, q), tail in self._tails.items():
            if after < lo <= q <= hi:
                merge(out, _copy(tail))
        return out

    def slices(self) -> int:
        return len(self._full)

    # ---------------------------------------------------------------- inside
    def _forget(self, lo: int) -> None:
        for q in [q for q in self._full if q < lo]:
            del self._full[q]
        for key in [k for k in self._tails if k[1] < lo]:
            del self._tails[key]
        for j in [j for j in self._suffix if j < lo]:
            del self._suffix[j]

    def _flip(self, lo: int, hi: int) -> None:
        """Split at ``m``: suffix merges over ``[lo, m]``, one running merge over ``(m, hi]``."""
        split = max(lo, hi - self.lateness)
        self._split, self._front = split, lo
        self._suffix = {}
        self._rebuild(lo, split)
        back = self.new()
        for q in sorted(q for q in self._full if q > split):
            merge(back, _copy(self._full[q]))
        self._back = back

    def _rebuild(self, lo: int, top: int) -> None:
        """Recompute ``suffix[j]`` for ``j`` from ``top`` down to ``lo``."""
        split = self._split if self._split is not None else top
        above = self._suffix.get(top + 1) if top < split else None
        for j in range(top, lo - 1, -1):
            mine = self._full.get(j)
            if mine is None:
                if above is not None:
                    self._suffix[j] = above  # shared, never changed in place
                else:
                    self._suffix.pop(j, None)
                continue
            acc = _copy(mine) if above is None else merge(_copy(above), _copy(mine))
            self._suffix[j] = above = acc
