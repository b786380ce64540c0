"""Endpoint naming, latency verdicts and the JSON shape of report.json (docs/contract.md §4)."""

from __future__ import annotations

import random
from pathlib import Path

from .acc_support import endpoint, record, report, write_hive


def run_paths(tmp_path: Path, paths: list[tuple[str, str]], config: str | None = None) -> dict:
    root = tmp_path / "records"
    prim, shad = [], []
    for i, (method, path) in enumerate(paths):
        prim.append(record(f"e{i}", "primary", method=method, path=path, body={"k": 1}))
        shad.append(record(f"e{i}", "shadow", method=method, path=path, body={"k": 1}))
    write_hive(root, prim, "primary")
    write_hive(root, shad, "shadow")
    args = ["--records", str(root)]
    if config is not None:
        cfg = tmp_path / "c.yaml"
        cfg.write_text(config)
        args += ["--config", str(cfg)]
    run = report(args, tmp_path / "out")
    assert run.code == 0, run.stderr
    assert run.report is not None
    return run.report


def test_default_segment_templates(tmp_path: Path) -> None:
    rep = run_paths(
        tmp_path,
        [
            ("GET", "/users/42"),
            ("GET", "/users/7"),
            ("GET", "/users/550e8400-e29b-41d4-a716-446655440000"),
            ("GET", "/blobs/0123456789abcdef"),
            ("GET", "/blobs/0123456789ABCDEF0123"),
            ("GET", "/blobs/0123456789abcde"),
            ("DELETE", "/users/42/posts/9"),
            ("GET", "/static/app.js"),
        ],
    )
    names = {ep["endpoint"]: ep["pairs"] for ep in rep["endpoints"]}
    assert names == {
        "GET /users/{id}": 2,
        "GET /users/{uuid}": 1,
        "GET /blobs/{hex}": 2,
        "GET /blobs/0123456789abcde": 1,
        "DELETE /users/{id}/posts/{id}": 1,
        "GET /static/app.js": 1,
    }


def test_method_is_upper_case_and_query_is_not_part_of_the_name(tmp_path: Path) -> None:
    root = tmp_path / "records"
    write_hive(
        root, [record("q1", "primary", method="post", path="/search", query="q=1")], "primary"
    )
    write_hive(root, [record("q1", "shadow", method="post", path="/search", query="q=1")], "shadow")
    run = report(["--records", str(root)], tmp_path / "out")
    assert run.report is not None
    assert [ep["endpoint"] for ep in run.report["endpoints"]] == ["POST /search"]


def test_configured_routes_win_and_match_whole_segments_by_count(tmp_path: Path) -> None:
    rep = run_paths(
        tmp_path,
        [
            ("GET", "/items/abc-1"),
            ("GET", "/items/42"),
            ("GET", "/items/abc/extra"),
            ("GET", "/users/me/settings"),
            ("GET", "/users/you/settings"),
        ],
        config='routes: ["/items/{sku}", "/users/me/{tab}"]\n',
    )
    names = {ep["endpoint"]: ep["pairs"] for ep in rep["endpoints"]}
    assert names == {
        "GET /items/{sku}": 2,
        "GET /items/abc/extra": 1,
        "GET /users/me/{tab}": 1,
        "GET /users/you/settings": 1,
    }


def latency_root(tmp_path: Path, groups: dict[str, tuple[list[float], list[float]]]) -> Path:
    root = tmp_path / "records"
    prim, shad = [], []
    for name, (pl, sl) in groups.items():
        for i, (a, b) in enumerate(zip(pl, sl, strict=True)):
            cid = f"{name}-{i}"
            prim.append(record(cid, "primary", path=f"/{name}", body={"k": 1}, latency=a))
            shad.append(record(cid, "shadow", path=f"/{name}", body={"k": 1}, latency=b))
    write_hive(root, prim, "primary")
    write_hive(root, shad, "shadow")
    return root


