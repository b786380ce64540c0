"""The demo clears only its own files, and only in a directory it made."""

from __future__ import annotations

import pytest

from shadowdiff.demo.orchestrator import MARKER, _clear
from shadowdiff.demo.procs import DemoError


def test_a_new_directory_is_made_and_marked(tmp_path):
    out = tmp_path / "new" / "demo-out"
    _clear(out)
    assert (out / MARKER).is_file()


def test_a_rerun_replaces_the_previous_run_and_nothing_else(tmp_path):
    _clear(tmp_path / "out")
    (tmp_path / "out" / "records" / "role=shadow").mkdir(parents=True)
    (tmp_path / "out" / "traffic.json").write_text("{}")
    (tmp_path / "out" / "notes.txt").write_text("mine")
    _clear(tmp_path / "out")
    assert not (tmp_path / "out" / "records").exists()
    assert not (tmp_path / "out" / "traffic.json").exists()
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"


def test_a_directory_with_someone_elses_files_is_refused(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "important.log").write_text("keep me")
    with pytest.raises(DemoError, match=r"--out .*not made by shadowdiff demo"):
        _clear(tmp_path)
    assert (tmp_path / "logs" / "important.log").read_text() == "keep me"
