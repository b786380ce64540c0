"""CloudFront standard logs read with pandas: the same records as the line reader gave."""

from __future__ import annotations

import gzip

import orjson
import pytest

from analysis.sources import cloudfront, iter_lines, open_source
from shadowdiff.model.errors import SourceError

FIELDS = (
    "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status "
    "cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id "
    "x-host-header cs-protocol cs-bytes time-taken"
)
HEADER = f"#Version: 1.0\n#Fields: {FIELDS}\n".encode()


def row(
    cid: str,
    status: str = "200",
    secs: str = "0.010",
    query: str = "-",
    path: str = "/u/7",
    time: str = "10:00:00",
) -> bytes:
    cols = ["2026-11-25", time, "FRA2", "1", "1.2.3.4", "GET", "d1", path, status, "-", "ua"]
    cols += [query, "-", "Miss", cid, "example.com", "https", "1", secs]
    return "\t".join(cols).encode() + b"\n"


def records(tmp_path, data: bytes, name: str = "E2X.2026-11-25-10.abcd.gz") -> list[dict]:
    path = tmp_path / name
    path.write_bytes(gzip.compress(data))
    (part,) = open_source(str(path), "primary").parts(None, None)
    return [orjson.loads(line) for line in iter_lines(part)]


def test_rows_become_primary_records_with_status_latency_and_request(tmp_path):
    got = records(tmp_path, HEADER + row("a", query="q=1&b=%20", time="10:00:00.5") + b"\n")
    assert got == [
        {
            "schema": "shadowdiff.capture/1",
            "correlation_id": "a",
            "role": "primary",
            "captured_at": "2026-11-25T10:00:00.5Z",
            "deployment": "cloudfront",
            "request": {"method": "GET", "path": "/u/7", "query": "q=1&b=%20"},
            "response": {"status": 200, "headers": {}, "body": None, "body_size": 0},
            "latency_ms": 10.0,
            "error": None,
            "_shadowdiff_cloudfront": True,
        }
    ]


def test_odd_rows_keep_the_line_readers_meaning(tmp_path):
    data = (
        HEADER
        + row("b", status="-", secs="x")
        + row("c", status="000").replace(b"\n", b"\r\n")
        + b"2026-11-25\t10:00:01\tshort\n"
        + row("w").replace(b"\n", b"\textra\tcolumns\n")
        + row("u", path="/caf\xc3\xa9/\xff".encode("latin-1").decode("latin-1"))
    )
    got = {r["correlation_id"]: r for r in records(tmp_path, data)}
    assert got["b"]["response"] is None and got["b"]["latency_ms"] is None
    assert got["b"]["error"] == {"kind": "other", "message": "CloudFront sc-status -"}
    assert got["c"]["error"]["message"] == "CloudFront sc-status 000"
    assert got[""]["request"] == {"method": "-", "path": "-", "query": ""}  # a short row
    assert got["w"]["latency_ms"] == 10.0  # a wider row is cut at #Fields
    assert got["u"]["response"]["status"] == 200


def test_invalid_utf8_is_replaced_not_fatal(tmp_path):
    (r,) = records(tmp_path, HEADER + row("x").replace(b"/u/7", b"/caf\xff"))
    assert r["request"]["path"] == "/caf\ufffd"


def test_concatenated_logs_switch_to_each_fields_header(tmp_path):
    second = b"#Version: 1.0\n#Fields: x-edge-request-id sc-status time-taken cs-method\n"
    data = HEADER + row("a") + second + b"e\t503\t1.5\tPOST\n"
    got = records(tmp_path, data)
    assert [(r["correlation_id"], r["request"]["method"]) for r in got] == [
        ("a", "GET"),
        ("e", "POST"),
    ]
    assert got[1]["response"]["status"] == 503 and got[1]["latency_ms"] == 1500.0


def test_large_logs_are_read_in_chunks_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(cloudfront, "CHUNK_ROWS", 7)
    got = records(tmp_path, HEADER + b"".join(row(f"r{i}") for i in range(50)))
    assert [r["correlation_id"] for r in got] == [f"r{i}" for i in range(50)]


def test_a_truncated_log_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "E2X.2026-11-25-10.cut.gz"
    path.write_bytes(gzip.compress(HEADER + b"".join(row(f"r{i}") for i in range(2000)))[:-40])
    (part,) = open_source(str(path), "primary").parts(None, None)
    with pytest.raises(SourceError, match=r"E2X\.2026-11-25-10\.cut\.gz"):
        list(iter_lines(part))
