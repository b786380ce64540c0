"""Any pair by correlation id, without a hint: the report's ``cids/`` index names the hours.

These folders are hand-made (the index written with the report module's own
writer); ``test_pairs_index_real.py`` runs the real ``shadowdiff report``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from analysis.report import cidindex
from analysis.web.app import create_app
from serve.conftest import report_id, settings_for
from serve.reportdata import record, write_records, write_report
from shadowdiff.model.layout import partition_dir

HOUR = datetime(2026, 11, 25, 7, 12, tzinfo=UTC)
CID = "cid-beyond-the-examples"


def _root(tmp_path: Path, sources: dict[str, str]) -> Path:
    reports, records = tmp_path / "reports", tmp_path / "records"
    folder = write_report(reports, 25)
    data = json.loads((folder / "report.json").read_text())
    data["sources"] = sources
    (folder / "report.json").write_text(json.dumps(data))
    p = {"id": 1, "price": 10}
    write_records(
        records,
        HOUR,
        [record(CID, "primary", 200, json.dumps(p)), record(CID, "shadow", 500, json.dumps(p))],
    )
    parts = sorted(str(f) for f in records.rglob("*.jsonl.gz"))  # primary, then shadow
    entries = [(CID, "primary", HOUR, 0), (CID, "shadow", HOUR, 1), ("other", "primary", HOUR, 0)]
    cidindex.write_index(folder / "cids", entries, shards=3, parts=parts)
    # A corrupt file in another hour: reading a whole night would trip on it.
    far = records / partition_dir("shadow", datetime(2026, 11, 25, 19, tzinfo=UTC))
    far.mkdir(parents=True)
    (far / "corrupt.jsonl.gz").write_bytes(b"\x1f\x8b not gzip")
    return reports


def test_an_indexed_pair_is_read_from_the_reports_own_source(tmp_path: Path) -> None:
    reports = _root(tmp_path, {"records": str(tmp_path / "records")})
    c = TestClient(create_app(settings_for(reports)))
    r = c.get(f"/api/pairs/{CID}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["found_in"] == "index" and body["report_id"] == report_id(25)
    assert body["records"]["primary"]["correlation_id"] == CID
    assert body["reasons"] == ["status"]
    page = c.get(f"/pairs/{CID}")
    assert page.status_code == 200 and "correlation index" in page.text


def test_only_the_indexed_part_of_the_hour_is_opened(tmp_path: Path) -> None:
    reports = _root(tmp_path, {"records": str(tmp_path / "records")})
    same_hour = tmp_path / "records" / partition_dir("shadow", HOUR) / "zz-corrupt.jsonl.gz"
    same_hour.write_bytes(b"\x1f\x8b not gzip")
    r = TestClient(create_app(settings_for(reports))).get(f"/api/pairs/{CID}")
    assert r.status_code == 200, r.text


def test_an_index_without_parts_reads_the_hours_it_names(tmp_path: Path) -> None:
    reports = _root(tmp_path, {"records": str(tmp_path / "records")})
    entries = [(CID, "primary", HOUR, None), (CID, "shadow", HOUR, None)]
    cidindex.write_index(reports / "night-025" / "cids", entries, shards=1)
    for old in (reports / "night-025" / "cids").glob("000[12].tsv.gz"):
        old.unlink()
    r = TestClient(create_app(settings_for(reports))).get(f"/api/pairs/{CID}")
    assert r.status_code == 200, r.text
    assert r.json()["records"]["shadow"]["role"] == "shadow"


def test_records_flag_wins_over_the_sources_the_report_names(tmp_path: Path) -> None:
    reports = _root(tmp_path, {"records": str(tmp_path / "moved-away")})
    c = TestClient(create_app(settings_for(reports, records=str(tmp_path / "records"))))
    r = c.get(f"/api/pairs/{CID}")
    assert r.status_code == 200, r.text
    assert r.json()["found_in"] == "index"


def test_per_role_sources_of_a_report_are_each_read(tmp_path: Path) -> None:
    rec = str(tmp_path / "records")
    reports = _root(tmp_path, {"primary": rec, "shadow": rec})
    body = TestClient(create_app(settings_for(reports))).get(f"/api/pairs/{CID}").json()
    assert body["records"]["primary"]["role"] == "primary"
    assert body["records"]["shadow"]["role"] == "shadow"


def test_without_a_reachable_record_source_the_404_says_so(tmp_path: Path) -> None:
    reports = _root(tmp_path, {"records": str(tmp_path / "moved-away")})
    r = TestClient(create_app(settings_for(reports))).get(f"/api/pairs/{CID}")
    assert r.status_code == 404
    detail = r.json()["detail"]
    assert CID in detail and "no record source is reachable" in detail
    assert "moved-away" in detail


def test_an_indexed_id_whose_records_are_gone_is_a_404_naming_the_hour(tmp_path: Path) -> None:
    reports = _root(tmp_path, {"records": str(tmp_path / "records")})
    r = TestClient(create_app(settings_for(reports))).get("/api/pairs/other")
    assert r.status_code == 404
    assert "2026-11-25T07" in r.json()["detail"] and "records" in r.json()["detail"]


@pytest.mark.parametrize("path", ["/api/pairs/nobody-has-this", "/pairs/nobody-has-this"])
def test_an_id_in_no_report_is_a_404_naming_it(tmp_path: Path, path: str) -> None:
    reports = _root(tmp_path, {"records": str(tmp_path / "records")})
    r = TestClient(create_app(settings_for(reports))).get(path)
    assert r.status_code == 404 and "nobody-has-this" in r.text


def test_a_broken_index_is_skipped_not_a_500(tmp_path: Path) -> None:
    reports = _root(tmp_path, {"records": str(tmp_path / "records")})
    for shard in (reports / "night-025" / "cids").glob("*.tsv.gz"):
        shard.write_bytes(b"junk")
    r = TestClient(create_app(settings_for(reports))).get(f"/api/pairs/{CID}")
    assert r.status_code == 404 and CID in r.json()["detail"]


@pytest.mark.parametrize("query", ["", "?dt=2026-11-25&hour=7"])
def test_a_report_whose_source_is_gone_is_passed_over(tmp_path: Path, query: str) -> None:
    reports = _root(tmp_path, {"records": str(tmp_path / "records")})
    newer = write_report(reports, 26)  # holds the id too, but its source is gone
    cidindex.write_index(newer / "cids", [(CID, "primary", HOUR, None)], shards=2)
    r = TestClient(create_app(settings_for(reports))).get(f"/api/pairs/{CID}{query}")
    assert r.status_code == 200, r.text
    assert r.json()["found_in"] == "index" and r.json()["report_id"] == report_id(25)
