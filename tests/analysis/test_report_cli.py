"""The report command: outputs, schema, escaping, exit codes 0/2/3, config errors."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import jsonschema
import orjson
import pytest
from analysis_helpers import pair, rec, run, write_records

from analysis.report import json_schema


@pytest.fixture
def data(tmp_path):
    records = []
    for i in range(25):
        records += pair(f"ok{i}", {"a": 1}, {"a": 1})
    records += pair(
        "bad<script>", {"a": "<b>x</b>"}, {"a": "<script>alert(1)</script>"}, path="/x/<img src=y>"
    )
    records += pair("st", {"a": 1}, {"a": 1}, s_status=500)
    records += [rec("err", "primary", body={}), rec("err", "shadow", status=None)]
    return write_records(tmp_path / "data", records)


def test_writes_every_output_and_report_json_validates_against_the_schema(tmp_path, data):
    code, report = run(data, tmp_path / "out")
    assert code == 0 and report is not None
    jsonschema.validate(report, json_schema())
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} >= {
        "report.json",
        "report.html",
        "report.md",
        "pairs.jsonl.gz",
    }
    assert report["schema"] == "shadowdiff.report/1"
    assert report["sources"] == {"records": str(data)}
    md = (out / "report.md").read_text()
    assert report["id"] in md and len(md.splitlines()) < 40


def test_html_is_self_contained_and_escapes_captured_values(tmp_path, data):
    run(data, tmp_path / "out")
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<script>" not in html and "<img src=y>" not in html
    assert "&lt;img src=y&gt;" in html and "bad&lt;script&gt;" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    assert "<svg" in html and "Status matrix" in html


def test_pairs_file_holds_every_example_with_records_and_diff(tmp_path, data):
    _, report = run(data, tmp_path / "out")
    with gzip.open(tmp_path / "out" / "pairs.jsonl.gz") as fh:
        pairs = {p["correlation_id"]: p for p in map(orjson.loads, fh)}
    examples = {e["correlation_id"] for ep in report["endpoints"] for e in ep["examples"]}
    assert examples <= set(pairs)
    bad = pairs["bad<script>"]
    assert set(bad) == {"correlation_id", "endpoint", "reasons", "records", "diff"}
    assert bad["reasons"] == ["body"]
    assert bad["records"]["primary"]["correlation_id"] == "bad<script>"
    assert bad["records"]["secondary"] is None
    assert bad["diff"] == [
        {
            "path": "$.a",
            "kind": "changed",
            "primary": "<b>x</b>",
            "shadow": "<script>alert(1)</script>",
            "noise": False,
            "noise_reason": None,
        }
    ]
    assert (
        pairs["err"]["reasons"] == ["error"]
        and pairs["err"]["records"]["shadow"]["response"] is None
    )


def test_fail_on_threshold_exits_3_and_names_it(tmp_path, data, capsys):
    code, _ = run(data, tmp_path / "out", "--fail-on", "status_mismatch_rate > 0.01")
    assert code == 3
    err = capsys.readouterr().err
    assert "status_mismatch_rate > 0.01" in err and len(err.strip().splitlines()) == 1
    code, _ = run(
        data,
        tmp_path / "out2",
        "--fail-on",
        "shadow_error_rate > 0.5",
        config="fail_on: ['body_mismatch_rate > 0.9']\n",
    )
    assert code == 0
    code, _ = run(data, tmp_path / "out3", config="fail_on: ['body_mismatches >= 1']\n")
    assert code == 3


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ("colour: red\n", "colour"),
        ("ignore: [{endpoint: '*', paths: 3}]\n", "ignore[0].paths"),
        ("ignore: [{endpoint: '*', paths: ['$.a'], why: x}]\n", "ignore[0].why"),
        ("numeric_tolerance: {absolute: -1}\n", "numeric_tolerance.absolute"),
        ("numeric_tolerance: {abs: 1}\n", "numeric_tolerance.abs"),
        ("latency: {alpha: 2}\n", "latency.alpha"),
        ("ignore_list_order: maybe\n", "ignore_list_order"),
        ("routes: [users]\n", "routes"),
        ("fail_on: ['wobble > 1']\n", "fail_on"),
        ("- just a list\n", "top level"),
    ],
)
def test_bad_config_exits_2_naming_the_key(tmp_path, data, capsys, config, named):
    code, report = run(data, tmp_path / "out", config=config)
    assert code == 2 and report is None
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err


@pytest.mark.parametrize(
    "args",
    [
        ["--since", "yesterday"],
        ["--since", "2026-11-25T11:00:00Z", "--until", "2026-11-25T10:00:00Z"],
        ["--fail-on", "nonsense"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, data, capsys, args):
    code, _ = run(data, tmp_path / "out", *args)
    assert code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_unreadable_input_exits_2_naming_the_file(tmp_path, subprocess_env):
    root = tmp_path / "data" / "role=primary" / "dt=2026-11-25" / "hour=10"
    root.mkdir(parents=True)
    (root / "broken.jsonl.gz").write_bytes(gzip.compress(b'{"a": 1}\n' * 100)[:-20])
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "shadowdiff",
            "report",
            "--records",
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.count("\n") == 1 and "broken.jsonl.gz" in proc.stderr and "gzip" in proc.stderr
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "shadowdiff",
            "report",
            "--shadow",
            str(tmp_path / "nope"),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
    )
    assert proc.returncode == 2 and str(tmp_path / "nope") in proc.stderr


def test_no_input_at_all_is_a_usage_error(tmp_path, capsys):
    from shadowdiff.cli import main

    assert main(["report", "--out", str(tmp_path / "o")]) == 2
    assert "--records" in capsys.readouterr().err


def test_window_with_no_data_still_writes_a_report_that_says_so(tmp_path, data):
    code, report = run(
        data, tmp_path / "out", "--since", "2030-01-01T00:00:00Z", "--until", "2030-01-02T00:00:00Z"
    )
    assert code == 0 and report is not None
    assert all(v == 0 for v in report["summary"].values())
    assert report["notes"] and report["window"]["start"] == "2030-01-01T00:00:00.000Z"
    jsonschema.validate(report, json_schema())


def test_per_role_sources_keep_only_their_own_role(tmp_path):
    # the shadow dir also holds a primary record: the shadow source must drop it
    prim = write_records(tmp_path / "p", [rec("a", "primary", body={})])
    shad = write_records(
        tmp_path / "s", [rec("a", "shadow", body={}), rec("b", "primary", body={})]
    )
    from shadowdiff.cli import main

    out = tmp_path / "out"
    assert (
        main(["report", "--primary", str(prim), "--shadow", f"file://{shad}", "--out", str(out)])
        == 0
    )
    s = json.loads((out / "report.json").read_text())["summary"]
    assert s["pairs"] == 1 and s["primary_records"] == 1 and s["primary_only"] == 0


def test_report_ids_are_unique(tmp_path, data):
    _, a = run(data, tmp_path / "a")
    _, b = run(data, tmp_path / "b")
    assert a["id"] != b["id"] and a["id"].startswith("2026-11-25T10-00Z_")


def test_progress_output_stays_quiet_when_not_a_tty(tmp_path, data, subprocess_env):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "shadowdiff",
            "report",
            "--records",
            str(data),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.count("\n") == 1


def test_spill_files_go_to_the_work_dir_and_are_removed(tmp_path, data):
    work = tmp_path / "work"
    work.mkdir()
    code, report = run(data, tmp_path / "out", "--work-dir", str(work))
    assert code == 0 and report["summary"]["pairs"] > 0
    assert list(work.iterdir()) == []
