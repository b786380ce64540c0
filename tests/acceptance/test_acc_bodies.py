"""Body comparison: field paths, kinds, counts, rates, non-JSON and noise (docs/contract.md §4, §5)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from .acc_support import endpoint, fields, record, report, write_hive


def pairs_root(tmp_path: Path, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> Path:
    root = tmp_path / "records"
    write_hive(root, [p for p, _ in pairs], "primary")
    write_hive(root, [s for _, s in pairs], "shadow")
    return root


def test_field_paths_kinds_counts_and_rates(tmp_path: Path) -> None:
    base = {
        "a": 1,
        "b": "x",
        "odd key": 1,
        "items": [{"price": 1}, {"price": 2}],
        "n": 1,
        "z": None,
        "gone": True,
        "e": [],
        "o": {},
        "lo": [],
    }
    changed = {
        "a": 1.0,
        "b": "y",
        "odd key": 2,
        "items": [{"price": 1}, {"price": 3}],
        "n": "1",
        "z": 0,
        "new": True,
        "e": [],
        "o": {},
        "lo": {},
    }
    path = "/items/7"
    pairs = [
        (
            record("d1", "primary", path=path, body=base),
            record("d1", "shadow", path=path, body=changed),
        ),
        (
            record("d2", "primary", path=path, body=base),
            record("d2", "shadow", path=path, body=base),
        ),
        (
            record("d3", "primary", path=path, status=404, body={"x": 1}),
            record("d3", "shadow", path=path, status=200, body={"y": 2}),
        ),
    ]
    run = report(["--records", str(pairs_root(tmp_path, pairs))], tmp_path / "out")
    assert run.code == 0, run.stderr
    assert run.report is not None
    ep = endpoint(run.report, "GET /items/{id}")
    assert ep["body"]["compared"] == 2
    assert ep["body"]["mismatches"] == 1
    got = {p: f["kind"] for p, f in fields(ep).items()}
    assert got == {
        "$.b": "changed",
        "$['odd key']": "changed",
        "$.items[*].price": "changed",
        "$.n": "type_changed",
        "$.z": "type_changed",
        "$.new": "added",
        "$.gone": "removed",
        "$.lo": "type_changed",
    }
    for f in ep["body"]["fields"]:
        assert f["count"] == 1
        assert f["rate"] == 0.5
        assert f["noise"] is False
        assert f["noise_reason"] is None
    assert run.report["summary"]["body_mismatches"] == 1


def test_non_json_bodies_compare_whole_at_root(tmp_path: Path) -> None:
    pairs = [
        (
            record("h1", "primary", path="/page", body="<p>hello</p>", content_type="text/html"),
            record("h1", "shadow", path="/page", body="<p>HELLO</p>", content_type="text/html"),
        ),
        (
            record("h2", "primary", path="/page", body="<p>same</p>", content_type="text/html"),
            record("h2", "shadow", path="/page", body="<p>same</p>", content_type="text/html"),
        ),
        # JSON-looking bodies under a non-JSON type still compare whole.
        (
            record("h3", "primary", path="/plain", body='{"a": 1}', content_type="text/plain"),
            record("h3", "shadow", path="/plain", body='{"a": 2}', content_type="text/plain"),
        ),
        # Declared JSON that does not parse: whole.
        (
            record("h4", "primary", path="/broken", body="{not json"),
            record("h4", "shadow", path="/broken", body="{not json either"),
        ),
    ]
    run = report(["--records", str(pairs_root(tmp_path, pairs))], tmp_path / "out")
    assert run.code == 0, run.stderr
    assert run.report is not None
    for name, compared in (("GET /page", 2), ("GET /plain", 1), ("GET /broken", 1)):
        ep = endpoint(run.report, name)
        assert ep["body"]["compared"] == compared
        assert ep["body"]["mismatches"] == 1
        assert [(f["path"], f["kind"], f["count"]) for f in ep["body"]["fields"]] == [
            ("$", "changed", 1)
        ]
        assert ep["body"]["fields"][0]["rate"] == 1 / compared


def test_plus_json_content_type_compares_field_by_field(tmp_path: Path) -> None:
    ct = "application/problem+json; charset=utf-8"
    pairs = [
        (
            record("j1", "primary", path="/p", body={"detail": "a", "k": 1}, content_type=ct),
            record("j1", "shadow", path="/p", body={"detail": "b", "k": 1}, content_type=ct),
        )
    ]
    run = report(["--records", str(pairs_root(tmp_path, pairs))], tmp_path / "out")
    assert run.code == 0, run.stderr
    assert run.report is not None
    ep = endpoint(run.report, "GET /p")
    assert [(f["path"], f["kind"]) for f in ep["body"]["fields"]] == [("$.detail", "changed")]


def test_noise_reasons_precedence_and_never_a_mismatch(tmp_path: Path) -> None:
    n = 6
    primary, shadow, secondary = [], [], []
    for i in range(n):
        cid = f"n{i}"
        p = {
            "ts": f"2026-11-25T10:00:0{i}.000Z",
            "rid": str(uuid.uuid4()),
            "r": f"p{i}",
            "s": f"p{i}",
            "rs": f"p{i}",
            "sa": str(uuid.uuid4()),
            "real": "same",
            "stable": 1,
        }
        s = {
            **p,
            "ts": f"2026-11-25T10:00:1{i}.000Z",
            "rid": str(uuid.uuid4()),
            "r": f"s{i}",
            "s": f"s{i}",
            "rs": f"s{i}",
            "sa": str(uuid.uuid4()),
            "real": "different" if i == 0 else "same",
        }
        sec = {**p, "s": f"x{i}", "rs": f"x{i}", "sa": str(uuid.uuid4())}
        path = f"/orders/{100 + i}"
        primary.append(record(cid, "primary", path=path, body=p))
        shadow.append(record(cid, "shadow", path=path, body=s))
        secondary.append(record(cid, "secondary", path=path, body=sec))
    root = tmp_path / "records"
    write_hive(root, primary, "primary")
    write_hive(root, shadow, "shadow")
    write_hive(root, secondary, "secondary")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "ignore:\n"
        '  - endpoint: "GET /orders/*"\n'
        '    paths: ["$.r", "$.rs"]\n'
        '  - endpoint: "GET /elsewhere"\n'
        '    paths: ["$.real"]\n'
    )
    run = report(["--records", str(root), "--config", str(cfg)], tmp_path / "out")
    assert run.code == 0, run.stderr
    assert run.report is not None
    ep = endpoint(run.report, "GET /orders/{id}")
    assert ep["body"]["compared"] == n
    got = {p: (f["noise"], f["noise_reason"], f["count"]) for p, f in fields(ep).items()}
    assert got == {
        "$.ts": (True, "auto", n),
        "$.rid": (True, "auto", n),
        "$.r": (True, "rule", n),
        "$.s": (True, "secondary", n),
        "$.rs": (True, "rule", n),
        "$.sa": (True, "secondary", n),
        "$.real": (False, None, 1),
    }
    assert ep["body"]["mismatches"] == 1
    assert run.report["summary"]["body_mismatches"] == 1
    assert fields(ep)["$.real"]["rate"] == 1 / n


def test_noise_only_differences_are_not_mismatches_without_config(tmp_path: Path) -> None:
    pairs = []
    for i in range(6):
        path = f"/events/{i}"
        pairs.append(
            (
                record(
                    f"t{i}", "primary", path=path, body={"at": f"2026-11-25T10:0{i}:00Z", "v": 1}
                ),
                record(
                    f"t{i}", "shadow", path=path, body={"at": f"2026-11-25T11:0{i}:00Z", "v": 1}
                ),
            )
        )
    run = report(["--records", str(pairs_root(tmp_path, pairs))], tmp_path / "out")
    assert run.code == 0, run.stderr
    assert run.report is not None
    ep = endpoint(run.report, "GET /events/{id}")
    assert ep["body"]["mismatches"] == 0
    assert fields(ep)["$.at"]["noise_reason"] == "auto"
    assert run.report["summary"]["body_mismatches"] == 0
