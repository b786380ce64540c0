"""Pairs that are in no report: looked up in the record source by a partition hint."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from analysis.web.app import create_app
from serve.conftest import settings_for
from serve.reportdata import record, write_records, write_report
from shadowdiff.model.layout import partition_dir

HOUR = datetime(2026, 11, 25, 7, tzinfo=UTC)


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    reports, records = tmp_path / "reports", tmp_path / "records"
    write_report(reports, 25)
    cid = "cid-only-in-records"
    p = {"id": 1, "price": 10, "generated_at": "2026-11-25T07:00:00Z"}
    s = {"id": 1, "price": 11, "generated_at": "2026-11-25T07:00:09Z"}
    write_records(
        records,
        HOUR,
        [
            record(cid, "primary", 200, json.dumps(p)),
            record(cid, "shadow", 200, json.dumps(s)),
            record(cid, "shadow", 200, json.dumps(s)),  # delivered twice
            record("someone-else", "primary", 200, "{}"),
            {"schema": "shadowdiff.capture/1", "correlation_id": cid, "role": "shadow"},
        ],
    )
    # A corrupt file far from the hinted hour: a whole-night scan would trip on it.
    far = records / partition_dir("shadow", datetime(2026, 11, 25, 19, tzinfo=UTC))
    far.mkdir(parents=True)
    (far / "corrupt.jsonl.gz").write_bytes(b"\x1f\x8b not gzip")
    app = create_app(settings_for(reports, records=str(records)))
    return TestClient(app)


def test_a_hinted_pair_comes_from_the_records_with_its_diff(client: TestClient) -> None:
    r = client.get("/api/pairs/cid-only-in-records?dt=2026-11-25&hour=7")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["found_in"] == "records" and body["report_id"] is None
    assert body["endpoint"] == "GET /users/{id}"
    assert body["records"]["secondary"] is None
    assert body["records"]["shadow"]["role"] == "shadow"
    diff = {d["path"]: d for d in body["diff"]}
    assert diff["$.price"]["noise"] is False
    # the report's own noise decision for this endpoint is reused
    assert diff["$.generated_at"]["noise_reason"] == "auto"
    assert body["reasons"] == ["body"]
    page = client.get("/pairs/cid-only-in-records?dt=2026-11-25&hour=7")
    assert page.status_code == 200 and 'id="side-shadow"' in page.text


def test_without_a_hint_the_404_says_how_to_give_one(client: TestClient) -> None:
    r = client.get("/api/pairs/cid-only-in-records")
    assert r.status_code == 404 and "?dt=YYYY-MM-DD&hour=HH" in r.json()["detail"]


def test_a_hint_for_the_wrong_hour_is_a_404_naming_the_partition(client: TestClient) -> None:
    r = client.get("/api/pairs/cid-only-in-records?dt=2026-11-25&hour=3")
    assert r.status_code == 404 and "dt=2026-11-25/hour=03" in r.json()["detail"]


def test_report_pairs_win_over_the_record_source(client: TestClient) -> None:
    body = client.get("/api/pairs/cid-json-25?dt=2026-11-25&hour=7").json()
    assert body["found_in"] == "report"


def test_a_bad_hint_is_a_422(client: TestClient) -> None:
    assert client.get("/api/pairs/x?dt=yesterday&hour=7").status_code == 422
    assert client.get("/api/pairs/x?dt=2026-11-25&hour=24").status_code == 422


def test_an_impossible_day_is_a_404_not_an_error(client: TestClient) -> None:
    r = client.get("/api/pairs/x?dt=2026-02-30&hour=7")
    assert r.status_code == 404 and "2026-02-30" in r.json()["detail"]


def test_a_missing_records_dir_is_refused_at_start(tmp_path: Path) -> None:
    from shadowdiff.model.errors import SourceError

    with pytest.raises(SourceError, match=r"--records .*nowhere"):
        create_app(settings_for(tmp_path, records=str(tmp_path / "nowhere")))


def test_the_report_config_decides_noise_for_record_pairs(
    tmp_path: Path, client: TestClient
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text('ignore:\n  - endpoint: "GET /users/*"\n    paths: ["$.price"]\n')
    settings = settings_for(
        tmp_path / "reports", records=str(tmp_path / "records"), config=str(config)
    )
    body = TestClient(create_app(settings)).get(
        "/api/pairs/cid-only-in-records?dt=2026-11-25&hour=7"
    )
    price = next(d for d in body.json()["diff"] if d["path"] == "$.price")
    assert price["noise"] is True and price["noise_reason"] == "rule"


def test_a_bad_config_is_refused_at_start_naming_the_key(tmp_path: Path) -> None:
    from shadowdiff.model.errors import ConfigError

    config = tmp_path / "config.yaml"
    config.write_text("ignroe: []\n")
    with pytest.raises(ConfigError, match="ignroe"):
        create_app(settings_for(tmp_path, config=str(config)))
