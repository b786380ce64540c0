"""scripts/package-edge.sh end to end: real `shadowdiff edge build`, real AWS CLI, moto S3.

The script's stdout is the edge stack's parameters; the zip it uploads must carry
the collector URLs and the signing secret it read from Secrets Manager.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest
from infra_support import REPO

SCRIPT = REPO / "scripts" / "package-edge.sh"
pytestmark = pytest.mark.skipif(shutil.which("aws") is None, reason="needs the AWS CLI")


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def env(aws_env: str) -> dict[str, str]:
    """This venv first on PATH (for `shadowdiff`), AWS pointed at moto."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def test_zip_is_uploaded_under_its_digest_with_urls_and_secret_baked_in(env):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="edge-code-pkg")
    secret_arn = boto3.client("secretsmanager").create_secret(
        Name="pkg-signing", SecretString="s3cr3t-value"
    )["ARN"]
    proc = _run(
        "--bucket", "edge-code-pkg",
        "--shadow-url", "https://shadow.example.com",
        "--secondary-url", "https://secondary.example.com",
        "--sample-rate", "0.25",
        "--signing-secret-arn", secret_arn,
        env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    params = dict(line.split("=", 1) for line in proc.stdout.splitlines())
    assert params["EdgeCodeBucket"] == "edge-code-pkg"
    assert params["EdgeCodeKey"].startswith("edge/shadowdiff-edge-")
    assert (
        params["ShadowCollectorUrls"] == "https://shadow.example.com,https://secondary.example.com"
    )
    body = s3.get_object(Bucket="edge-code-pkg", Key=params["EdgeCodeKey"])["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        config = json.loads(zf.read("edge/config.json"))
        assert "edge/handler.py" in zf.namelist()
    assert config["signing_secret"] == "s3cr3t-value"
    assert config["targets"] == [
        {"url": "https://shadow.example.com", "role": "shadow", "sample_rate": 0.25},
        {"url": "https://secondary.example.com", "role": "secondary", "sample_rate": 0.25},
    ]
    assert "s3cr3t-value" not in proc.stdout + proc.stderr


def test_same_inputs_give_the_same_key_so_no_new_version_is_published(env, tmp_path):
    args = ("--bucket", "b", "--shadow-url", "https://s.example.com", "--no-signing", "--no-upload")
    first, second = _run(*args, env=env), _run(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    other = _run(*args[:3], "https://other.example.com", *args[4:], env=env)
    assert other.stdout != first.stdout


def test_missing_secret_choice_is_refused_with_one_line(env):
    proc = _run("--bucket", "b", "--shadow-url", "https://s.example.com", env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "package-edge: give --signing-secret-arn (or --no-signing to mirror unsigned)"
    ]


def test_canary_origin_bakes_the_split_into_the_zip(env, tmp_path):
    out = tmp_path / "edge.zip"
    proc = _run(
        "--bucket", "unused", "--shadow-url", "https://shadow.example.com", "--no-signing",
        "--canary-origin", "green.example.com", "--canary-key", "cookie:session_id",
        "--no-upload", "--out", str(out),
        env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(out) as zf:
        baked = json.loads(zf.read("edge/config.json"))
        assert "edge/split.py" in zf.namelist()
    assert baked["split"]["canary_origin"]["domain"] == "green.example.com"
    assert baked["split"]["key"] == {"cookie": "session_id"} and baked["split"]["weight"] == 0.0


def test_a_bad_canary_key_fails_the_build_naming_it(env, tmp_path):
    proc = _run(
        "--bucket", "unused", "--shadow-url", "https://shadow.example.com", "--no-signing",
        "--canary-origin", "green.example.com", "--canary-key", "cookie:", "--no-upload",
        env=env,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "split.key.cookie" in proc.stderr
