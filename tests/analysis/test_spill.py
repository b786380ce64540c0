"""The report's spill: what pass 1 files under a bucket is what pass 2 reads back, compactly."""

from __future__ import annotations

import os
import random

from analysis import spill
from analysis.spill import PREFIX, SpillWriter, bucket_lines


def _lines(n: int, seed: int = 7) -> list[tuple[int, bytes, bytes]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        body = b'{"price":%d,"tags":["a","b"],"text":"%s"}' % (
            rng.randrange(10**6),
            bytes(rng.choice(b'abc \\"') for _ in range(rng.randrange(0, 300))),
        )
        out.append((rng.randrange(3), b"%016x" % i + rng.choice(b"psx*").to_bytes(1, "big"), body))
    return out


def test_every_line_comes_back_in_its_bucket_in_the_order_it_was_filed(tmp_path):
    lines = _lines(3000)
    for task in (0, 1):
        writer = SpillWriter(str(tmp_path), task)
        for bucket, prefix, body in lines[task::2]:
            writer.add(bucket, prefix, body)
        writer.close()
    for bucket in range(3):
        got = list(bucket_lines(str(tmp_path), bucket))
        want = [
            (prefix[:16], spill.CODE_ROLE[prefix[16]], body)
            for task in (0, 1)
            for b, prefix, body in lines[task::2]
            if b == bucket
        ]
        assert got == want
    assert os.listdir(tmp_path) == []  # each file is removed once read


def test_blocks_are_cut_at_the_block_size_and_compressed(tmp_path, monkeypatch):
    monkeypatch.setattr(spill, "BLOCK", 4096)
    writer = SpillWriter(str(tmp_path), 0)
    raw = 0
    for i in range(2000):
        body = b'{"schema":"shadowdiff.capture/1","correlation_id":"c-%d","n":%d}' % (i, i)
        writer.add(0, b"%016xp" % i, body)
        raw += PREFIX + len(body) + 1
    assert max(len(b) for b in writer.buffers.values()) < 4096
    writer.close()
    (name,) = os.listdir(tmp_path)
    assert os.path.getsize(tmp_path / name) < raw / 4
    assert len(list(bucket_lines(str(tmp_path), 0))) == 2000


def test_a_bucket_nobody_filed_anything_under_is_empty(tmp_path):
    assert list(bucket_lines(str(tmp_path), 5)) == []
