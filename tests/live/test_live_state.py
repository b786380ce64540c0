"""The live state in-process: the same report as `shadowdiff report` over the same window.

Ticks are driven by hand with a fake clock, so grace periods pass without waiting.
"""

from __future__ import annotations

import random
from datetime import timedelta

import orjson
from analysis_helpers import T0, pair, rec, write_records
from live_helpers import (
    FakeClock,
    batch_report,
    comparable,
    lines_of,
    live_report,
)

from analysis.config import settings_from_obj
from analysis.core.aggregate import Partial
from analysis.live.slices import SliceClock
from analysis.live.state import LiveState
from analysis.live.window import SlidingPartials

CONFIG = {"ignore": [{"endpoint": "*", "paths": ["$.trace"]}], "routes": ["/orders/{sku}"]}


def at(minutes: float, ms: int = 0):
    return T0 + timedelta(minutes=minutes, milliseconds=ms)


def traffic(start: float, minutes: float, every_s: float, tag: str) -> list[dict]:
    """Pairs every ``every_s`` seconds: some body and status mismatches, a shadow error."""
    out: list[dict] = []
    n = int(minutes * 60 / every_s)
    for i in range(n):
        when = at(start, int(i * every_s * 1000))
        cid = f"{tag}-{i:04d}"
        path = f"/orders/{i % 7}" if i % 2 else "/users/3"
        if i % 11 == 5:
            out += pair(cid, {"ok": 1}, None, at=when, s_at=when, path=path, s_status=500)
        elif i % 13 == 7:
            out += pair(cid, {"ok": 1}, None, at=when, path=path, s_status=None)
        else:
            shadow = {"v": i, "trace": i * 3} if i % 4 else {"v": -i, "trace": 0}
            out += pair(
                cid,
                {"v": i, "trace": i},
                shadow,
                at=when,
                s_at=when + timedelta(milliseconds=4),
                path=path,
                latency=10.0 + i % 9,
                s_latency=11.0 + i % 7,
            )
    return out


def test_live_report_equals_the_nightly_report_over_the_same_window(tmp_path):
    settings = settings_from_obj(CONFIG)
    clock = SliceClock.for_window(300)  # 5 minutes of 1-minute slices
    fake = FakeClock()
    state = LiveState(settings, clock, grace_seconds=60)
    batches = [
        traffic(0, 4, 5, "a"),
        [
            # cut by the window's start [10:05, 10:10): only the shadow is inside
            rec("edge-cut", "primary", at=at(4, 59_990), body={"v": 1}),
            rec("edge-cut", "shadow", at=at(5, 10), body={"v": 1}),
            # crosses a slice boundary inside the window: a whole pair
            rec("mid-cross", "primary", at=at(6, 59_995), body={"v": 1}),
            rec("mid-cross", "shadow", at=at(7, 2), body={"v": 2}),
            *traffic(4, 3, 4, "b"),
        ],
        [
            rec("lonely-p", "primary", at=at(8), body={}),
            rec("lonely-s", "shadow", at=at(8, 500), body={}),
            # joins its group but is no record: invalid there, its primary alone
            rec("half", "primary", at=at(8, 700), body={}),
            rec("half", "shadow", at=at(8, 700), body={}, response_extra={"status": "oops"}),
            *traffic(7, 2.9, 3, "c"),
        ],
    ]
    dups = [r for r in batches[2][:6]]  # delivered again in a later file (at least once)
    invalid = [b"{not json", orjson.dumps(rec("bad", "shadow") | {"captured_at": "yesterday"})]
    for i, batch in enumerate(batches):
        write_records(tmp_path / "data", batch, name=f"part{i}.jsonl.gz")
        state.ingest(lines_of(batch), fake())
        state.settle(fake())
        fake.advance(20)
    write_records(tmp_path / "data", [*dups, *invalid], name="again.jsonl.gz")
    state.ingest([*lines_of(dups), *((None, line) for line in invalid)], fake())
    assert state.pending, "the lonely sides wait for their other side"
    fake.advance(61)
    state.settle(fake())
    assert not state.pending

    live = live_report(state, clock, settings)
    assert live["window"] == {
        "start": "2026-11-25T10:05:00.000Z",
        "end": "2026-11-25T10:10:00.000Z",
    }
    config = tmp_path / "c.yaml"
    config.write_text(orjson.dumps(CONFIG).decode())
    nightly = batch_report(
        tmp_path / "data", tmp_path / "out", live["window"], "--latency-sample", "10000",
        "--config", str(config),
    )  # fmt: skip
    s = live["summary"]
    assert (
        s["pairs"] > 80 and s["status_mismatches"] and s["body_mismatches"] and s["shadow_errors"]
    )
    counts = (s["primary_only"], s["shadow_only"], s["duplicates"], s["invalid_records"])
    assert counts == (2, 2, 5, 4)  # the invalid shadow delivered twice is invalid twice
    assert comparable(live) == comparable(nightly)


