"""Latency of the report service with a year of reports and a million records.

A script, not a test::

    .venv/bin/python benchmarks/serve.py [--reports 365] [--records 1000000] [--n 200]

Builds, in a temp dir, ``--reports`` nightly report folders (report.json,
report.html, report.md, pairs.jsonl.gz; 12 endpoints and 60 example pairs
each) and ``--records`` capture records for one night in the contract layout
(``role=/dt=/hour=/*.jsonl.gz``, primary and shadow), starts the real
``shadowdiff serve`` on a free loopback port and times sequential requests
with one keep-alive client: the index, ``/api/reports``, pair pages from the
reports' own ``pairs.jsonl.gz``, pair pages of ids that are in no example but in
the reports' ``cids/`` correlation index (no hint: the index names the hour and
the one part to open), and pair pages from the record source with a partition
hint. Targets: index p95 <= 100 ms, pair page p95 <= 300 ms.

The baseline, in the same run and in-process (no HTTP, which favours it): a
naive index that re-reads and parses every report.json per request, and a
naive pair lookup that scans the whole night of records for the id.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# benchmarks/analysis.py would shadow the ``analysis`` package (sys.path[0] is this
# script's directory): drop that directory before importing anything of ours.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import httpx  # noqa: E402
import orjson  # noqa: E402

from shadowdiff.model.layout import partition_dir  # noqa: E402
from shadowdiff.model.record import (  # noqa: E402
    CaptureRecord,
    CaptureRequest,
    CaptureResponse,
    encode_body,
)

DAY = "2026-11-25"
ENDPOINTS = [f"GET /api/v1/thing{i}/{{id}}" for i in range(12)]
FILES_PER_HOUR = 4


def _record(cid: str, role: str, hour: int, price: int) -> dict:
    body = orjson.dumps(
        {
            "id": 42,
            "items": [{"sku": f"S{i}", "price": price + i} for i in range(8)],
            "generated_at": f"{DAY}T{hour:02d}:00:00Z",
        }
    )
    text, enc, trunc, size, sha = encode_body(body)
    return CaptureRecord(
        correlation_id=cid,
        role=role,  # type: ignore[arg-type]
        captured_at=f"{DAY}T{hour:02d}:15:00.000Z",
        deployment=role,
        request=CaptureRequest("GET", "/api/v1/thing3/42", "a=1", {"accept": "application/json"}),
        response=CaptureResponse(
            200, {"content-type": "application/json"}, text, enc, trunc, size, sha
        ),
        latency_ms=12.5,
    ).to_dict()


def write_records(root: Path, total: int) -> int:
    """``total`` records, half primary and half shadow, spread over 24 hours; returns files."""
    per_role_hour = total // 2 // 24
    files = 0
    for role, price in (("primary", 10), ("shadow", 11)):
        for hour in range(24):
            line = orjson.dumps(_record("@CID@", role, hour, price)) + b"\n"
            head, tail = line.split(b"@CID@")
            d = root / partition_dir(role, __import__("datetime").datetime(2026, 11, 25, hour))
            d.mkdir(parents=True, exist_ok=True)
            chunk = -(-per_role_hour // FILES_PER_HOUR)
            for f in range(FILES_PER_HOUR):
                lo, hi = f * chunk, min(per_role_hour, (f + 1) * chunk)
                data = b"".join(head + b"c%02d-%07d" % (hour, i) + tail for i in range(lo, hi))
                (d / f"part-{f}.jsonl.gz").write_bytes(gzip.compress(data, compresslevel=1))
                files += 1
    return files


def write_cid_index(root: Path, records: Path, total: int, shards: int = 32) -> Path:
    """The ``cids/`` index of the night ``write_records`` wrote, as ``shadowdiff report`` would."""
    from datetime import UTC, datetime

    from analysis.report import cidindex

    per_role_hour = total // 2 // 24
    chunk = -(-per_role_hour // FILES_PER_HOUR)
    parts: list[str] = []
    lines: list[list[bytes]] = [[] for _ in range(shards)]
    for role in ("primary", "shadow"):
        for hour in range(24):
            moment = datetime(2026, 11, 25, hour, 15, tzinfo=UTC)
            d = records / partition_dir(role, datetime(2026, 11, 25, hour))
            for f in range(FILES_PER_HOUR):
                parts.append(str(d / f"part-{f}.jsonl.gz"))
                for i in range(f * chunk, min(per_role_hour, (f + 1) * chunk)):
                    cid = f"c{hour:02d}-{i:07d}"
                    lines[cidindex.shard_of(cid, shards)].append(
                        cidindex.entry(cid, role, moment, len(parts) - 1)
                    )
    root.mkdir(parents=True)
    for shard, shard_lines in enumerate(lines):
        cidindex.write_shard(root, shard, shard_lines)
    cidindex.write_parts(root, parts)
    cidindex.write_manifest(root, shards)
    return root


def link_index(index: Path, reports: Path) -> None:
    """Every report folder gets the same index (hard links: one night's records serve all)."""
    for folder in reports.iterdir():
        (folder / "cids").mkdir()
        for f in index.iterdir():
            os.link(f, folder / "cids" / f.name)


def write_reports(root: Path, nights: int) -> list[tuple[str, str]]:
    """``nights`` report folders; returns (report id, correlation id) of every example pair."""
    examples = []
    pair_template = orjson.dumps(
        {
            "primary": _record("@CID@", "primary", 7, 10),
            "shadow": _record("@CID@", "shadow", 7, 11),
            "secondary": None,
        }
    )
    for n in range(nights):
        day = time.strftime(
            "%Y-%m-%d", time.gmtime(1732492800 - (nights - 1 - n) * 86400 + 366 * 86400)
        )
        rid = f"{day}T00-00Z_{n:04d}"
        endpoints, lines = [], []
        for e, name in enumerate(ENDPOINTS):
            cids = [f"r{n:04d}-e{e:02d}-{k}" for k in range(5)]
            examples += [(rid, c) for c in cids]
            endpoints.append(
                {
                    "endpoint": name,
                    "pairs": 4000,
                    "status": {
                        "mismatches": n % 7,
                        "matrix": {"200->200": 3990, "200->500": n % 7},
                    },
                    "latency_ms": {
                        "primary": {"p50": 10.0, "p90": 20.0, "p99": 40.0},
                        "shadow": {"p50": 11.0, "p90": 21.0, "p99": 44.0},
                        "p_value": 0.2,
                        "verdict": ("same", "slower", "faster")[(n + e) % 3],
                    },
                    "body": {
                        "compared": 3990,
                        "mismatches": n % 11,
                        "fields": [
                            {
                                "path": f"$.items[*].f{k}",
                                "kind": "changed",
                                "count": k,
                                "rate": k / 3990,
                                "noise": k == 0,
                                "noise_reason": "auto" if k == 0 else None,
                            }
                            for k in range(8)
                        ],
                    },
                    "examples": [{"correlation_id": c, "reason": "body"} for c in cids],
                }
            )
            for c in cids:
                records = pair_template.replace(b"@CID@", c.encode())
                lines.append(
                    b'{"correlation_id":"%s","endpoint":"%s","reasons":["body"],"records":%s,'
                    b'"diff":[{"path":"$.items[*].price","kind":"changed","primary":10,'
                    b'"shadow":11,"noise":false,"noise_reason":null}]}\n'
                    % (c.encode(), name.encode(), records)
                )
        report = {
            "schema": "shadowdiff.report/1",
            "id": rid,
            "generated_at": f"{day}T01:00:00.000Z",
            "window": {"start": f"{day}T00:00:00.000Z", "end": f"{day}T23:59:59.999Z"},
            "sources": {"records": "bench"},
            "summary": {
                "primary_records": 48000,
                "shadow_records": 48000,
                "secondary_records": 0,
                "pairs": 48000,
                "primary_only": 3,
                "shadow_only": 2,
                "duplicates": 9,
                "invalid_records": 0,
                "status_mismatches": 12 * (n % 7),
                "body_mismatches": 12 * (n % 11),
                "shadow_errors": 1,
            },
            "endpoints": endpoints,
        }
        d = root / f"night-{n:04d}"
        d.mkdir(parents=True)
        (d / "report.json").write_bytes(orjson.dumps(report))
        (d / "report.html").write_text(f"<h1>{rid}</h1>")
        (d / "report.md").write_text(f"# {rid}\n")
        (d / "pairs.jsonl.gz").write_bytes(gzip.compress(b"".join(lines), compresslevel=1))
    return examples


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def row(name: str, ms: list[float], target: str = "") -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"| {name} | {len(ms)} | {statistics.median(ms):.1f} | {p95:.1f} | {ms[-1]:.1f} | {target} |"


def naive_index(root: Path) -> None:
    from analysis.web.present import report_row
    from analysis.web.render import Renderer

    rows = []
    for d in sorted(root.iterdir()):
        try:
            rows.append(report_row(orjson.loads((d / "report.json").read_bytes())))
        except (OSError, orjson.JSONDecodeError):
            continue
    rows.sort(key=lambda r: r["generated_at"], reverse=True)
    Renderer().html("index.html.j2", rows=rows, root=str(root), trend="", verdicts="")


def naive_pair(records: Path, cid: str) -> int:
    needle, found = f'"{cid}"'.encode(), 0
    for path in records.rglob("*.jsonl.gz"):
        for line in gzip.decompress(path.read_bytes()).splitlines():
            if needle in line:
                orjson.loads(line)
                found += 1
    return found


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=365)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--n", type=int, default=200, help="requests per measured route")
    ap.add_argument("--naive-pairs", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="shadowdiff-bench-serve-") as tmp:
        reports, records = Path(tmp) / "reports", Path(tmp) / "records"
        t = time.perf_counter()
        examples = write_reports(reports, args.reports)
        t_rep = time.perf_counter() - t
        t = time.perf_counter()
        files = write_records(records, args.records)
        t_rec = time.perf_counter() - t
        size = sum(p.stat().st_size for p in records.rglob("*.gz")) / 2**20
        t = time.perf_counter()
        index = write_cid_index(Path(tmp) / "cids", records, args.records)
        link_index(index, reports)
        t_idx = time.perf_counter() - t
        isize = sum(p.stat().st_size for p in index.iterdir()) / 2**20
        print(
            f"generated {args.reports} report folders in {t_rep:.1f} s; "
            f"{args.records:,} records in {files} files ({size:.0f} MiB gzip) in {t_rec:.1f} s; "
            f"cids/ index {isize:.1f} MiB in {t_idx:.1f} s (linked into every report)"
        )

        port = __import__("socket").create_server(("127.0.0.1", 0))
        number = port.getsockname()[1]
        port.close()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shadowdiff",
                "serve",
                "--reports",
                str(reports),
                "--records",
                str(records),
                "--port",
                str(number),
            ],
            env=dict(os.environ, SHADOWDIFF_TOKEN="bench-token"),
            stdout=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{number}"
        results = []
        try:
            with httpx.Client(
                base_url=base, timeout=120, headers={"Authorization": "Bearer bench-token"}
            ) as c:
                for _ in range(200):
                    try:
                        if c.get("/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                first = timed(lambda: c.get("/").raise_for_status(), 1)
                results.append(
                    row(f"index `/`, first request (parses {args.reports} report.json)", first)
                )
                results.append(
                    row(
                        "index `/`",
                        timed(lambda: c.get("/").raise_for_status(), args.n),
                        "p95 <= 100 ms",
                    )
                )
                results.append(
                    row(
                        "`/api/reports`",
                        timed(lambda: c.get("/api/reports").raise_for_status(), args.n),
                    )
                )
                rid, _cid = examples[-1]
                results.append(
                    row(
                        "report page `/reports/{id}`",
                        timed(lambda: c.get(f"/reports/{rid}").raise_for_status(), args.n),
                    )
                )
                picks = iter([rng.choice(examples) for _ in range(args.n)])
                cold = timed(lambda: c.get("/pairs/no-such-cid").status_code, 1)
                results.append(row("pair page, unknown id, first (indexes every pairs file)", cold))
                results.append(
                    row(
                        "pair page `/pairs/{cid}`, random report (LRU miss mostly)",
                        timed(lambda: c.get(f"/pairs/{next(picks)[1]}").raise_for_status(), args.n),
                        "p95 <= 300 ms",
                    )
                )
                picks = iter([rng.choice(examples) for _ in range(args.n)])
                results.append(
                    row(
                        "pair page `?report=` hint",
                        timed(
                            lambda: (lambda p: c.get(f"/pairs/{p[1]}?report={p[0]}"))(
                                next(picks)
                            ).raise_for_status(),
                            args.n,
                        ),
                        "p95 <= 300 ms",
                    )
                )
                any_cids = iter(
                    [
                        f"c{rng.randrange(24):02d}-{rng.randrange(args.records // 48):07d}"
                        for _ in range(args.n + 1)
                    ]
                )
                results.append(
                    row(
                        "pair page, any id via the newest report's `cids/` index, first",
                        timed(lambda: c.get(f"/pairs/{next(any_cids)}").raise_for_status(), 1),
                    )
                )
                results.append(
                    row(
                        "pair page, any id via `cids/` index (no hint; shard + one part)",
                        timed(lambda: c.get(f"/pairs/{next(any_cids)}").raise_for_status(), args.n),
                        "p95 <= 300 ms",
                    )
                )
                results.append(
                    row(
                        f"pair page, id in no report (one shard in each of {args.reports} indexes)",
                        timed(lambda: c.get("/pairs/c99-nobody").status_code, 5),
                    )
                )
                hour_cids = iter(
                    [f"c07-{rng.randrange(args.records // 48):07d}" for _ in range(args.n + 1)]
                )
                results.append(
                    row(
                        "pair page, record source `?dt=&hour=`, first in hour (indexes 3 h)",
                        timed(
                            lambda: c.get(
                                f"/pairs/{next(hour_cids)}?dt={DAY}&hour=7"
                            ).raise_for_status(),
                            1,
                        ),
                    )
                )
                results.append(
                    row(
                        "pair page, record source `?dt=&hour=`, warm hour",
                        timed(
                            lambda: c.get(
                                f"/pairs/{next(hour_cids)}?dt={DAY}&hour=7"
                            ).raise_for_status(),
                            min(args.n, 50),
                        ),
                        "p95 <= 300 ms",
                    )
                )
            rss = rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        results.append(
            row(
                "baseline: naive index (re-read every report.json, in-process)",
                timed(lambda: naive_index(reports), 20),
            )
        )
        results.append(
            row(
                "baseline: naive pair (scan the whole night, in-process)",
                timed(
                    lambda: naive_pair(records, f"c07-{rng.randrange(1000):07d}"), args.naive_pairs
                ),
            )
        )
    print(
        f"server RSS after the run: {rss:.0f} MiB; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    print()
    print("| route | requests | p50 ms | p95 ms | max ms | target |")
    print("|---|---|---|---|---|---|")
    print("\n".join(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
