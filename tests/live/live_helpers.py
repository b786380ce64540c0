"""Drive a live state or a whole watcher in-process, and compare with `shadowdiff report`."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import orjson
from analysis_helpers import run

from analysis.core.settings import ReportSettings
from analysis.job import build_documents
from analysis.live.slices import SliceClock
from analysis.live.state import LiveState
from shadowdiff.model.timefmt import format_ms

# What legitimately differs between a live report and the nightly one over the same window.
NOT_COMPARED = ("id", "generated_at", "notes", "live", "sources")


class FakeClock:
    """A monotonic clock the test moves by hand (grace is measured on it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def lines_of(records: list[dict[str, Any]]) -> list[tuple[str | None, bytes]]:
    return [(None, orjson.dumps(r)) for r in records]


def live_report(
    state: LiveState, clock: SliceClock, settings: ReportSettings | None = None
) -> dict[str, Any]:
    settings = settings or ReportSettings()
    lo, hi = state.bounds()  # type: ignore[misc]
    partial = state.window()
    report, _ = build_documents(
        partial,  # type: ignore[arg-type]
        settings,
        report_id="live",
        start=clock.start(lo),
        end=clock.start(hi + 1),
        sources={},
        fail_on=(),
    )
    return report


def batch_report(root: Path, out: Path, window: dict[str, str], *args: str) -> dict[str, Any]:
    code, report = run(root, out, "--since", window["start"], "--until", window["end"], *args)
    assert code in (0, 3) and report is not None
    return report


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in NOT_COMPARED}


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def gz_lines(path: Path) -> list[bytes]:
    return gzip.decompress(path.read_bytes()).splitlines()


def window_of(state: LiveState, clock: SliceClock) -> dict[str, str]:
    lo, hi = state.bounds()  # type: ignore[misc]
    return {"start": format_ms(clock.start(lo)), "end": format_ms(clock.start(hi + 1))}


def write_capture(root: Path, records: list[dict[str, Any]], name: str | None = None) -> list[Path]:
    """Write records the way a collector's local sink does: per partition, `.tmp` then rename."""
    from datetime import datetime

    from shadowdiff.model.layout import object_name, partition_dir

    groups: dict[str, list[bytes]] = {}
    for r in records:
        moment = datetime.fromisoformat(r["captured_at"].replace("Z", "+00:00"))
        groups.setdefault(partition_dir(r["role"], moment), []).append(orjson.dumps(r) + b"\n")
    written = []
    for part, lines in groups.items():
        folder = root / part
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / (name or object_name())
        tmp = folder / f".{final.name}.tmp"
        tmp.write_bytes(gzip.compress(b"".join(lines)))
        tmp.replace(final)
        written.append(final)
    return written


def total_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.jsonl.gz") if not p.name.startswith("."))


def pairs_at(tag: str, n: int, minutes: float = 0, bad: int = 0) -> list[dict[str, Any]]:
    """``n`` identical pairs a second apart from T0 + ``minutes``; the first ``bad`` shadows 500."""
    from datetime import timedelta

    from analysis_helpers import T0, pair

    out: list[dict[str, Any]] = []
    for i in range(n):
        when = T0 + timedelta(minutes=minutes, seconds=i)
        out += pair(f"{tag}{i}", {"v": 1}, {"v": 1}, at=when, s_status=500 if i < bad else 200)
    return out