def test_the_window_slides_forward_by_leaving_old_slices_out(tmp_path):
    settings = settings_from_obj({})
    clock = SliceClock.for_window(180)
    fake = FakeClock()
    state = LiveState(settings, clock, grace_seconds=30)
    early, late = traffic(0, 3, 2, "early"), traffic(20, 2.5, 2, "late")
    for name, batch in (("early", early), ("late", late)):
        write_records(tmp_path / name, batch)
        state.ingest(lines_of(batch), fake())
        state.settle(fake())
        report = live_report(state, clock)
        nightly = batch_report(tmp_path / name, tmp_path / f"out-{name}", report["window"])
        assert comparable(report) == comparable(nightly)
    assert report["window"]["start"] == "2026-11-25T10:20:00.000Z"
    assert report["summary"]["pairs"] == len(late) // 2  # nothing of the early traffic is left
    assert state.store.slices() <= clock.count and len(state.seen) == len(late)


def test_an_id_waits_for_its_other_side_then_counts_alone_and_a_late_side_counts_apart():
    clock = SliceClock.for_window(600)
    fake = FakeClock()
    state = LiveState(settings_from_obj({}), clock, grace_seconds=120)
    p, s = pair("x", {"a": 1}, {"a": 1}, at=at(1))
    state.ingest(lines_of([p]), fake())
    state.settle(fake())
    assert live_report(state, clock)["summary"]["primary_records"] == 0  # waiting, not counted
    fake.advance(100)
    state.ingest(lines_of([s]), fake())
    state.settle(fake())
    assert live_report(state, clock)["summary"]["pairs"] == 1

    p2, s2 = pair("y", {"a": 1}, {"a": 1}, at=at(2))
    state.ingest(lines_of([p2]), fake())
    fake.advance(121)
    state.settle(fake())
    summary = live_report(state, clock)["summary"]
    assert (summary["pairs"], summary["primary_only"]) == (1, 1)
    state.ingest(lines_of([s2, p]), fake())  # y's shadow, too late; x's primary again
    fake.advance(121)
    state.settle(fake())
    summary = live_report(state, clock)["summary"]
    assert (summary["pairs"], summary["primary_only"], summary["shadow_only"]) == (1, 1, 1)
    assert summary["duplicates"] == 1 and state.counters.late == 1


def test_a_secondary_seen_once_makes_pairs_wait_for_theirs():
    clock = SliceClock.for_window(600)
    fake = FakeClock()
    state = LiveState(settings_from_obj({}), clock, grace_seconds=60)
    state.ingest(lines_of([rec("a", "secondary", at=at(1), body={"t": 1})]), fake())
    p, s = pair("b", {"t": 1}, {"t": 2}, at=at(1))
    state.ingest(lines_of([p, s]), fake())
    state.settle(fake())
    assert "b" in state.pending
    state.ingest(lines_of([rec("b", "secondary", at=at(1), body={"t": 3})]), fake())
    state.settle(fake())
    assert "b" not in state.pending
    fake.advance(61)
    state.settle(fake())
    ep = live_report(state, clock)["endpoints"][0]
    assert ep["body"]["fields"][0]["noise_reason"] == "secondary"


def _counted(n: int) -> Partial:
    p = Partial()
    p.counts["pairs"] = n
    return p


def test_sliding_partials_hold_exactly_what_merging_every_slice_would():
    rng = random.Random(7)
    store = SlidingPartials(Partial, lateness=2)
    full: dict[int, int] = {}
    tails: dict[tuple[int, int], int] = {}
    lo = hi = 0
    for step in range(400):
        hi = max(hi, lo + rng.randrange(0, 12))  # the newest slice never goes back
        for _ in range(rng.randrange(0, 4)):
            q = rng.randrange(max(0, lo - 2), hi + 1)
            n = rng.randrange(1, 50)
            if rng.random() < 0.2 and q > 0:
                after = q - rng.randrange(1, 3)
                store.add(q, _counted(n), after)
                tails[(after, q)] = tails.get((after, q), 0) + n
            else:
                store.add(q, _counted(n))
                full[q] = full.get(q, 0) + n
        want = sum(n for q, n in full.items() if lo <= q <= hi) + sum(
            n for (a, q), n in tails.items() if a < lo <= q <= hi
        )
        assert store.window(lo, hi).counts["pairs"] == want, f"step {step}"
        if rng.random() < 0.3:
            lo += rng.randrange(1, 4)
