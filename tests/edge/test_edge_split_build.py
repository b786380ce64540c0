"""`shadowdiff edge build` validates and bakes the canary split like every other key."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

SPLIT = {
    "weight": 0.2,
    "canary_origin": {"domain": "green.example.com"},
    "key": {"cookie": "session_id"},
}
EVENT = (
    Path(__file__).resolve().parent.parent / "events" / "origin-request" / "get-custom-origin.json"
)


def build(tmp_path: Path, config: object) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "edge.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [sys.executable, "-m", "shadowdiff", "edge", "build", "--config", str(path), "--out",
         str(tmp_path / "edge.zip")],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip


def test_a_split_only_config_builds_with_every_split_key_spelled_out(tmp_path):
    proc = build(tmp_path, {"split": SPLIT})
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(tmp_path / "edge.zip") as archive:
        assert "edge/split.py" in archive.namelist() and "edge/splitconfig.py" in archive.namelist()
        baked = json.loads(archive.read("edge/config.json"))
    assert baked["targets"] == []
    assert baked["split"] == {
        "weight": 0.2,
        "canary_origin": {
            "domain": "green.example.com",
            "protocol": "https",
            "port": 443,
            "path": "",
        },
        "key": {"cookie": "session_id"},
        "arm_header": "x-shadowdiff-arm",
    }


def test_the_built_zip_splits_as_the_lambda_would_load_it(tmp_path):
    config = {"targets": [{"url": "https://shadow.example.com"}], "split": {**SPLIT, "weight": 1}}
    assert build(tmp_path, config).returncode == 0
    unpacked = tmp_path / "task"
    zipfile.ZipFile(tmp_path / "edge.zip").extractall(unpacked)
    code = (
        "import json,sys; from edge.split import handler;"
        f"r = handler(json.loads(open({str(EVENT)!r}).read()), None);"
        "print(r['origin']['custom']['domainName'], r['headers']['x-shadowdiff-arm'][0]['value'])"
    )
    proc = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=unpacked, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["green.example.com", "canary"]


@pytest.mark.parametrize(
    ("split", "key"),
    [
        ({**SPLIT, "sticky": True}, "split.sticky"),
        ({**SPLIT, "weight": 2}, "split.weight"),
        ({**SPLIT, "key": {"cookie": ""}}, "split.key.cookie"),
        ({**SPLIT, "key": {"header": ""}}, "split.key.header"),
    ],
)
def test_edge_build_rejects_a_bad_split_with_one_line_naming_the_key(tmp_path, split, key):
    proc = build(tmp_path, {"split": split})
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert f"{key}:" in line
    assert not (tmp_path / "edge.zip").exists()


def test_the_readme_split_example_validates():
    from edge.config import parse_config

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = [b for b in re.findall(r"```json\n(.*?)```", readme, flags=re.S) if '"split"' in b]
    assert blocks
    for block in blocks:
        assert parse_config(json.loads(block)).targets == ()