def test_latency_percentiles_and_verdicts(tmp_path: Path) -> None:
    rng = random.Random(7)
    base = [float(v) for v in range(10, 70)]  # 60 values, median 39.5
    slow = [v * 3 + rng.random() for v in base]
    fast = [v / 3 + rng.random() for v in base]
    same = list(base)
    rng.shuffle(same)
    few = [float(v) for v in range(10, 29)]  # 19 pairs
    root = latency_root(
        tmp_path,
        {
            "slow": (base, slow),
            "fast": (base, fast),
            "same": (base, same),
            "few": (few, [v * 10 for v in few]),
        },
    )
    run = report(["--records", str(root)], tmp_path / "out")
    assert run.code == 0, run.stderr
    assert run.report is not None
    verdicts = {ep["endpoint"]: ep["latency_ms"]["verdict"] for ep in run.report["endpoints"]}
    assert verdicts == {
        "GET /slow": "slower",
        "GET /fast": "faster",
        "GET /same": "same",
        "GET /few": "insufficient_data",
    }
    lat = endpoint(run.report, "GET /slow")["latency_ms"]
    assert 39.0 <= lat["primary"]["p50"] <= 40.0
    assert 62.0 <= lat["primary"]["p90"] <= 65.0
    assert 67.0 <= lat["primary"]["p99"] <= 70.0
    assert 117.0 <= lat["shadow"]["p50"] <= 121.5
    assert lat["p_value"] < 0.01
    assert endpoint(run.report, "GET /same")["latency_ms"]["p_value"] > 0.5


def test_latency_alpha_and_min_effect_come_from_config(tmp_path: Path) -> None:
    base = [float(v) for v in range(10, 70)]
    # 4 % slower everywhere: significant but below the default 5 % material effect.
    root = latency_root(tmp_path, {"bit": (base, [v * 1.04 + 0.5 for v in base])})
    run = report(["--records", str(root)], tmp_path / "o1")
    assert run.report is not None
    # the shift is small against the spread, so not even significant: "same"
    assert endpoint(run.report, "GET /bit")["latency_ms"]["verdict"] == "same"
    cfg = tmp_path / "c.yaml"
    cfg.write_text("latency: {alpha: 0.99, min_effect: 0.01}\n")
    run = report(["--records", str(root), "--config", str(cfg)], tmp_path / "o2")
    assert run.report is not None
    assert endpoint(run.report, "GET /bit")["latency_ms"]["verdict"] == "slower"


def test_report_json_has_every_key_of_the_contract_example(tmp_path: Path) -> None:
    root = tmp_path / "records"
    write_hive(root, [record("s1", "primary", path="/users/1", body={"a": 1})], "primary")
    write_hive(
        root,
        [record("s1", "shadow", path="/users/1", status=500, body={"a": 2})],
        "shadow",
    )
    run = report(["--records", str(root)], tmp_path / "out")
    rep = run.report
    assert rep is not None
    assert rep["schema"] == "shadowdiff.report/1"
    assert isinstance(rep["id"], str) and rep["id"]
    assert isinstance(rep["generated_at"], str)
    assert set(rep["window"]) >= {"start", "end"}
    for key in (
        "primary_records",
        "shadow_records",
        "secondary_records",
        "pairs",
        "primary_only",
        "shadow_only",
        "duplicates",
        "invalid_records",
        "status_mismatches",
        "body_mismatches",
        "shadow_errors",
    ):
        assert isinstance(rep["summary"][key], int), key
    (ep,) = rep["endpoints"]
    assert ep["endpoint"] == "GET /users/{id}"
    assert isinstance(ep["pairs"], int)
    assert ep["status"]["mismatches"] == 1
    assert ep["status"]["matrix"] == {"200->500": 1}
    lat = ep["latency_ms"]
    for side in ("primary", "shadow"):
        assert set(lat[side]) >= {"p50", "p90", "p99"}
        assert all(isinstance(lat[side][q], (int, float)) for q in ("p50", "p90", "p99"))
    assert "p_value" in lat
    assert lat["verdict"] == "insufficient_data"
    assert set(ep["body"]) >= {"compared", "mismatches", "fields"}
    assert ep["body"]["compared"] == 0
    assert ep["examples"] and ep["examples"][0]["correlation_id"] == "s1"
    assert ep["examples"][0]["reason"] in ("status", "body", "latency", "error")
    assert any(e["reason"] == "status" for e in ep["examples"])
