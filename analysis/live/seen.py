"""Which (correlation id, role) pairs the window already holds: the live dedupe.

Delivery is at least once, so a record may arrive again in a later file, long
after its id was counted. Every kept record's key is remembered by the slice it
was captured in, as a 64-bit hash in a sorted array (8 bytes a record instead of
a Python string and set slot), and forgotten with its slice. A record delivered
again is the same bytes (a collector's spool replay, a Kinesis retry), with the
same ``captured_at``, so a tick checks each new key against its own slice only:
one binary search per slice it touched, in numpy.

The hash is Python's own (salted per process, which is fine: this state lives in
one process); two different keys share one with odds of about 10⁻⁷ for a window
of two million records.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Keys = npt.NDArray[np.int64]


def key_hash(cid: str, role: str) -> int:
    return hash((cid, role))


class SeenKeys:
    def __init__(self) -> None:
        self._slices: dict[int, Keys] = {}

    def contains_at(self, slices: Sequence[int], hashes: Sequence[int]) -> npt.NDArray[np.bool_]:
        """For each (slice, hash): is the hash already held in that slice?"""
        where = np.asarray(slices, dtype=np.int64)
        probe = np.asarray(hashes, dtype=np.int64)
        hit = np.zeros(len(probe), dtype=np.bool_)
        for s in np.unique(where).tolist():
            held = self._slices.get(int(s))
            if held is None:
                continue
            mine = where == s
            got = probe[mine]
            at = np.searchsorted(held, got)
            at[at == len(held)] = len(held) - 1
            hit[mine] = held[at] == got
        return hit

    def contains(self, hashes: Sequence[int]) -> npt.NDArray[np.bool_]:
        """For each hash: is it already held (in any slice)?"""
        probe = np.asarray(hashes, dtype=np.int64)
        hit = np.zeros(len(probe), dtype=np.bool_)
        if not len(probe):
            return hit
        for held in self._slices.values():
            at = np.searchsorted(held, probe)
            at[at == len(held)] = len(held) - 1
            hit |= held[at] == probe
        return hit

    def add(self, slice_index: int, hashes: Sequence[int]) -> None:
        if not hashes:
            return
        new = np.asarray(hashes, dtype=np.int64)
        have = self._slices.get(slice_index)
        both = new if have is None else np.concatenate((have, new))
        self._slices[slice_index] = np.sort(both, kind="stable")

    def forget_before(self, lo: int) -> None:
        for s in [s for s in self._slices if s < lo]:
            del self._slices[s]

    def __len__(self) -> int:
        return sum(len(a) for a in self._slices.values())
