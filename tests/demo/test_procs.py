"""Children of the demo always go away, even the ones that ignore SIGTERM or fork."""

from __future__ import annotations

import os
import sys
import time

import pytest

from shadowdiff.demo.procs import Children, DemoError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace(tmp_path):
    children = Children(tmp_path)
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    child = children.start("stubborn", [sys.executable, "-c", code])
    deadline = time.monotonic() + 20
    while "up" not in child.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert children.stop(child, grace=0.5) == -9
    assert children.running == []


def test_stopping_a_child_also_stops_what_it_forked(tmp_path):
    children = Children(tmp_path)
    pid_file = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time; "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        f"open({str(pid_file)!r}, 'w').write(str(p.pid)); time.sleep(60)"
    )
    children.start("parent", [sys.executable, "-c", code])
    deadline = time.monotonic() + 20
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    children.stop_all(grace=5)
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


def test_a_child_that_dies_before_it_listens_is_reported_with_its_log(tmp_path):
    children = Children(tmp_path)
    child = children.start(
        "broken", [sys.executable, "-c", "print('cannot bind'); raise SystemExit(4)"]
    )
    with pytest.raises(DemoError, match=r"broken exited with status 4 .*: cannot bind$"):
        children.wait_ready(child, "http://127.0.0.1:9", timeout=20)
    children.stop_all()
