"""How fast one capture record is written and read: orjson (what ships) against stdlib json.

A script, not a test: ``.venv/bin/python benchmarks/record_codec.py [--n 50000]``.
Every collector writes one line per request and every report reads each line
once, so per-record cost bounds the whole pipeline. The baseline is the same
model serialised with the standard library's ``json`` in the same run.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import time

import orjson

from shadowdiff.model.record import CaptureRecord, CaptureRequest, CaptureResponse, encode_body
from shadowdiff.model.validate import record_from_obj


def sample_record(i: int) -> CaptureRecord:
    rng = random.Random(i)
    items = [
        {
            "sku": f"SKU-{rng.randrange(10**6)}",
            "price": rng.random() * 100,
            "name": "".join(rng.choices(string.ascii_letters, k=24)),
        }
        for _ in range(16)
    ]
    raw = orjson.dumps({"id": i, "items": items, "generated_at": "2026-11-25T07:01:02.123Z"})
    body, enc, trunc, size, sha = encode_body(raw)
    return CaptureRecord(
        correlation_id=f"cid-{i:012d}",
        role="shadow",
        captured_at="2026-11-25T07:01:02.123Z",
        deployment="v2",
        request=CaptureRequest("GET", f"/users/{i}", "a=1", {"accept": "application/json"}),
        response=CaptureResponse(
            200, {"content-type": "application/json"}, body, enc, trunc, size, sha
        ),
        latency_ms=12.5,
    )


def bench(label: str, fn, n: int) -> tuple[str, float]:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    elapsed = time.perf_counter() - start
    return label, elapsed / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    args = parser.parse_args()
    record = sample_record(1)
    line = record.to_line()
    stdlib_line = json.dumps(record.to_dict(), ensure_ascii=False).encode() + b"\n"
    rows = [
        bench("write: orjson (shipped)", record.to_line, args.n),
        bench("write: stdlib json", lambda: json.dumps(record.to_dict()).encode() + b"\n", args.n),
        bench(
            "read+validate: orjson (shipped)", lambda: record_from_obj(orjson.loads(line)), args.n
        ),
        bench(
            "read+validate: stdlib json", lambda: record_from_obj(json.loads(stdlib_line)), args.n
        ),
        bench("read only: orjson", lambda: orjson.loads(line), args.n),
        bench("read only: stdlib json", lambda: json.loads(stdlib_line), args.n),
    ]
    assert record_from_obj(orjson.loads(line)) == record
    print(f"capture record codec, {len(line)} bytes per line, {args.n} iterations each\n")
    print(f"| {'operation':34} | {'µs/record':>9} | {'records/s':>10} |")
    print(f"|{'-' * 36}|{'-' * 11}|{'-' * 12}|")
    for label, us in rows:
        print(f"| {label:34} | {us:9.2f} | {1e6 / us:10,.0f} |")
    w = rows[1][1] / rows[0][1]
    r = rows[3][1] / rows[2][1]
    print(f"\norjson is {w:.1f}x faster to write and {r:.1f}x faster to read+validate than stdlib")


if __name__ == "__main__":
    main()
