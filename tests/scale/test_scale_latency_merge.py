"""The latency merge: exact up to k, a partition-independent sample above it; the bucket level."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
import pytest

from analysis.core.latency import LatencySample
from analysis.core.stats import latency_summary
from analysis.sources.local import LocalSource
from shadowdiff.model.layout import parse_partition, partition_bucket, partition_dir


def _pairs(n: int, seed: int = 1) -> list[tuple[str, float, float]]:
    rng = random.Random(seed)
    return [(f"id-{i}-{rng.random()}", rng.uniform(1, 99), rng.uniform(1, 120)) for i in range(n)]


def _split(pairs, parts: int, seed: int) -> LatencySample:
    rng = random.Random(seed)
    samples = [LatencySample(k=64) for _ in range(parts)]
    for cid, p, s in pairs:
        samples[rng.randrange(parts)].add(cid, p, s)
    rng.shuffle(samples)
    merged = samples[0]
    for other in samples[1:]:
        merged.merge(other)
    return merged


def test_bottom_k_sample_does_not_depend_on_partitioning() -> None:
    pairs = _pairs(1000)
    a, b = _split(pairs, 3, seed=1), _split(pairs, 17, seed=2)
    assert a.total == b.total == 1000 and not a.exact
    for x, y in zip(a.sample(), b.sample(), strict=True):
        assert x.size == 64 and np.array_equal(x, y)
    assert latency_summary(a, 0.01, 0.05) == latency_summary(b, 0.01, 0.05)


def test_at_most_k_pairs_give_exact_numpy_percentiles() -> None:
    pairs = _pairs(64)
    merged = _split(pairs, 5, seed=3)
    block = latency_summary(merged, 0.01, 0.05)
    assert merged.exact and block["exact"] is True and block["samples"] == 64
    prim = np.array([p for _, p, _ in pairs])
    assert block["primary"]["p90"] == float(np.percentile(prim, 90))


def test_partition_bucket_is_the_code_point_sum_mod_n_in_two_digits() -> None:
    assert partition_bucket("ab", 16) == (97 + 98) % 16
    assert partition_bucket("€😀", 100) == (0x20AC + 0x1F600) % 100
    moment = datetime(2026, 11, 25, 7, tzinfo=UTC)
    assert partition_dir("shadow", moment) == "role=shadow/dt=2026-11-25/hour=07"
    assert partition_dir("shadow", moment, 3) == "role=shadow/dt=2026-11-25/hour=07/bucket=03"
    assert parse_partition(partition_dir("primary", moment, 12) + "/x.jsonl.gz") == {
        "role": "primary",
        "dt": "2026-11-25",
        "hour": "07",
        "bucket": "12",
    }
    with pytest.raises(ValueError):
        partition_bucket("x", 0)


def test_local_source_reads_the_layout_with_the_bucket_level_and_a_window(tmp_path) -> None:
    moment = datetime(2026, 11, 25, 7, tzinfo=UTC)
    for role in ("primary", "shadow"):
        for hour, b in ((7, 1), (7, 2), (20, 1)):
            d = tmp_path / partition_dir(role, moment.replace(hour=hour), b)
            d.mkdir(parents=True)
            (d / "a.jsonl").write_text("{}\n")
    since, until = moment, moment.replace(hour=8)
    names = [p.name for p in LocalSource(str(tmp_path), "shadow").parts(since, until)]
    assert len(names) == 2 and all("role=shadow" in n and "hour=07" in n for n in names)
