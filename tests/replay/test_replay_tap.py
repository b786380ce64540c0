"""Replay end to end: a real primary tap captures v1, then replay against v2 and a v1 copy.

The report must find what v2 was built to break (a changed ``tier``, 500s on some
items), call the per-response ids and timestamps noise because the secondary
copy differs there too, skip the POSTs unless ``--methods`` allows them, and
send what the tap captured: bodies whole, redacted values never, test tokens
from ``--set-header`` instead.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest
from replay_helpers import kept, replay, tap_capture

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

USERS, ITEMS = 30, 20
ORDER = b'{"user_id": 7, "lines": [{"sku": "A", "quantity": 2}]}'
TRAFFIC = (
    [("GET", f"/users/{i}", {}, None) for i in range(1, USERS + 1)]
    + [("GET", f"/items/{i}", {}, None) for i in range(1, ITEMS + 1)]
    + [("POST", "/echo", {"content-type": "application/json"}, ORDER)] * 3
    + [("GET", "/echo?who=ci", {"authorization": "Bearer prod-secret"}, None)] * 2
    + [("GET", "/redirect", {}, None), ("HEAD", "/users/1", {}, None)]
)
SAFE = USERS + ITEMS + 4  # every request but the POSTs


@pytest.fixture(scope="module")
def captured(v1, tmp_path_factory):
    return tap_capture(tmp_path_factory.mktemp("tap"), v1, TRAFFIC)


def _endpoint(report, name):
    by_name = {ep["endpoint"]: ep for ep in report["endpoints"]}
    assert name in by_name, sorted(by_name)
    return by_name[name]


def _fields(ep):
    return {f["path"]: f for f in ep["body"]["fields"]}


@pytest.fixture(scope="module")
def cli_run(captured, v2, v1_copy, tmp_path_factory):
    """``shadowdiff replay`` as a user runs it, in a child process."""
    out = tmp_path_factory.mktemp("cli") / "report"
    argv = [
        sys.executable, "-m", "shadowdiff", "replay", "--records", str(captured),
        "--target", v2, "--secondary-target", v1_copy, "--out", str(out),
        "--deployment", "pr-42", "--fail-on", "status_mismatch_rate > 0",
    ]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=dict(os.environ))
    return proc, out


def test_the_report_finds_the_planted_differences_and_exits_3(cli_run):
    proc, out = cli_run
    assert proc.returncode == 3, proc.stderr
    assert "threshold crossed: status_mismatch_rate" in proc.stderr
    assert f"replayed {SAFE} of {len(TRAFFIC)} primary requests" in proc.stdout
    report = json.loads((out / "report.json").read_text())
    s = report["summary"]
    assert (s["primary_records"], s["shadow_records"], s["secondary_records"]) == (SAFE,) * 3
    assert (s["pairs"], s["primary_only"], s["shadow_only"], s["shadow_errors"]) == (SAFE, 0, 0, 0)
    items = _endpoint(report, "GET /items/{id}")
    assert items["status"]["matrix"] == {"200->200": ITEMS - ITEMS // 5, "200->500": ITEMS // 5}
    users = _fields(_endpoint(report, "GET /users/{id}"))
    assert users["$.tier"]["count"] == USERS // 3 and users["$.tier"]["noise"] is False
    for noisy in ("$.request_id", "$.served_at"):
        assert users[noisy]["noise"] is True and users[noisy]["noise_reason"] == "secondary"
    redirect = _endpoint(report, "GET /redirect")
    assert redirect["status"]["matrix"] == {"302->302": 1}  # never followed
    assert _endpoint(report, "HEAD /users/{id}")["status"]["matrix"] == {"200->200": 1}


def test_the_skipped_posts_are_counted_and_named_in_the_notes(cli_run):
    report = json.loads((cli_run[1] / "report.json").read_text())
    assert (
        "skipped 3 primary records with method POST (not in --methods GET,HEAD,OPTIONS)"
        in (report["notes"])
    )
    assert report["sources"] == {"primary": report["sources"]["primary"]}


def test_replay_writes_exactly_the_files_shadowdiff_report_writes(cli_run, captured, tmp_path):
    out = tmp_path / "plain"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "shadowdiff",
            "report",
            "--records",
            str(captured),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    assert sorted(p.name for p in cli_run[1].iterdir()) == sorted(p.name for p in out.iterdir())


def test_post_bodies_are_replayed_whole_when_methods_allow_them(captured, v2, tmp_path):
    keep = tmp_path / "kept"
    code, report = replay(
        tmp_path, "--records", str(captured), "--target", v2, "--methods", "GET,HEAD,POST",
        "--keep-records", str(keep), "--deployment", "pr-42",
    )  # fmt: skip
    assert code == 0 and report is not None
    assert report["summary"]["pairs"] == len(TRAFFIC)
    posts = [r for r in kept(keep) if r["request"]["method"] == "POST"]
    assert len(posts) == 3
    for rec in posts:
        assert rec["role"] == "shadow" and rec["deployment"] == "pr-42"
        echo = json.loads(rec["response"]["body"])
        assert echo["method"] == "POST" and base64.b64decode(echo["body_b64"]) == ORDER
        assert dict(echo["headers"])["content-length"] == str(len(ORDER))


def test_redacted_values_are_never_sent_and_set_header_supplies_a_test_token(
    captured, v2, tmp_path
):
    plain, token = tmp_path / "plain", tmp_path / "token"
    replay(tmp_path, "--records", str(captured), "--target", v2, "--keep-records", str(plain))
    replay(
        tmp_path, "--records", str(captured), "--target", v2, "--keep-records", str(token),
        "--set-header", "Authorization=Bearer ci-token", "--set-header", "x-replay=1",
    )  # fmt: skip

    def echoes(root):
        recs = [r for r in kept(root) if r["request"]["path"] == "/echo"]
        assert len(recs) == 2
        return recs, [dict(json.loads(r["response"]["body"])["headers"]) for r in recs]

    _, sent = echoes(plain)
    assert all("authorization" not in h for h in sent)
    assert all("[REDACTED]" not in json.dumps(h) for h in sent)
    recs, sent = echoes(token)
    assert all(h["authorization"] == "Bearer ci-token" and h["x-replay"] == "1" for h in sent)
    # The token is sent, never stored in the request the record describes.
    assert all(r["request"]["headers"]["authorization"] == "[REDACTED]" for r in recs)
    assert all(r["request"]["headers"]["x-replay"] == "[REDACTED]" for r in recs)


def test_a_progress_bar_is_drawn_on_a_terminal_only(captured, v2, tmp_path, cli_run):
    import pty

    assert "━" not in cli_run[0].stdout + cli_run[0].stderr  # pipes: no bar
    master, slave = pty.openpty()
    argv = [sys.executable, "-m", "shadowdiff", "replay", "--records", str(captured),
            "--target", v2, "--out", str(tmp_path / "tty")]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=slave, stderr=slave, env=dict(os.environ))
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0
    text = seen.decode("utf-8", "replace")
    assert "replay" in text and "━" in text
    assert f"replayed {SAFE} of {len(TRAFFIC)} primary requests" in text
