"""``--rate``: the original order and spacing, or as fast as ``--concurrency`` allows.

Asserted on what the app saw (arrival order, how many requests it held at
once) and on lower bounds that sleeping guarantees, never on how long a run took.
"""

from __future__ import annotations

import json
import random
from datetime import datetime

import pytest
from replay_app import GATE, GATE_SECONDS
from replay_helpers import kept, later, primary, replay, stats, write_source

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
QUICK_AT = (0.0, 0.3, 0.6, 1.2, 1.5)


def _quick_source(tmp_path):
    """Records captured at QUICK_AT, written out of order across two files."""
    recs = [primary(f"q{i}", f"/quick?n={i}", later(s)) for i, s in enumerate(QUICK_AT)]
    random.Random(3).shuffle(recs)
    root = write_source(tmp_path / "src", recs[:2], "a.jsonl")
    return write_source(root, recs[2:], "b.jsonl")


def _captured_at(rec):
    return datetime.fromisoformat(rec["captured_at"].replace("Z", "+00:00")).timestamp()


@pytest.mark.parametrize("rate", [1.0, 2.0])
def test_a_rate_keeps_the_captured_order_and_the_spacing_scaled(apps, tmp_path, rate):
    app = apps("v1")
    keep = tmp_path / "kept"
    code, report = replay(
        tmp_path, "--records", str(_quick_source(tmp_path)), "--target", app,
        "--rate", f"{rate:g}", "--concurrency", "4", "--keep-records", str(keep),
    )  # fmt: skip
    assert code == 0 and report["summary"]["pairs"] == len(QUICK_AT)
    assert stats(app)["arrivals"] == [f"/quick?n={i}" for i in range(len(QUICK_AT))]
    sent = sorted(kept(keep), key=_captured_at)
    assert [r["correlation_id"] for r in sent] == [f"q{i}" for i in range(len(QUICK_AT))]
    for i in range(1, len(QUICK_AT)):
        gap = _captured_at(sent[i]) - _captured_at(sent[0])
        assert gap >= QUICK_AT[i] / rate - 0.002  # captured_at has millisecond resolution


def _gate_source(tmp_path):
    """GATE requests captured 3 s apart: longer than the app holds any one of them."""
    assert GATE_SECONDS < 3.0
    recs = [primary(f"g{i}", f"/gate?n={i}", later(3.0 * i)) for i in range(GATE)]
    return write_source(tmp_path / "gate", recs)


def _opened_by(keep):
    return {r["correlation_id"]: json.loads(r["response"]["body"])["opened_by"] for r in kept(keep)}


@pytest.mark.parametrize(
    ("rate", "inflight", "opened_by"),
    [
        ("max", GATE, "gate"),  # all at once: the gate opened
        ("1", 1, "timeout"),  # one at a time, as captured: each held until the app gave up
    ],
)
def test_max_sends_up_to_the_concurrency_and_a_rate_keeps_the_spacing(
    apps, tmp_path, rate, inflight, opened_by
):
    app = apps("v1")
    keep = tmp_path / "kept"
    code, _ = replay(
        tmp_path, "--records", str(_gate_source(tmp_path)), "--target", app,
        "--rate", rate, "--concurrency", str(GATE), "--keep-records", str(keep),
    )  # fmt: skip
    assert code == 0
    assert stats(app)["max_inflight"] == inflight
    assert set(_opened_by(keep).values()) == {opened_by}
