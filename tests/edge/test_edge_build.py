"""`shadowdiff edge build` and `shadowdiff edge serve` from the command line."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import types
import zipfile

import pytest
from edge_support import load_event

from shadowdiff import edgebuild
from shadowdiff.cli import main

CONFIG = {
    "targets": [{"url": "https://shadow.example.com", "role": "shadow", "sample_rate": 0.5}],
    "signing_secret": "s3cret",
    "mirror_query": {"set": {"shadow": "1"}},
}


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "edge.json"
    path.write_text(json.dumps(CONFIG))
    return path


def test_build_writes_a_zip_with_only_the_edge_package_and_its_config(config_file, tmp_path):
    out = tmp_path / "dist" / "edge.zip"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "shadowdiff",
            "edge",
            "build",
            "--config",
            str(config_file),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        baked = json.loads(archive.read("edge/config.json"))
    assert all(name.startswith("edge/") for name in names)
    assert "edge/handler.py" in names and "edge/signing.py" in names
    assert not any("__pycache__" in n or n.endswith(".pyc") or "/test" in n for n in names)
    assert baked["targets"] == CONFIG["targets"]
    assert baked["budget_ms"] == 50 and baked["signing_secret"] == "s3cret"
    assert out.stat().st_size < edgebuild.MAX_ZIP_BYTES


def test_built_zip_runs_as_the_lambda_would_load_it(config_file, tmp_path):
    out = tmp_path / "edge.zip"
    assert main(["edge", "build", "--config", str(config_file), "--out", str(out)]) == 0
    unpacked = tmp_path / "task"
    zipfile.ZipFile(out).extractall(unpacked)
    event = json.dumps(load_event("get-no-body.json"))
    code = (
        "import json,sys; from edge.handler import handler; import edge;"
        f"assert edge.__file__.startswith({str(unpacked)!r}), edge.__file__;"
        f"r = handler(json.loads({event!r}), None);"
        "print(r['headers']['x-shadow-correlation-id'][0]['value'])"
    )
    proc = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=unpacked, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        proc.stdout.splitlines()[-1] == "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="
    )


def test_same_config_builds_the_same_bytes(config_file, tmp_path):
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    edgebuild.build_zip(config_file, a)
    edgebuild.build_zip(config_file, b)
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({**CONFIG, "budget": 50}, "budget"),
        ({**CONFIG, "targets": [{"url": "https://x", "sample_rate": 2}]}, "targets[0].sample_rate"),
    ],
)
def test_bad_config_exits_2_with_one_line_naming_the_key(tmp_path, config, key):
    path = tmp_path / "edge.json"
    path.write_text(json.dumps(config))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "shadowdiff",
            "edge",
            "build",
            "--config",
            str(path),
            "--out",
            str(tmp_path / "z.zip"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert key in proc.stderr and str(path) in proc.stderr
    assert not (tmp_path / "z.zip").exists()


def test_unreadable_config_exits_2(tmp_path, capsys):
    assert (
        main(
            [
                "edge",
                "build",
                "--config",
                str(tmp_path / "nope.json"),
                "--out",
                str(tmp_path / "z.zip"),
            ]
        )
        == 2
    )
    assert "nope.json" in capsys.readouterr().err


def test_zip_over_the_viewer_trigger_limit_is_refused(config_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(edgebuild, "MAX_ZIP_BYTES", 1000)
    out = tmp_path / "edge.zip"
    assert main(["edge", "build", "--config", str(config_file), "--out", str(out)]) == 2
    assert "limit" in capsys.readouterr().err
    assert not out.exists()


def test_serve_validates_the_config_and_calls_the_front_door(config_file, monkeypatch):
    calls = []
    fake = types.ModuleType("shadowdiff.frontdoor")
    fake.serve = lambda config, primary, host, port: calls.append((config, primary, host, port))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "shadowdiff.frontdoor", fake)
    monkeypatch.delattr("shadowdiff.frontdoor", raising=False)
    args = [
        "edge",
        "serve",
        "--config",
        str(config_file),
        "--primary",
        "http://127.0.0.1:9000",
        "--port",
        "8123",
    ]
    assert main(args) == 0
    assert calls == [(CONFIG, "http://127.0.0.1:9000", "127.0.0.1", 8123)]


def test_serve_without_the_demo_extra_names_it_in_one_line(config_file, monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "aiohttp" else real(name, *a)
    )
    args = ["edge", "serve", "--config", str(config_file), "--primary", "http://127.0.0.1:9000"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "shadowdiff edge: error: shadowdiff edge serve needs aiohttp, which the demo extra "
        "installs: pip install 'shadowdiff[demo]'"
    )


def test_serve_with_a_bad_config_exits_2_before_starting(tmp_path, monkeypatch, capsys):
    path = tmp_path / "edge.json"
    path.write_text(json.dumps({"targets": "nope"}))
    monkeypatch.setitem(sys.modules, "shadowdiff.frontdoor", None)
    assert main(["edge", "serve", "--config", str(path), "--primary", "http://x"]) == 2
    assert "targets" in capsys.readouterr().err
