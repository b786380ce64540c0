"""Report configuration: unknown keys and malformed values are rejected by name (docs/contract.md §5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .acc_support import record, report, write_hive

GOOD = """\
ignore:
  - endpoint: "*"
    paths: ["$.generated_at", "$.meta.trace_id"]
  - endpoint: "GET /search"
    paths: ["$.results[*].rank_debug"]
ignore_headers: ["date", "x-amzn-requestid"]
numeric_tolerance: {absolute: 0.0, relative: 0.0}
ignore_list_order: false
routes: ["/users/{id}", "/items/{sku}"]
latency: {alpha: 0.01, min_effect: 0.05}
fail_on: ["status_mismatch_rate > 0.01", "body_mismatch_rate > 0.05"]
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "records"
    write_hive(root, [record("c1", "primary", body={"a": 1})], "primary")
    write_hive(root, [record("c1", "shadow", body={"a": 1})], "shadow")
    return root


def test_contract_example_config_is_accepted(tmp_path: Path, root: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(GOOD)
    run = report(["--records", str(root), "--config", str(cfg)], tmp_path / "out")
    assert run.code == 0, run.stderr


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("bogus_setting: 1\n", "bogus_setting"),
        ("latency: {alpha: 0.01, wobble: 2}\n", "wobble"),
        ("numeric_tolerance: {absolute: 0.0, fuzzy: 1}\n", "fuzzy"),
        ("ignore:\n  - endpoint: '*'\n    pathz: ['$.a']\n", "pathz"),
        ("latency: {alpha: lots}\n", "alpha"),
        ("ignore_list_order: sometimes\n", "ignore_list_order"),
        ("routes: 17\n", "routes"),
        ("numeric_tolerance: {absolute: -1}\n", "absolute"),
        ("fail_on: ['nonsense >>> 3']\n", "fail_on"),
        ("ignore: {endpoint: '*'}\n", "ignore"),
    ],
)
def test_bad_config_exits_2_naming_the_key(
    tmp_path: Path, root: Path, text: str, name: str
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    run = report(["--records", str(root), "--config", str(cfg)], tmp_path / "out")
    assert run.code == 2, (run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert name in lines[0]


def test_bad_fail_on_argument_exits_2(tmp_path: Path, root: Path) -> None:
    run = report(["--records", str(root), "--fail-on", "wat"], tmp_path / "out")
    assert run.code == 2
    assert len(run.stderr.strip().splitlines()) == 1
