"""Summary counts, sources, window and exit status of ``shadowdiff report`` (docs/contract.md §4, §6)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from .acc_support import endpoint, record, report, ts, write_flat, write_hive

INVALID = [
    "this is not json",
    "[1, 2, 3]",
    json.dumps({k: v for k, v in record("bad1", "shadow").items() if k != "correlation_id"}),
    json.dumps({**record("bad2", "shadow"), "schema": "shadowdiff.capture/9"}),
    json.dumps({**record("bad3", "shadow"), "role": "tertiary"}),
]


def scenario() -> tuple[list, list, list]:
    """Known truth: 4 pairs, 2 primary-only, 1 shadow-only, 2 duplicates, 5 invalid lines."""
    same = {"id": 1, "name": "a"}
    primary = [
        record("c1", "primary", path="/users/1", body=same),
        record("c1", "primary", path="/users/1", body=same),  # duplicate
        record("c2", "primary", path="/users/2", body={"id": 2, "name": "b"}),
        record("c3", "primary", path="/users/3", body=same),
        record("c4", "primary", path="/users/4", body=same),
        record("c5", "primary", path="/users/5", body=same),
        record("c6", "primary", path="/users/6", body=same),
    ]
    shadow = [
        {**record("c1", "shadow", path="/users/1", body=same), "extra_field": {"x": 1}},
        record("c2", "shadow", path="/users/2", body={"id": 2, "name": "CHANGED"}),
        record("c2", "shadow", path="/users/2", body={"id": 2, "name": "CHANGED"}),  # dup
        record("c3", "shadow", path="/users/3", status=500, body={"error": "boom"}),
        record("c4", "shadow", path="/users/4", status=None),
        record("c7", "shadow", path="/users/7", body=same),
    ]
    secondary = [
        record("c1", "secondary", path="/users/1", body=same),
        record("c2", "secondary", path="/users/2", body={"id": 2, "name": "b"}),
    ]
    return primary, shadow, secondary


EXPECTED = {
    "primary_records": 6,
    "shadow_records": 5,
    "secondary_records": 2,
    "pairs": 4,
    "primary_only": 2,
    "shadow_only": 1,
    "duplicates": 2,
    "invalid_records": 5,
    "status_mismatches": 1,
    "body_mismatches": 1,
    "shadow_errors": 1,
}


def test_hive_root_summary_counts_every_definition(tmp_path: Path) -> None:
    primary, shadow, secondary = scenario()
    root = tmp_path / "records"
    write_hive(root, primary[:4], "primary", "a")
    write_hive(root, primary[4:], "primary", "b", hour="11")
    write_hive(root, shadow[:3] + INVALID[:2], "shadow", "a")
    write_hive(root, shadow[3:] + INVALID[2:], "shadow", "b")
    write_hive(root, secondary, "secondary", "a")
    run = report(["--records", str(root)], tmp_path / "out")
    assert run.code == 0, run.stderr
    assert run.report is not None
    summary = run.report["summary"]
    assert {k: summary.get(k) for k in EXPECTED} == EXPECTED
    ep = endpoint(run.report, "GET /users/{id}")
    assert ep["pairs"] == 4
    assert ep["status"]["mismatches"] == 1
    assert ep["status"]["matrix"].get("200->500") == 1
    assert ep["body"]["compared"] == 2  # c1 and c2: same status on both sides
    assert ep["body"]["mismatches"] == 1
    for name in ("report.json", "report.html", "report.md"):
        assert (tmp_path / "out" / name).is_file()


def test_flat_jsonl_files_per_role_keep_only_their_own_role(tmp_path: Path) -> None:
    primary, shadow, secondary = scenario()
    mixed = primary + shadow + secondary + INVALID
    # One flat file holding every role, named as each source: each keeps only its role.
    flat = write_flat(tmp_path / "all.jsonl", mixed)
    p = write_flat(tmp_path / "p.jsonl", primary)
    run = report(
        ["--primary", str(p), "--shadow", str(flat), "--secondary", str(flat)],
        tmp_path / "out",
    )
    assert run.code == 0, run.stderr
    assert run.report is not None
    summary = run.report["summary"]
    for key in EXPECTED:
        if key not in ("invalid_records", "duplicates"):
            assert summary[key] == EXPECTED[key], key
    assert summary["invalid_records"] >= 5


def test_gzip_flat_file_is_read(tmp_path: Path) -> None:
    primary, shadow, _ = scenario()
    src = tmp_path / "both.jsonl.gz"
    src.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in primary + shadow).encode()))
    run = report(["--records", str(src)], tmp_path / "out")
    assert run.code == 0, run.stderr
    assert run.report is not None
    assert run.report["summary"]["pairs"] == 4
    assert run.report["summary"]["duplicates"] == 2


def test_since_until_keep_captured_at_in_half_open_window(tmp_path: Path) -> None:
    root = tmp_path / "records"
    cases = {
        "at-since": ts(0, 0, 0, hour=10),
        "last-ms": ts(59, 59, 999, hour=10),
        "at-until": ts(0, 0, 0, hour=11),
        "before": ts(59, 59, 999, hour=9),
    }
    for role in ("primary", "shadow"):
        for cid, when in cases.items():
            write_hive(root, [record(cid, role, captured_at=when)], role, cid, hour=when[11:13])
    run = report(
        ["--records", str(root), "--since", ts(hour=10), "--until", ts(hour=11)],
        tmp_path / "out",
    )
    assert run.code == 0, run.stderr
    assert run.report is not None
    s = run.report["summary"]
    assert (s["primary_records"], s["shadow_records"], s["pairs"]) == (2, 2, 2)
    assert (s["primary_only"], s["shadow_only"]) == (0, 0)


def test_fail_on_threshold_crossed_exits_3_and_still_writes_report(tmp_path: Path) -> None:
    primary, shadow, _ = scenario()
    root = tmp_path / "records"
    write_hive(root, primary, "primary")
    write_hive(root, shadow, "shadow")
    run = report(
        ["--records", str(root), "--fail-on", "status_mismatch_rate > 0.01"], tmp_path / "o1"
    )
    assert run.code == 3, run.stderr
    assert run.report is not None
    run = report(
        ["--records", str(root), "--fail-on", "status_mismatch_rate > 0.99"], tmp_path / "o2"
    )
    assert run.code == 0, run.stderr


def test_fail_on_from_config_exits_3(tmp_path: Path) -> None:
    primary, shadow, _ = scenario()
    root = tmp_path / "records"
    write_hive(root, primary, "primary")
    write_hive(root, shadow, "shadow")
    cfg = tmp_path / "c.yaml"
    cfg.write_text('fail_on: ["body_mismatch_rate > 0.05"]\n')
    run = report(["--records", str(root), "--config", str(cfg)], tmp_path / "out")
    assert run.code == 3, run.stderr


def test_missing_path_exits_2_with_one_line_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere-to-be-found"
    run = report(["--records", str(missing)], tmp_path / "out")
    assert run.code == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "nowhere-to-be-found" in lines[0]


def test_corrupt_gzip_exits_2_with_one_line_naming_the_file(tmp_path: Path) -> None:
    root = tmp_path / "records"
    write_hive(root, [record("c1", "primary")], "primary")
    part = root / "role=shadow" / "dt=2026-11-25" / "hour=10"
    part.mkdir(parents=True)
    good = gzip.compress(b'{"x": 1}\n' * 50)
    (part / "broken-object.jsonl.gz").write_bytes(good[: len(good) // 2] + b"garbage")
    run = report(["--records", str(root)], tmp_path / "out")
    assert run.code == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "broken-object" in lines[0]
