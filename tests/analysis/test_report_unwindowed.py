"""Roles outside the window: the window selects some roles only (what ``shadowdiff replay`` needs).

A replay's answers are captured now, the originals last night; the report of the
two must window the originals and keep every replayed record, at listing time
(partitions of other hours) and at reduce time (each record's captured_at).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from analysis_helpers import T0, later, rec, write_records

from analysis.job import JobOptions, run_job
from shadowdiff.model.errors import ConfigError


def _job(tmp_path, **kw):
    primary = write_records(
        tmp_path / "p",
        [rec(f"c{i}", "primary", at=later(i * 600)) for i in range(6)],  # one per 10 minutes
    )
    replays = write_records(
        tmp_path / "s",
        [rec(f"c{i}", "shadow", at=T0 + timedelta(days=7, seconds=i)) for i in range(6)],
    )
    opts = JobOptions(
        out=str(tmp_path / "out"),
        primary=str(primary),
        shadow=str(replays),
        since=later(0),
        until=later(1800),  # c0, c1, c2
        workers=1,
        **kw,
    )
    return run_job(opts).report


def test_unwindowed_role_records_are_kept_while_the_window_selects_the_others(tmp_path):
    report = _job(tmp_path, unwindowed=frozenset({"shadow"}))
    s = report["summary"]
    assert (s["primary_records"], s["shadow_records"], s["pairs"]) == (3, 6, 3)
    assert s["shadow_only"] == 3  # c3..c5: replayed, but their originals are outside the window
    assert report["window"] == {
        "start": "2026-11-25T10:00:00.000Z",
        "end": "2026-11-25T10:30:00.000Z",
    }


def test_without_unwindowed_roles_the_window_applies_to_every_role(tmp_path):
    s = _job(tmp_path)["summary"]
    assert (s["primary_records"], s["shadow_records"], s["pairs"]) == (3, 0, 0)


def test_notes_and_named_sources_are_added_to_the_report(tmp_path):
    report = _job(tmp_path, notes=("replayed 3",), named_sources={"primary": "s3://b/p"})
    assert report["notes"][-1] == "replayed 3"
    assert report["sources"] == {"primary": "s3://b/p"}


def test_unwindowed_roles_need_the_local_engine(tmp_path):
    with pytest.raises(ConfigError, match="--engine local"):
        _job(tmp_path, unwindowed=frozenset({"shadow"}), engine="dask")
