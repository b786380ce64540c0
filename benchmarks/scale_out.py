#!/usr/bin/env python3
"""Benchmark the nightly report: local engine vs a two-worker Dask LocalCluster, same run.

Not a test: it prints a table. The data is the analysis benchmark's generated
night (``benchmarks/analysis.py``: ~2 KB JSON bodies, 5 % divergent, volatile
timestamp and UUID in every body), written twice: in the plain contract layout
and with the optional ``bucket=NN`` level (same records, same order). Rows:

* local engine (fork pool, every core) on the plain layout;
* ``--engine dask`` on a LocalCluster of two single-threaded worker processes,
  on the bucketed layout (one task per bucket, no shuffle);
* the same two at a smaller N, the Dask one on the plain layout (the
  ``dask.dataframe`` shuffle-join fallback, which holds raw lines in worker
  memory and so is benchmarked smaller).

"peak RSS per worker" is the largest resident set any one worker process
reached (sampled every 0.1 s): the pool's processes for the local engine, the
Dask worker processes for the cluster; "client" is the ``shadowdiff report``
process itself. The machine is shared (2 cores, several engineers): the wall
rates move with its load, which is printed.

    .venv/bin/python benchmarks/scale_out.py                      # 1M pairs, shuffle at 100k
    .venv/bin/python benchmarks/scale_out.py --pairs 100000 --shuffle-pairs 20000   # quick
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import importlib.util
import json
import multiprocessing
import os
import random
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

# benchmarks/analysis.py would shadow the ``analysis`` package (sys.path[0] is this
# script's directory): drop that directory, then load the generator under another name.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
_spec = importlib.util.spec_from_file_location("bench_analysis", HERE / "analysis.py")
assert _spec is not None and _spec.loader is not None
ba: Any = importlib.util.module_from_spec(_spec)
sys.modules["bench_analysis"] = ba
_spec.loader.exec_module(ba)

import orjson  # noqa: E402
import psutil  # noqa: E402

from shadowdiff.model.layout import partition_bucket  # noqa: E402


def _write_bucketed(args: tuple[str, int, int, int, int]) -> None:
    """``ba._write_file`` with a ``bucket=NN`` level: the same records, same RNG stream."""
    root, start, stop, seed, buckets = args
    rng = random.Random(seed)
    at = ba.T0 + timedelta(seconds=start * 0.05)
    hour_dir = f"dt={at:%Y-%m-%d}/hour={at:%H}"
    outs: dict[tuple[str, int], Any] = {}

    def out(role: str, cid: str) -> Any:
        key = (role, partition_bucket(cid, buckets))
        if key not in outs:
            d = Path(root) / f"role={role}" / hour_dir / f"bucket={key[1]:02d}"
            d.mkdir(parents=True, exist_ok=True)
            outs[key] = gzip.open(d / f"part-{start:09d}.jsonl.gz", "wb", compresslevel=1)  # noqa: SIM115
        return outs[key]

    for i in range(start, stop):
        cid = uuid.UUID(int=rng.getrandbits(128)).hex
        body = ba.make_body(rng, i)
        when = ba.T0 + timedelta(seconds=i * 0.05)
        path = f"/orders/{i % 5000}" if i % 3 else f"/users/{i % 977}/cart"
        p = dict(
            body, generated_at=ba._ts(when), request_id=str(uuid.UUID(int=rng.getrandbits(128)))
        )
        s = orjson.loads(orjson.dumps(body))
        if rng.random() < ba.DIVERGENT:
            ba._diverge(rng, s)
        s.update(
            generated_at=ba._ts(when + timedelta(milliseconds=7)),
            request_id=str(uuid.UUID(int=rng.getrandbits(128))),
        )
        out("primary", cid).write(
            ba._record(cid, "primary", when, path, p, rng.uniform(8, 30)) + b"\n"
        )
        out("shadow", cid).write(
            ba._record(cid, "shadow", when, path, s, rng.uniform(8, 31)) + b"\n"
        )
    for fh in outs.values():
        fh.close()


def generate_bucketed(root: Path, n: int, buckets: int) -> None:
    if (root / ".complete").exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    step = ba.PAIRS_PER_FILE
    chunks = [(str(root), a, min(n, a + step), a, buckets) for a in range(0, n, step)]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_write_bucketed, chunks)
    (root / ".complete").touch()


class Sampler:
    """Peak RSS of each watched process, sampled every 0.1 s in a thread."""

    def __init__(self, pids: Any) -> None:
        self.pids = pids  # callable returning the pids to watch now
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self.pids():
                with contextlib.suppress(psutil.Error):
                    rss = psutil.Process(pid).memory_info().rss
                    self.peaks[pid] = max(self.peaks.get(pid, 0), rss)
            time.sleep(0.1)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_cli(argv: list[str], out: Path, workers: list[int]) -> tuple[float, int, int, dict]:
    """(seconds, peak RSS of the largest worker, peak RSS of the client, report summary)."""
    exe = Path(sys.executable).with_name("shadowdiff")
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    proc = subprocess.Popen([str(exe), "report", *argv, "--out", str(out)], stdout=subprocess.PIPE)

    def watched() -> list[int]:
        with contextlib.suppress(psutil.Error):
            kids = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
            return [proc.pid, *kids, *workers]
        return [proc.pid, *workers]

    with Sampler(watched) as sampler:
        rc = proc.wait()
    secs = time.perf_counter() - start
    if rc != 0:
        raise SystemExit(f"shadowdiff report {' '.join(argv)} exited {rc}")
    client = sampler.peaks.get(proc.pid, 0)
    others = [v for pid, v in sampler.peaks.items() if pid != proc.pid]
    summary = json.loads((out / "report.json").read_text())["summary"]
    return secs, max(others, default=client), client, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=1_000_000)
    ap.add_argument("--shuffle-pairs", type=int, default=100_000)
    ap.add_argument("--buckets", type=int, default=16)
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "shadowdiff-bench-scale"))
    args = ap.parse_args()
    base = Path(args.dir)
    print(f"machine: {os.cpu_count()} cores, shared; load average {os.getloadavg()[0]:.2f}")
    n, small = args.pairs, args.shuffle_pairs
    t0 = time.perf_counter()
    ba.generate(base / f"plain-{n}", n)
    generate_bucketed(base / f"bucketed-{n}", n, args.buckets)
    ba.generate(base / f"plain-{small}", small)
    print(f"  (data generated or reused in {time.perf_counter() - t0:.0f}s)", flush=True)

    from distributed import Client, LocalCluster

    rows = []
    with (
        LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        worker_pids = list(client.run(os.getpid).values())
        dask_args = ["--engine", "dask", "--scheduler", cluster.scheduler_address]
        plan = [
            ("local (fork pool, 2 procs)", "plain", n, [], []),
            ("dask LocalCluster, 2 workers", f"bucket=NN (N={args.buckets})", n, dask_args, None),
            ("local (fork pool, 2 procs)", "plain", small, [], []),
            ("dask LocalCluster, 2 workers", "plain (shuffle join)", small, dask_args, None),
        ]
        summaries = {}
        for what, layout, size, extra, watch in plan:
            data = base / (f"bucketed-{size}" if layout.startswith("bucket") else f"plain-{size}")
            secs, worker, client_rss, summary = run_cli(
                ["--records", str(data), *extra],
                base / "out",
                worker_pids if watch is None else watch,
            )
            summaries.setdefault(size, []).append(summary)
            rows.append((what, layout, size, secs, size / secs, worker, client_rss))
            print(f"  {what} / {layout} / {size:,}: {secs:.1f}s", flush=True)
    print()
    print(
        f"| {'engine':<30} | {'layout':<22} | {'N pairs':>9} | {'wall s':>7} | {'pairs/s':>8} "
        f"| {'peak RSS per worker':>19} | {'client RSS':>10} |"
    )
    print(f"|{'-' * 32}|{'-' * 24}|{'-' * 10}:|{'-' * 8}:|{'-' * 9}:|{'-' * 20}:|{'-' * 11}:|")
    for what, layout, size, secs, rate, worker, client_rss in rows:
        print(
            f"| {what:<30} | {layout:<22} | {size:>9,} | {secs:>7.1f} | {rate:>8,.0f} "
            f"| {worker / 2**20:>15.0f} MiB | {client_rss / 2**20:>6.0f} MiB |"
        )
    same = all(all(s == ss[0] for s in ss) for ss in summaries.values())
    print(f"\nsame summary from both engines at each N: {'yes' if same else 'NO'}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (2 shared cores: rates move with it)")


if __name__ == "__main__":
    main()
