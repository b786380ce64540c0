#!/usr/bin/env python3
"""Benchmark ``shadowdiff canary`` end to end against ``shadowdiff report`` in the same run.

Not a test: it prints a table. It generates N primary records (~2 KB JSON bodies,
the report benchmark's own body generator) split 80/20 between a ``baseline`` and
a ``canary`` deployment (the canary with a few planted 5xx and a retyped field),
as gzip files in the contract layout, and runs ``shadowdiff canary`` on them as a
child process: requests judged per second and peak RSS. In the same run it runs
``shadowdiff report`` on N/2 pairs of the report benchmark (the same N records,
same body shape), so the two rates are measured under the same load.

The machine is shared (2 cores, several engineers): numbers move with load. Run
it under the benchmark lock:

    flock /tmp/shadowdiff-bench.lock .venv/bin/python benchmarks/canary.py             # N = 1M
    flock /tmp/shadowdiff-bench.lock .venv/bin/python benchmarks/canary.py --records 50000
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import multiprocessing
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
RECORDS_PER_FILE = 40_000
CANARY_SHARE = 0.2


def _bench_analysis() -> Any:
    """benchmarks/analysis.py (its module name would shadow the ``analysis`` package)."""
    spec = importlib.util.spec_from_file_location("bench_analysis", HERE / "analysis.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_analysis"] = module  # its pool workers are pickled by module name
    spec.loader.exec_module(module)
    return module


BA = _bench_analysis()


def _record(cid: str, arm: str, i: int, rng: random.Random) -> bytes:
    when = BA.T0 + timedelta(seconds=i * 0.05)
    body = BA.make_body(rng, i)
    status, latency = 200, rng.uniform(8, 30)
    if arm == "canary":
        body["total"] = str(body["total"])  # retyped: a schema finding on every endpoint
        if rng.random() < 0.03:
            status, body = 500, {"error": "internal"}
    path = f"/orders/{i % 5000}" if i % 3 else f"/users/{i % 977}/cart"
    return orjson.dumps(
        {
            "schema": "shadowdiff.capture/1",
            "correlation_id": cid,
            "role": "primary",
            "captured_at": BA._ts(when),
            "deployment": arm,
            "request": {"method": "GET", "path": path, "query": "", "headers": {}, "body": None},
            "response": {
                "status": status,
                "headers": {"content-type": "application/json"},
                "body": orjson.dumps(body).decode(),
                "body_size": 0,
                "body_sha256": "",
            },
            "latency_ms": latency,
            "error": None,
        }
    )


def _write_file(args: tuple[str, int, int, int]) -> None:
    root, start, stop, seed = args
    rng = random.Random(seed)
    at = BA.T0 + timedelta(seconds=start * 0.05)
    d = Path(root) / "role=primary" / f"dt={at:%Y-%m-%d}" / f"hour={at:%H}"
    d.mkdir(parents=True, exist_ok=True)
    with gzip.open(d / f"part-{start:09d}.jsonl.gz", "wb", compresslevel=1) as fh:
        for i in range(start, stop):
            arm = "canary" if rng.random() < CANARY_SHARE else "baseline"
            fh.write(_record(uuid.UUID(int=rng.getrandbits(128)).hex, arm, i, rng) + b"\n")


def generate(root: Path, n: int) -> None:
    if (root / ".complete").exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    chunks = [
        (str(root), a, min(n, a + RECORDS_PER_FILE), a) for a in range(0, n, RECORDS_PER_FILE)
    ]
    with multiprocessing.Pool(2) as pool:
        pool.map(_write_file, chunks)
    (root / ".complete").touch()


def run_cli(argv: list[str], out: Path) -> tuple[float, int, float]:
    """(seconds, peak RSS of the process tree, CPU seconds) of one shadowdiff command."""
    shutil.rmtree(out, ignore_errors=True)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("shadowdiff")), *argv, "--out", str(out)],
        stdout=subprocess.DEVNULL,
    )
    peak, stop = 0, threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, BA._tree_rss(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    rc = proc.wait()
    elapsed = time.perf_counter() - start
    stop.set()
    sampler.join()
    if rc not in (0, 3, 4):
        raise SystemExit(f"shadowdiff {argv[0]} exited {rc}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, peak, usage.ru_utime + usage.ru_stime - cpu0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000, help="canary records (N)")
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "shadowdiff-bench-canary"))
    args = ap.parse_args()
    base, n = Path(args.dir), args.records
    print(f"machine: {os.cpu_count()} cores, shared; load average {os.getloadavg()[0]:.2f}")
    t0 = time.perf_counter()
    generate(base / f"canary-n{n}", n)
    BA.generate(base / f"pairs-n{n // 2}", n // 2)
    print(f"  (data ready in {time.perf_counter() - t0:.0f}s)", flush=True)
    rows = []
    secs, peak, cpu = run_cli(
        ["report", "--records", str(base / f"pairs-n{n // 2}")], base / "out-r"
    )
    rows.append(("shadowdiff report (pairs)", n // 2, n, secs, peak, cpu))
    secs, peak, cpu = run_cli(["canary", "--records", str(base / f"canary-n{n}")], base / "out-c")
    rows.append(("shadowdiff canary (requests)", n, n, secs, peak, cpu))
    verdict = orjson.loads((base / "out-c" / "canary.json").read_bytes())
    print()
    print(
        f"| {'what':<30} | {'units':>9} | {'records':>9} | {'wall s':>7} | {'units/s':>8} "
        f"| {'records/s':>9} | {'CPU s':>7} | {'peak RSS tree':>13} |"
    )
    print(
        f"|{'-' * 32}|{'-' * 10}:|{'-' * 10}:|{'-' * 8}:|{'-' * 9}:|{'-' * 10}:|{'-' * 8}:|{'-' * 14}:|"
    )
    for what, units, records, secs, peak, cpu in rows:
        print(
            f"| {what:<30} | {units:>9,} | {records:>9,} | {secs:>7.1f} | {units / secs:>8,.0f} "
            f"| {records / secs:>9,.0f} | {cpu:>7.1f} | {peak / 2**20:>9.0f} MiB |"
        )
    report_rate, canary_rate = rows[0][1] / rows[0][3], rows[1][1] / rows[1][3]
    print(
        f"\ncanary requests/s ÷ report pairs/s = {canary_rate / report_rate:.2f} "
        f"(a pair is two records; per record: {canary_rate / (2 * report_rate):.2f})"
    )
    print(
        f"verdict: {verdict['verdict']}; {len(verdict['reasons'])} reasons, e.g. {verdict['reasons'][0]}"
    )


if __name__ == "__main__":
    main()
