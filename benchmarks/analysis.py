#!/usr/bin/env python3
"""Benchmark ``shadowdiff report`` end to end, from gzip files to the report folder.

Not a test: it prints a table. For each N it generates N pairs of ~2 KB JSON
bodies (5 % divergent; a timestamp and a request UUID that differ in every
body, i.e. noise) as gzip files in the contract layout, runs the report
command as a child process with its own ``--work-dir`` and reports, beside
each other in the same run:

- pairs/s and pairs per CPU-second, peak RSS (the sum over the command's
  process tree, sampled every 0.1 s), the work-dir's peak bytes (the spill)
  and the input's size on disk;
- the naive reference — a pandas frame of every record in memory and deepdiff
  on every pair — timed at a small N (it does a few hundred pairs/s);
- the read floor — gunzip and orjson-decode every line in one process, nothing
  else — which no report can beat per CPU-second.

With ``--explain`` the requests carry what ``explain`` reads (a query with a
currency, a page and a search term that is new in almost every request, the
accept, accept-language and user-agent headers, and a divergence that only
``accept-language: de`` requests get), and the report runs on the same data
with explain off (``explain: {sample: 0}``) and on (the default), alternating,
``--repeat`` times each: explain's cost is the difference.

Targets: >= 5x the naive reference at 100k pairs; >= 40,000 pairs/s on 2 cores
at 1M; work-dir peak <= 1.5x the input on disk; peak RSS <= 1 GiB. The machine
is shared (2 cores, several engineers): numbers move with load.

    .venv/bin/python benchmarks/analysis.py                 # N = 100k and 1M, baseline 2k
    .venv/bin/python benchmarks/analysis.py --sizes 20000   # quick
    .venv/bin/python benchmarks/analysis.py --explain       # explain off vs on
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

T0 = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
PAIRS_PER_FILE = 20_000
DIVERGENT = 0.05


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def make_body(rng: random.Random, i: int) -> dict:
    items = [
        {
            "sku": f"SKU-{rng.randrange(10**6):06d}",
            "name": rng.choice(["lamp", "chair", "table", "desk", "shelf"]) + f" model {j}",
            "price": round(rng.uniform(1, 500), 2),
            "qty": rng.randrange(1, 9),
            "in_stock": rng.random() > 0.2,
            "tags": rng.sample(["new", "sale", "eco", "wood", "metal", "gift"], 3),
            "dims": {
                "w": rng.randrange(10, 200),
                "h": rng.randrange(10, 200),
                "d": rng.randrange(10, 90),
            },
        }
        for j in range(9)
    ]
    return {
        "id": i,
        "user": {
            "id": rng.randrange(10**6),
            "name": f"user {i}",
            "email": f"u{i}@example.com",
            "tier": "gold",
        },
        "items": items,
        "total": round(sum(it["price"] * it["qty"] for it in items), 2),
        "currency": "EUR",
        "links": {"self": f"/orders/{i}", "next": f"/orders/{i + 1}"},
    }


def _diverge(rng: random.Random, body: dict) -> None:
    kind = rng.randrange(3)
    if kind == 0:
        body["items"][rng.randrange(9)]["price"] = round(body["items"][0]["price"] + 1.0, 2)
    elif kind == 1:
        del body["user"]["tier"]
    else:
        body["total"] = str(body["total"])


def _request(rng: random.Random | None, path: str) -> dict:
    """What explain reads (with ``rng``): a query, three headers; else a bare GET."""
    if rng is None:
        return {"method": "GET", "path": path, "query": "", "headers": {}, "body": None}
    query = (
        f"currency={rng.choice(['EUR', 'USD', 'GBP'])}&page={rng.randrange(1, 30)}"
        f"&q={rng.choice(['lamp', 'oak', 'desk'])}+{rng.randrange(10**7)}"
    )
    headers = {
        "accept": "application/json",
        "accept-language": "de-DE" if rng.random() < 0.03 else rng.choice(["en-US", "fr-FR"]),
        "user-agent": f"Mozilla/5.0 (X11; Linux x86_64) shop-app/{rng.randrange(40)}",
    }
    return {"method": "GET", "path": path, "query": query, "headers": headers, "body": None}


def _record(cid: str, role: str, at: datetime, request: dict, body: dict, latency: float) -> bytes:
    return orjson.dumps(
        {
            "schema": "shadowdiff.capture/1",
            "correlation_id": cid,
            "role": role,
            "captured_at": _ts(at),
            "deployment": role,
            "request": request,
            "response": {
                "status": 200,
                "headers": {"content-type": "application/json"},
                "body": orjson.dumps(body).decode(),
                "body_size": 0,
                "body_sha256": "",
            },
            "latency_ms": latency,
            "error": None,
        }
    )


def make_pair(
    rng: random.Random, i: int, when: datetime, attributes: bool = False
) -> tuple[bytes, bytes]:
    """Pair ``i`` captured at ``when``: the primary and shadow lines (newline-terminated).

    With ``attributes`` the request carries a query and headers, and an
    ``accept-language: de-DE`` divergence is planted for explain to find.
    """
    cid = uuid.UUID(int=rng.getrandbits(128)).hex
    body = make_body(rng, i)
    path = f"/orders/{i % 5000}" if i % 3 else f"/users/{i % 977}/cart"
    request = _request(rng if attributes else None, path)
    p = dict(body, generated_at=_ts(when), request_id=str(uuid.UUID(int=rng.getrandbits(128))))
    s = orjson.loads(orjson.dumps(body))
    if rng.random() < DIVERGENT:
        _diverge(rng, s)
    if attributes and request["headers"]["accept-language"] == "de-DE":
        s["links"]["next"] = None  # the divergence explain should pin on the header
    s.update(
        generated_at=_ts(when + timedelta(milliseconds=7)),
        request_id=str(uuid.UUID(int=rng.getrandbits(128))),
    )
    return (
        _record(cid, "primary", when, request, p, rng.uniform(8, 30)) + b"\n",
        _record(cid, "shadow", when, request, s, rng.uniform(8, 31)) + b"\n",
    )


def _write_file(args: tuple[str, int, int, int, bool]) -> None:
    root, start, stop, seed, attributes = args
    rng = random.Random(seed)
    at = T0 + timedelta(seconds=start * 0.05)
    hour_dir = f"dt={at:%Y-%m-%d}/hour={at:%H}"
    outs = {}
    for role in ("primary", "shadow"):
        d = Path(root) / f"role={role}" / hour_dir
        d.mkdir(parents=True, exist_ok=True)
        outs[role] = gzip.open(d / f"part-{start:09d}.jsonl.gz", "wb", compresslevel=1)  # noqa: SIM115
    for i in range(start, stop):
        primary, shadow = make_pair(rng, i, T0 + timedelta(seconds=i * 0.05), attributes)
        outs["primary"].write(primary)
        outs["shadow"].write(shadow)
    for fh in outs.values():
        fh.close()


def generate(root: Path, n: int, attributes: bool = False) -> None:
    if (root / ".complete").exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    chunks = [
        (str(root), a, min(n, a + PAIRS_PER_FILE), a, attributes)
        for a in range(0, n, PAIRS_PER_FILE)
    ]
    with multiprocessing.Pool(2) as pool:
        pool.map(_write_file, chunks)
    (root / ".complete").touch()


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


@dataclass
class Run:
    """One ``shadowdiff report`` run, measured from outside."""

    seconds: float
    peak_rss: int  # the command's process tree, sampled every 0.1 s
    max_rss: int  # the largest single process (getrusage)
    cpu: float
    work_peak: int  # bytes under --work-dir at its fullest (the spill), sampled
    input_bytes: int  # the records' size on disk


def _dir_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    return total


def run_report(data: Path, out: Path, config: Path | None = None) -> Run:
    exe = Path(sys.executable).with_name("shadowdiff")
    shutil.rmtree(out, ignore_errors=True)
    work = out.parent / f"{out.name}-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu0 = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    argv = [str(exe), "report", "--records", str(data), "--out", str(out), "--work-dir", str(work)]
    proc = subprocess.Popen(
        argv + (["--config", str(config)] if config else []), stdout=subprocess.DEVNULL
    )
    peak = work_peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak, work_peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            work_peak = max(work_peak, _dir_bytes(work))
            time.sleep(0.1)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    rc = proc.wait()
    elapsed = time.perf_counter() - start
    stop.set()
    t.join()
    shutil.rmtree(work, ignore_errors=True)
    if rc != 0:
        raise SystemExit(f"report exited {rc}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    single = usage.ru_maxrss * 1024
    cpu = usage.ru_utime + usage.ru_stime - cpu0
    return Run(elapsed, peak, max(single, before * 1024), cpu, work_peak, _dir_bytes(data))


def floor_rate(data: Path) -> tuple[float, float]:
    """The floor of any report: gunzip and orjson-decode every line, one process, nothing else.

    (pairs/s, CPU s): the "physical limit" the report is held against; what is
    left above it is joining, validating and diffing.
    """
    from isal import igzip

    cpu0, t0 = time.process_time(), time.perf_counter()
    lines = 0
    for f in sorted(data.rglob("*.jsonl.gz")):
        with igzip.open(f, "rb") as fh:
            for line in fh:
                orjson.loads(line)
                lines += 1
    return (lines / 2) / (time.perf_counter() - t0), time.process_time() - cpu0


def naive(data: Path) -> float:
    """pandas frame of every record + deepdiff on every pair: pairs/s."""
    import pandas as pd
    from deepdiff import DeepDiff

    start = time.perf_counter()
    rows = []
    for f in sorted(data.rglob("*.jsonl.gz")):
        with gzip.open(f, "rb") as fh:
            rows.extend(orjson.loads(line) for line in fh)
    frame = pd.DataFrame(rows)
    prim = frame[frame.role == "primary"].drop_duplicates("correlation_id")
    shad = frame[frame.role == "shadow"].drop_duplicates("correlation_id")
    joined = prim.merge(shad, on="correlation_id", suffixes=("_p", "_s"))
    n = 0
    for rp, rs in zip(joined.response_p, joined.response_s, strict=True):
        DeepDiff(
            orjson.loads(rp["body"]),
            orjson.loads(rs["body"]),
            exclude_paths=["root['generated_at']", "root['request_id']"],
        )
        n += 1
    return n / (time.perf_counter() - start)


EXPLAIN_OFF = "explain: {sample: 0}\n"


def explain_rows(base: Path, sizes: list[int], repeat: int) -> tuple[list[tuple], list[str]]:
    """Explain off and on over the same data, alternating: the rows and the cost per N."""
    off = base / "explain-off.yaml"
    base.mkdir(parents=True, exist_ok=True)
    off.write_text(EXPLAIN_OFF)
    rows: list[tuple] = []
    notes = []
    for n in sizes:
        data = base / f"n{n}-explain"
        t0 = time.perf_counter()
        generate(data, n, attributes=True)
        print(f"  (generated N={n} in {time.perf_counter() - t0:.0f}s)", flush=True)
        best: dict[str, tuple[float, float]] = {}
        for run in range(repeat):
            for mode, config in (("off", off), ("on", None)):
                r = run_report(data, base / f"out-{n}-{mode}", config)
                secs, peak, single, cpu = r.seconds, r.peak_rss, r.max_rss, r.cpu
                load = os.getloadavg()[0]
                rows.append((f"explain {mode} (run {run + 1}, load {load:.1f})", n, secs,
                             n / secs, peak, single, cpu))  # fmt: skip
                was = best.get(mode, (float("inf"), float("inf")))
                best[mode] = (min(was[0], secs), min(was[1], cpu))
                print(
                    f"  N={n} explain {mode}: {n / secs:,.0f} pairs/s, {cpu:.1f} CPU s", flush=True
                )
        (w_off, c_off), (w_on, c_on) = best["off"], best["on"]
        notes.append(
            f"N={n:,}: best of {repeat} — explain off {n / w_off:,.0f} pairs/s "
            f"({n / c_off:,.0f} pairs/CPU-s), on {n / w_on:,.0f} pairs/s "
            f"({n / c_on:,.0f} pairs/CPU-s): explain costs {100 * (1 - w_off / w_on):.1f} % "
            f"of the wall rate, {100 * (c_on / c_off - 1):.1f} % more CPU"
        )
    return rows, notes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--baseline", type=int, default=2_000)
    ap.add_argument(
        "--dir", default=os.path.join(tempfile.gettempdir(), "shadowdiff-bench-analysis")
    )
    ap.add_argument("--explain", action="store_true", help="explain off vs on over the same data")
    ap.add_argument("--repeat", type=int, default=2, help="runs per mode with --explain")
    args = ap.parse_args()
    base = Path(args.dir)
    print(
        f"machine: {os.cpu_count()} cores, shared with other jobs; load average {os.getloadavg()[0]:.2f}"
    )
    if args.explain:
        rows, notes = explain_rows(base, args.sizes, max(1, args.repeat))
        _table(rows)
        for note in notes:
            print(note)
        print("target: explain costs at most 10 % of the report's pairs/s")
        return
    report_table(base, args.sizes, args.baseline)


def _table(rows: list[tuple]) -> None:
    cores = os.cpu_count() or 1
    print(
        f"\n| {'what':<38} | {'N pairs':>9} | {'wall s':>7} | {'pairs/s':>8} | {'CPU s':>7} "
        f"| {'pairs/CPU-s':>11} | {'peak RSS tree':>13} | {'max RSS 1 proc':>14} |"
    )
    print(
        f"|{'-' * 40}|{'-' * 10}:|{'-' * 8}:|{'-' * 9}:|{'-' * 8}:|{'-' * 12}:|{'-' * 14}:|{'-' * 15}:|"
    )
    for what, n, secs, rate, peak, single, cpu in rows:
        pk = f"{peak / 2**20:.0f} MiB" if peak else "-"
        sg = f"{single / 2**20:.0f} MiB" if single else "-"
        print(
            f"| {what:<38} | {n:>9,} | {secs:>7.1f} | {rate:>8,.0f} | {cpu:>7.1f} "
            f"| {n / cpu if cpu else 0:>11,.0f} | {pk:>13} | {sg:>14} |"
        )
    print(
        f"\npairs/CPU-s x {cores} cores = what an idle machine would give; the wall rate "
        "depends on how busy the shared machine is."
    )


def report_table(base: Path, sizes: list[int], baseline: int) -> None:
    """The report at each N beside the naive reference and the read floor, with the targets."""
    small = base / f"n{baseline}"
    generate(small, baseline)
    cpu0 = time.process_time()
    naive_rate = naive(small)
    naive_cpu = time.process_time() - cpu0
    runs: list[tuple[int, Run]] = []
    floors: dict[int, tuple[float, float]] = {}
    for n in sizes:
        data = base / f"n{n}"
        t0 = time.perf_counter()
        generate(data, n)
        print(f"  (generated N={n} in {time.perf_counter() - t0:.0f}s)", flush=True)
        runs.append((n, run_report(data, base / f"out-{n}")))
        floors[n] = floor_rate(data)
        print(f"  N={n}: load average {os.getloadavg()[0]:.2f}", flush=True)
    print(
        "\n| what | N pairs | wall s | pairs/s | CPU s | pairs/CPU-s | peak RSS tree "
        "| work-dir peak | input on disk | work / input |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    print(
        f"| naive reference (pandas + deepdiff every pair) | {baseline:,} | "
        f"{baseline / naive_rate:.1f} | {naive_rate:,.0f} | {naive_cpu:.1f} | "
        f"{baseline / naive_cpu:,.0f} | – | – | – | – |"
    )
    for n, r in runs:
        f_rate, f_cpu = floors[n]
        print(
            f"| read floor (gunzip + orjson every line, 1 process) | {n:,} | {n / f_rate:.1f} "
            f"| {f_rate:,.0f} | {f_cpu:.1f} | {n / f_cpu:,.0f} | – | – | – | – |"
        )
        print(
            f"| shadowdiff report | {n:,} | {r.seconds:.1f} | {n / r.seconds:,.0f} | {r.cpu:.1f} "
            f"| {n / r.cpu:,.0f} | {r.peak_rss / 2**20:.0f} MiB | {r.work_peak / 2**20:.0f} MiB "
            f"| {r.input_bytes / 2**20:.0f} MiB | {r.work_peak / max(1, r.input_bytes):.2f}x |"
        )
    print("\ntargets:")
    for n, r in runs:
        rate = n / r.seconds
        if n == 100_000:
            met = rate >= 5 * naive_rate
            print(f"- N=100k: >= 5x the naive reference: {rate / naive_rate:.0f}x -> "
                  f"{'met' if met else 'MISSED'}")  # fmt: skip
        if n >= 1_000_000:
            print(f"- N={n:,}: >= 40,000 pairs/s on 2 cores: {rate:,.0f} -> "
                  f"{'met' if rate >= 40_000 else 'MISSED'}")  # fmt: skip
        ratio = r.work_peak / max(1, r.input_bytes)
        print(f"- N={n:,}: work-dir peak <= 1.5x input: {ratio:.2f}x -> "
              f"{'met' if ratio <= 1.5 else 'MISSED'}; peak RSS <= 1 GiB: "
              f"{r.peak_rss / 2**20:.0f} MiB -> {'met' if r.peak_rss <= 2**30 else 'MISSED'}")  # fmt: skip
    print(
        "the machine is shared: rates move with its load; pairs/CPU-s x cores is what an idle "
        "2-core machine would give"
    )


if __name__ == "__main__":
    main()
