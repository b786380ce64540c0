"""`shadowdiff canary` bad input: one line naming what was wrong, exit 2, nothing written."""

from __future__ import annotations

import subprocess
import sys

import pytest
from analysis_helpers import write_records
from canary_data import arm

from shadowdiff.cli import main


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("canary-cli")
    return write_records(tmp / "records", arm("baseline", 60, seed=1) + arm("canary", 60, seed=2))


@pytest.mark.parametrize(
    ("args", "config", "needle"),
    [
        ([], None, "no input"),
        (["--records", "R", "--baseline-records", "R"], None, "not both"),
        (["--canary-records", "R"], None, "--baseline-records is missing"),
        (["--records", "R", "--fail-on", "status_mismatch_rate > 0.1"], None, "unknown metric"),
        (["--records", "R", "--fail-on", "canary_error_rate >> 1"], None, "--fail-on"),
        (["--records", "R"], "canary: {alpha: 2}", "canary.alpha"),
        (["--records", "R"], "canary: {min_requests: 0}", "canary.min_requests"),
        (["--records", "R"], "canary: {sample: 5}", "canary.sample"),
        (["--records", "R"], "canary: 3", "'canary'"),
        (
            [
                "--records",
                "R",
                "--since",
                "2026-11-26T00:00:00Z",
                "--until",
                "2026-11-25T00:00:00Z",
            ],
            None,
            "--since",
        ),
        (["--records", "R", "--baseline", "v1", "--canary", "v1"], None, "both 'v1'"),
        (["--records", "R", "--canary", ""], None, "--canary"),
        (["--records", "/no/such/records"], None, "/no/such/records"),
        (["--records", "R", "--workers", "0"], None, "--workers"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_it(root, tmp_path, capsys, args, config, needle):
    args = [str(root) if a == "R" else a for a in args]
    if config is not None:
        (tmp_path / "c.yaml").write_text(config)
        args += ["--config", str(tmp_path / "c.yaml")]
    assert main(["canary", *args, "--out", str(tmp_path / "out")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("shadowdiff canary: error: ") and needle in line
    assert not (tmp_path / "out").exists()


def test_the_report_reads_a_config_with_a_canary_block_and_rejects_a_bad_one(root, tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("canary: {alpha: 0.05, min_error_delta: 0.01, min_requests: 50}\n")
    bad.write_text("canary: {alpha: 0.05, min_delta: 0.01}\n")
    assert (
        main(
            ["report", "--records", str(root), "--out", str(tmp_path / "r1"), "--config", str(good)]
        )
        == 0
    )
    assert (
        main(
            ["report", "--records", str(root), "--out", str(tmp_path / "r2"), "--config", str(bad)]
        )
        == 2
    )


def test_exit_codes_from_a_real_process(root, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "shadowdiff",
            "canary",
            "--records",
            str(root),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 4, proc.stderr  # 60 + 60 requests: fewer than min_requests (200)
    assert "inconclusive" in proc.stdout
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "canary.html",
        "canary.json",
        "canary.md",
    ]
