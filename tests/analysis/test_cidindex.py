"""The report's correlation index: stable shards, one small file per lookup, odd ids survive."""

from __future__ import annotations

import gzip
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from analysis.report import cidindex
from shadowdiff.model.errors import SourceError

T3 = datetime(2026, 11, 26, 3, 15, tzinfo=UTC)
T4 = datetime(2026, 11, 26, 4, 0, 1, tzinfo=UTC)


def _lookup(folder: Path, cid: str) -> dict[str, list[str]]:
    """``{role: [hour, ...]}`` of ``cid``, reading the manifest and one shard."""
    shards = cidindex.parse_manifest((folder / "manifest.json").read_bytes(), "manifest")
    shard = folder / cidindex.shard_name(cidindex.shard_of(cid, shards))
    out: dict[str, list[str]] = {}
    for role, hour, _ in cidindex.find_in_shard(shard.read_bytes(), cid, str(shard)):
        out.setdefault(role, []).append(hour)
    return out


def test_shard_hash_is_the_same_in_another_process() -> None:
    code = "from analysis.report.cidindex import shard_of; print(shard_of('req-42', 37))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) == cidindex.shard_of("req-42", 37)


def test_a_lookup_finds_every_role_and_hour_of_an_id(tmp_path: Path) -> None:
    entries = [
        ("a", "primary", T3, None),
        ("a", "shadow", T4, None),
        ("b", "primary", T3, None),
        ("ab", "shadow", T3, None),
    ]
    cidindex.write_index(tmp_path, entries, shards=4)
    assert orjson.loads((tmp_path / "manifest.json").read_bytes()) == {
        "schema": "shadowdiff.cids/1",
        "hash": "crc32",
        "shards": 4,
    }
    assert len(list(tmp_path.glob("*.tsv.gz"))) == 4
    assert _lookup(tmp_path, "a") == {"primary": ["2026-11-26T03"], "shadow": ["2026-11-26T04"]}
    assert _lookup(tmp_path, "b") == {"primary": ["2026-11-26T03"]}
    assert _lookup(tmp_path, "missing") == {}


def test_an_id_that_ends_another_id_is_not_confused_with_it(tmp_path: Path) -> None:
    cidindex.write_index(tmp_path, [("xab", "primary", T3, None)], shards=1)
    assert _lookup(tmp_path, "ab") == {}
    assert _lookup(tmp_path, "xab") == {"primary": ["2026-11-26T03"]}


@pytest.mark.parametrize("cid", ["tab\there", "new\nline", "back\\slash", "ünï ✓", "\\t"])
def test_ids_with_separators_round_trip(tmp_path: Path, cid: str) -> None:
    cidindex.write_index(
        tmp_path, [(cid, "shadow", T4, None), ("t", "primary", T3, None)], shards=2
    )
    assert _lookup(tmp_path, cid) == {"shadow": ["2026-11-26T04"]}
    assert cidindex.unescape(cidindex.escape(cid)) == cid


def test_a_shard_is_plain_gzip_tsv_naming_the_part(tmp_path: Path) -> None:
    parts = ["/data/rec/role=primary/dt=2026-11-26/hour=03/a.jsonl.gz", "s3://b/x/y/z/w.gz"]
    cidindex.write_index(tmp_path, [("a", "primary", T3, 0), ("b", "shadow", T3, None)], 1, parts)
    text = gzip.decompress((tmp_path / "0000.tsv.gz").read_bytes())
    assert text == b"a\tprimary\t2026-11-26T03\t0\nb\tshadow\t2026-11-26T03\t\n"
    names = cidindex.parse_parts((tmp_path / "parts.json").read_bytes(), "parts.json")
    assert names == ["role=primary/dt=2026-11-26/hour=03/a.jsonl.gz", "x/y/z/w.gz"]
    found = cidindex.find_in_shard((tmp_path / "0000.tsv.gz").read_bytes(), "a", "shard")
    assert found == [("primary", "2026-11-26T03", 0)]


@pytest.mark.parametrize(
    "raw",
    [
        b"nope",
        b'{"schema": "other"}',
        b'{"schema": "shadowdiff.cids/1", "hash": "md5", "shards": 2}',
        b'{"schema": "shadowdiff.cids/1", "hash": "crc32", "shards": 0}',
    ],
)
def test_a_bad_manifest_is_refused_naming_the_file(raw: bytes) -> None:
    with pytest.raises(SourceError, match=r"r1/cids/manifest\.json"):
        cidindex.parse_manifest(raw, "r1/cids/manifest.json")


def test_a_broken_shard_is_refused_naming_the_file() -> None:
    with pytest.raises(SourceError, match=r"0003\.tsv\.gz: not a gzip"):
        cidindex.find_in_shard(b"junk", "a", "r1/cids/0003.tsv.gz")


def test_lines_grouped_another_way_are_resharded_like_the_engine_would(tmp_path: Path) -> None:
    ids = [f"id-{i}" for i in range(50)] + ["tab\there", "back\\slash"]
    lines = [cidindex.entry(cid, "primary", T3, i) for i, cid in enumerate(ids)]
    direct = tmp_path / "direct"
    cidindex.write_index(direct, [(c, "primary", T3, i) for i, c in enumerate(ids)], 7, ["a"])
    spooled = tmp_path / "spooled"
    sharder = cidindex.Resharder(spooled, 7, flush_bytes=64)
    sharder.add(b"".join(lines[::2]))
    sharder.add(b"".join(lines[1::2]))
    sharder.close(["a"])
    assert sorted(p.name for p in spooled.iterdir()) == sorted(p.name for p in direct.iterdir())
    for cid in ids:
        assert _lookup(spooled, cid) == _lookup(direct, cid) == {"primary": ["2026-11-26T03"]}
