"""The watcher in-process, ticked by hand: what a tick reads, publishes and notes."""

from __future__ import annotations

import os

from live_helpers import FakeClock, pairs_at, read_json, total_size, write_capture

from analysis.live.settings import build_watch_settings
from analysis.live.watcher import Watcher


def _watcher(tmp_path, **kw) -> tuple[Watcher, FakeClock]:
    fake = FakeClock()
    ws = build_watch_settings(
        reports=str(tmp_path / "reports"), records=str(tmp_path / "rec"), window="10m", **kw
    )
    w = Watcher(ws, monotonic=fake)
    w.start()
    return w, fake


def test_an_idle_tick_reads_nothing_and_leaves_the_report_alone(tmp_path):
    (tmp_path / "rec").mkdir()
    write_capture(tmp_path / "rec", pairs_at("a", 20))
    w, _ = _watcher(tmp_path)
    assert w.tick() is True
    live = tmp_path / "reports" / "live"
    target = os.readlink(live)
    assert read_json(live / "report.json")["summary"]["pairs"] == 20
    read = w.board.counters.bytes_read
    assert read == total_size(tmp_path / "rec")
    assert w.tick() is False and w.tick() is False
    assert os.readlink(live) == target and w.board.counters.bytes_read == read
    write_capture(tmp_path / "rec", pairs_at("b", 5, minutes=1))
    assert w.tick() is True
    assert read_json(live / "report.json")["summary"]["pairs"] == 25
    assert w.board.counters.bytes_read == total_size(tmp_path / "rec")  # nothing read twice
    assert len(os.listdir(tmp_path / "reports" / ".live.live")) == 2  # this one and the last


def test_an_unreadable_file_is_noted_retried_and_then_counted_once(tmp_path):
    (tmp_path / "rec").mkdir()
    [bad] = write_capture(tmp_path / "rec", pairs_at("a", 3)[::2])  # primaries only
    good = bad.read_bytes()
    bad.write_bytes(good[:10])
    write_capture(tmp_path / "rec", pairs_at("a", 3)[1::2])
    w, _ = _watcher(tmp_path, grace="1m")
    w.tick()
    report = read_json(tmp_path / "reports" / "live" / "report.json")
    assert any(bad.name in n and "retried" in n for n in report["notes"])
    assert w.board.counters.read_errors == 1
    bad.write_bytes(good)
    w.tick()
    report = read_json(tmp_path / "reports" / "live" / "report.json")
    assert report["summary"]["pairs"] == 3 and not any(bad.name in n for n in report["notes"])
    assert w.board.counters.bytes_read == total_size(tmp_path / "rec")


def test_a_source_outage_is_noted_and_the_watch_goes_on(tmp_path):
    (tmp_path / "rec").mkdir()
    write_capture(tmp_path / "rec", pairs_at("a", 4))
    w, _ = _watcher(tmp_path)
    w.tick()
    os.rename(tmp_path / "rec", tmp_path / "away")
    w.tick()
    report = read_json(tmp_path / "reports" / "live" / "report.json")
    assert any("unreachable" in n and "rec" in n for n in report["notes"])
    os.rename(tmp_path / "away", tmp_path / "rec")
    write_capture(tmp_path / "rec", pairs_at("b", 2, minutes=2))
    w.tick()
    report = read_json(tmp_path / "reports" / "live" / "report.json")
    assert report["summary"]["pairs"] == 6 and not any("unreachable" in n for n in report["notes"])


def test_pending_ids_are_noted_until_their_grace_is_over(tmp_path):
    (tmp_path / "rec").mkdir()
    write_capture(tmp_path / "rec", pairs_at("a", 4)[::2])  # primaries only
    w, fake = _watcher(tmp_path, grace="90s")
    w.tick()
    report = read_json(tmp_path / "reports" / "live" / "report.json")
    assert report["summary"]["primary_only"] == 0 and report["live"]["pending"] == 4
    assert any("4 correlation ids are waiting up to 90s" in n for n in report["notes"])
    fake.advance(91)
    assert w.tick() is True
    report = read_json(tmp_path / "reports" / "live" / "report.json")
    assert report["summary"]["primary_only"] == 4 and report["live"]["pending"] == 0


def test_alert_transitions_fire_once_and_resolve_once(tmp_path):
    (tmp_path / "rec").mkdir()
    write_capture(tmp_path / "rec", pairs_at("bad", 10, bad=5))
    w, _ = _watcher(tmp_path, fail_on=("status_mismatch_rate > 0.2",))
    w.tick()
    assert w.board.counters.alerts == {"firing": 1, "resolved": 0}
    assert w.board.gauges.fail_on == {"status_mismatch_rate > 0.2": 1}
    write_capture(tmp_path / "rec", pairs_at("ok", 10, minutes=1))
    w.tick()
    assert w.board.counters.alerts == {"firing": 1, "resolved": 0}  # 5/20 still above
    write_capture(tmp_path / "rec", pairs_at("ok2", 20, minutes=2))
    w.tick()
    w.tick()
    assert w.board.counters.alerts == {"firing": 1, "resolved": 1}
    assert w.board.gauges.fail_on == {"status_mismatch_rate > 0.2": 0}


def test_the_cids_index_is_rewritten_at_most_every_five_minutes_and_then_catches_up(tmp_path):
    from analysis.live.publish import INDEX_SECONDS
    from analysis.report import cidindex

    (tmp_path / "rec").mkdir()
    write_capture(tmp_path / "rec", pairs_at("a", 3))
    w, fake = _watcher(tmp_path)
    w.tick()
    live = tmp_path / "reports" / "live"

    def indexed(cid: str) -> bool:
        shards = cidindex.parse_manifest((live / "cids" / "manifest.json").read_bytes(), "m")
        raw = (live / "cids" / cidindex.shard_name(cidindex.shard_of(cid, shards))).read_bytes()
        return bool(cidindex.find_in_shard(raw, cid, "shard"))

    assert indexed("a0")
    write_capture(tmp_path / "rec", pairs_at("b", 2, minutes=1))
    fake.advance(60)
    assert w.tick() is True
    assert read_json(live / "report.json")["summary"]["pairs"] == 5
    assert os.path.islink(live / "cids") and indexed("a0") and not indexed("b0")
    fake.advance(INDEX_SECONDS)
    assert w.tick() is True  # nothing new but the index is due: written now
    assert indexed("b0") and not os.path.islink(live / "cids")
    assert w.tick() is False
