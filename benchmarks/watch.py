#!/usr/bin/env python3
"""Benchmark ``shadowdiff watch``: CPU of an idle tick and of a tick with 1,000 new pairs.

Not a test: it prints a table. It writes N pairs (default a million) of ~2 KB
JSON bodies (the bodies of ``benchmarks/analysis.py``: 5 % divergent, a
timestamp and a request id that are noise) as gzip files in the contract
layout, all inside one hour so that the live window holds every one. Then, in
the same run:

1. the batch baseline: ``shadowdiff report`` over the N pairs as a child
   process, its CPU seconds (every process), and so what 1,000 pairs' share of
   it costs;
2. a :class:`~analysis.live.watcher.Watcher` in this process over the same
   directory: its first tick (reads all N), then idle ticks (nothing new) and
   ticks that each find one new file per role holding 1,000 new pairs, each
   timed with this process's CPU clock.

Goals: an idle tick <= 10 ms CPU; a 1,000-pair tick within 2x of
those pairs' share of the batch report. The machine is shared: numbers move
with load, which the table states.

    .venv/bin/python benchmarks/watch.py                            # N = 1M, 10 ticks of each kind
    .venv/bin/python benchmarks/watch.py --pairs 100000 --ticks 5   # quick
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
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# benchmarks/analysis.py would shadow the ``analysis`` package (sys.path[0] is this
# script's directory): drop that directory, then load its generator under another name.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
_spec = importlib.util.spec_from_file_location("bench_analysis", HERE / "analysis.py")
assert _spec is not None and _spec.loader is not None
batch: Any = importlib.util.module_from_spec(_spec)
sys.modules["bench_analysis"] = batch
_spec.loader.exec_module(batch)

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
PER_FILE = 20_000
NEW_PAIRS = 1_000


def _spacing(n: int) -> float:
    """Seconds between pairs so that N fit in 50 minutes (the window is an hour)."""
    return 3000.0 / max(n, 1)


def _write(args: tuple[str, int, int, int, float, str]) -> None:
    root, start, stop, seed, spacing, name = args
    rng = random.Random(seed)
    outs = {}
    first = T0 + timedelta(seconds=start * spacing)
    for role in ("primary", "shadow"):
        d = Path(root) / f"role={role}" / f"dt={first:%Y-%m-%d}" / f"hour={first:%H}"
        d.mkdir(parents=True, exist_ok=True)
        outs[role] = (d / f".{name}.tmp", d / name)
    handles = {role: gzip.open(tmp, "wb", compresslevel=1) for role, (tmp, _) in outs.items()}  # noqa: SIM115
    for i in range(start, stop):
        primary, shadow = batch.make_pair(rng, i, T0 + timedelta(seconds=i * spacing))
        handles["primary"].write(primary)
        handles["shadow"].write(shadow)
    for role, fh in handles.items():
        fh.close()
        tmp, final = outs[role]
        tmp.replace(final)  # as the collector's local sink does: whole files only


def generate(root: Path, n: int) -> None:
    if (root / ".complete").exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    spacing = _spacing(n + 100 * NEW_PAIRS)
    chunks = [
        (str(root), a, min(n, a + PER_FILE), a, spacing, f"part-{a:09d}.jsonl.gz")
        for a in range(0, n, PER_FILE)
    ]
    with multiprocessing.Pool(2) as pool:
        pool.map(_write, chunks)
    (root / ".complete").touch()


def batch_cpu(data: Path, out: Path) -> tuple[float, float]:
    """(CPU seconds of every process of `shadowdiff report`, wall seconds)."""
    exe = Path(sys.executable).with_name("shadowdiff")
    shutil.rmtree(out, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [str(exe), "report", "--records", str(data), "--out", str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def cpu_of(fn) -> tuple[float, object]:
    start = time.process_time()
    result = fn()
    return time.process_time() - start, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=1_000_000)
    ap.add_argument("--ticks", type=int, default=10, help="ticks of each kind to time")
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "shadowdiff-bench-watch"))
    ap.add_argument("--skip-batch", action="store_true", help="reuse no baseline (quick looks)")
    args = ap.parse_args()
    from analysis.live.settings import build_watch_settings
    from analysis.live.watcher import Watcher

    base = Path(args.dir)
    data = base / f"n{args.pairs}"
    print(f"machine: {os.cpu_count()} cores, shared; load average {os.getloadavg()[0]:.2f}")
    t0 = time.perf_counter()
    generate(data, args.pairs)
    print(f"  data: {args.pairs:,} pairs in {data} ({time.perf_counter() - t0:.0f}s)", flush=True)

    live = base / f"live-{args.pairs}"
    shutil.rmtree(live, ignore_errors=True)
    shutil.copytree(data, live / "rec")
    if args.skip_batch:
        b_cpu = b_wall = float("nan")
    else:
        b_cpu, b_wall = batch_cpu(data, base / "batch-out")
        print(f"  batch report: {b_cpu:.1f} CPU s ({b_wall:.1f} s wall)", flush=True)
    share = b_cpu * NEW_PAIRS / args.pairs

    ws = build_watch_settings(reports=str(live / "reports"), records=str(live / "rec"), window="1h")
    clock = Clock()  # every tick is --every (60 s) later: grace and the index run as in service
    watcher = Watcher(ws, monotonic=clock)
    watcher.start()
    first_cpu, _ = cpu_of(watcher.tick)
    pairs = watcher.report["summary"]["pairs"] if watcher.report else 0
    print(f"  first tick: {first_cpu:.1f} CPU s, {pairs:,} pairs in the window", flush=True)

    def tick() -> object:
        clock.now += ws.every
        return watcher.tick()

    idle = [cpu_of(tick)[0] for _ in range(args.ticks)]

    spacing = _spacing(args.pairs + 100 * NEW_PAIRS)
    busy = []
    for k in range(args.ticks):
        start = args.pairs + k * NEW_PAIRS
        _write(
            (str(live / "rec"), start, start + NEW_PAIRS, start, spacing, f"new-{k:04d}.jsonl.gz")
        )
        cpu, replaced = cpu_of(tick)
        assert replaced, "the tick saw the new file"
        busy.append(cpu)
    final = watcher.report["summary"]["pairs"] if watcher.report else 0
    assert final == pairs + args.ticks * NEW_PAIRS, (final, pairs)

    def ms(values: list[float]) -> str:
        return "{:.1f} / {:.1f} / {:.1f}".format(
            *(v * 1000 for v in (statistics.median(values), statistics.fmean(values), max(values)))
        )

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(f"| {'what':<44} | {'CPU ms (median / mean / max)':>29} | {'goal':>28} |")
    print(f"|{'-' * 46}|{'-' * 30}:|{'-' * 29}:|")
    print(
        f"| {'batch report, ' + f'{args.pairs:,} pairs':<44} | {b_cpu * 1000:>29,.0f} | {'(baseline)':>28} |"
    )
    print(f"| {'  its share of 1,000 pairs':<44} | {share * 1000:>29.1f} | {'':>28} |")
    print(f"| {'watch: first tick (reads all)':<44} | {first_cpu * 1000:>29,.0f} | {'-':>28} |")
    print(f"| {f'watch: idle tick (x{args.ticks})':<44} | {ms(idle):>29} | {'<= 10 ms':>28} |")
    print(
        f"| {f'watch: tick with 1,000 new pairs (x{args.ticks})':<44} | {ms(busy):>29} "
        f"| {f'<= {2 * share * 1000:.0f} ms (2x share)':>28} |"
    )
    ratio = statistics.fmean(busy) / share if share == share and share else float("nan")
    print(
        f"\n1,000-pair tick / share of the batch report: {ratio:.2f}x (mean; the max is a tick "
        "that also rewrites the cids/ index, every 5 minutes)"
    )
    print(
        f"peak RSS of the watch process: {rss:,.0f} MiB; load average at the end {os.getloadavg()[0]:.2f}"
    )
    watcher.close()


if __name__ == "__main__":
    main()
