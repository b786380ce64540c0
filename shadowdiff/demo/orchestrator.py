"""Run the whole pipeline on this machine, through the real command lines.

apps (v1 primary, v2 shadow, v1 secondary) ← collectors (local dir sink) ←
front door (the real edge handler) ← traffic driver; then the collectors get
SIGTERM so they drain and flush, ``shadowdiff report`` builds the report, and
``shadowdiff serve`` shows it. Every part is a child process started the way a
user would start it, so the demo exercises the production code paths.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import signal
import time
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote

from shadowdiff.demo.commands import (
    APPS,
    app_argv,
    collector_argv,
    frontdoor_argv,
    replay_argv,
    report_argv,
    serve_argv,
    watch_argv,
)
from shadowdiff.demo.configs import write_configs
from shadowdiff.demo.procs import Child, Children, DemoError, free_port
from shadowdiff.demo.summary import print_summary
from shadowdiff.demo.traffic import drive, plan
from shadowdiff.model.timefmt import now_utc

#: What a run owns inside ``--out`` and removes at the start of the next run.
MARKER = ".shadowdiff-demo"
OWNED = ("records", "reports", "logs", "config", "spool", "traffic.json")


@dataclass(frozen=True, slots=True)
class DemoSettings:
    out: Path
    port: int | None = None
    serve: bool = True
    requests: int = 3000
    concurrency: int = 8
    sign: bool = True
    mirror_from: str = "edge"  # edge: the front door's edge handler; tap: the primary tap
    replay: bool = False  # also replay the captured v1 traffic against v2 (shadowdiff replay)
    canary: bool = False  # the canary split and verdict instead of the shadow report
    canary_weight: float = 0.2
    live: bool = False  # run `shadowdiff watch` beside the traffic (reports/live fills in)


def run_demo(settings: DemoSettings) -> int:
    """The demo, start to finish; every child is gone when this returns or raises."""
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:  # a log file or CI: wide enough for the summary table
        console = Console(highlight=False, width=110)
    out = settings.out.resolve()
    _clear(out)
    children = Children(out / "logs")
    # Ctrl-C, kill and a closed terminal all end in the same clean stop. SIGINT is set
    # explicitly: a shell starts background jobs with it ignored, and Python keeps that.
    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
        signal.SIGTERM: signal.signal(signal.SIGTERM, _raise_interrupt),
        signal.SIGHUP: signal.signal(signal.SIGHUP, _raise_interrupt),
    }
    try:
        if settings.canary:
            from shadowdiff.demo.canary import canary_pipeline

            return canary_pipeline(settings, out, children, console)
        return _pipeline(settings, out, children, console)
    finally:
        children.stop_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _pipeline(settings: DemoSettings, out: Path, children: Children, console: Any) -> int:
    records, reports = out / "records", out / "reports"
    settings = replace(settings, port=settings.port or free_port())  # one port for the run
    app_url = {name: f"http://127.0.0.1:{free_port()}" for name in APPS}
    col_url = {role: f"http://127.0.0.1:{free_port()}" for _, role in APPS.values()}
    from_tap = settings.mirror_from == "tap"
    front = col_url["primary"] if from_tap else f"http://127.0.0.1:{free_port()}"
    secret = secrets.token_hex(16) if settings.sign else None
    edge_cfg, report_cfg = write_configs(
        out / "config", col_url["shadow"], col_url["secondary"], secret
    )
    console.print(f"[bold]shadowdiff demo[/] → {out}", soft_wrap=True)

    apps = [
        children.start(f"app-{name}", app_argv(version, _port(app_url[name])))
        for name, (version, _) in APPS.items()
    ]
    collectors = [
        children.start(
            f"collector-{role}",
            collector_argv(
                role,
                app_url[name],
                records,
                _port(col_url[role]),
                out / "spool" / role,
                f"shop {version}",
                secret,
                edge_cfg if from_tap and role == "primary" else None,
            ),
        )
        for name, (version, role) in APPS.items()
    ]
    # Mirrors come from the front door's edge handler, or (--mirror-from tap) from the
    # primary tap itself, with no function in front of it: the same edge config either way.
    door = None
    if not from_tap:
        door = children.start(
            "frontdoor", frontdoor_argv(edge_cfg, col_url["primary"], _port(front))
        )
    for app, url in zip(apps, app_url.values(), strict=True):
        children.wait_ready(app, url, health="/healthz")
    for collector, url in zip(collectors, col_url.values(), strict=True):
        children.wait_ready(collector, url, health="/healthz")
    if door is not None:
        children.wait_ready(door, front)
    source = "the primary tap mirrors" if from_tap else "front door (edge handler) mirrors"
    console.print(f"  up: shop v1 (primary), v2 (shadow), v1 (secondary), 3 collectors, {source}")
    watch = _start_live(settings, records, report_cfg, reports, children, console)

    # The apps stay up for the replay, which sends the captured traffic to them again.
    drive_and_stop(
        front, settings, console, out, children, door, collectors, [] if settings.replay else apps
    )
    report_dir = reports / now_utc().strftime("demo-%Y%m%dT%H%M%SZ")
    report = _report(records, report_cfg, report_dir, out / "logs")
    print_summary(console, report, report_dir)
    if watch is not None:
        _live_caught_up(reports / "live" / "report.json", report, watch)
        console.print(f"  the live report has every pair too: {reports / 'live'}", soft_wrap=True)
    replayed = None
    if settings.replay:
        replay_dir = reports / now_utc().strftime("replay-%Y%m%dT%H%M%SZ")
        console.print("\n  replaying the captured v1 traffic against v2 (shadowdiff replay)…")
        argv = replay_argv(records, app_url["v2"], app_url["v1-secondary"], report_cfg, replay_dir)
        replayed = _report(records, report_cfg, replay_dir, out / "logs", argv, "replay")
        print_summary(console, replayed, replay_dir)
        for app in apps:
            children.stop(app, grace=5.0)
    if not settings.serve:
        if watch is not None:
            children.stop(watch)
        return 0
    return _serve(settings, reports, records, report, children, console, replayed)


def drive_and_stop(
    front: str,
    settings: DemoSettings,
    console: Any,
    out: Path,
    children: Children,
    door: Child | None,
    collectors: list[Child],
    apps: list[Child],
    user_header: str | None = None,
) -> None:
    """Drive the traffic, then stop the front door and collectors (they flush), then ``apps``.

    Without a front door (the tap as mirror source) the traffic goes to the first
    collector. The primary stops first: a tap that mirrors sends what it has
    queued while the shadow and secondary collectors still listen.
    """
    result = _drive(front, settings, console, user_header)
    (out / "traffic.json").write_text(json.dumps(result, indent=2))
    if sum(result["statuses"].values()) == 0:
        log = door.log if door is not None else collectors[0].log
        raise DemoError(f"no request got an answer through {front} (log {log})")
    what = "the collectors" if door is None else "the front door and the collectors"
    console.print(f"  stopping {what} (they drain and flush)…")
    for child in [c for c in (door, *collectors) if c is not None]:
        code = children.stop(child, grace=30.0)
        if code not in (0, -signal.SIGTERM):
            console.print(f"  [yellow]{child.name} exited with {code} (log {child.log})[/]")
    for app in apps:
        children.stop(app, grace=5.0)


def _start_live(
    settings: DemoSettings,
    records: Path,
    config: Path,
    reports: Path,
    children: Children,
    console: Any,
) -> Child | None:
    """With ``--live``: ``shadowdiff watch`` (and the service) before the first request."""
    if not settings.live:
        return None
    records.mkdir(parents=True, exist_ok=True)  # watch wants its source to exist at start
    metrics = free_port()
    watch = children.start("watch", watch_argv(records, config, reports, metrics))
    children.wait_ready(watch, f"http://127.0.0.1:{metrics}", health="/metrics")
    console.print(f"  live: shadowdiff watch → {reports / 'live'} (Prometheus :{metrics}/metrics)")
    if settings.serve:
        port = settings.port or free_port()
        _start_serve(port, reports, records, children)
        console.print(
            f"\n[bold green]Live report (fills in as the requests flow):[/] "
            f"http://127.0.0.1:{port}/reports/live\n",
            soft_wrap=True,
        )
    return watch


def _live_caught_up(path: Path, nightly: dict[str, Any], watch: Child, timeout: float = 60) -> None:
    """Wait until the live report holds every pair the nightly one found (nothing pending)."""
    want = nightly["summary"]["pairs"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            live = json.loads(path.read_text())
        except (OSError, ValueError):
            live = {}
        if live.get("live", {}).get("pending") == 0 and live["summary"]["pairs"] == want:
            return
        if watch.proc.poll() is not None:
            break
        time.sleep(0.2)
    raise DemoError(f"the live report did not catch up with {want} pairs (log {watch.log})")


def _drive(
    front: str, settings: DemoSettings, console: Any, user_header: str | None = None
) -> dict[str, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    requests = plan(settings.requests)
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task("  traffic", total=len(requests))
        if not console.is_terminal:
            through = "the primary tap" if settings.mirror_from == "tap" else "the front door"
            console.print(f"  sending {len(requests)} requests through {through}…")
        done = asyncio.run(
            drive(
                front,
                requests,
                concurrency=settings.concurrency,
                on_done=lambda: progress.advance(task),
                send_cloudfront_id=settings.mirror_from == "tap",
                user_header=user_header,
            )
        )
    summary = done.to_dict()
    console.print(
        f"  sent {summary['sent']} requests in {summary['seconds']:.1f}s, "
        f"primary answered {summary['statuses']}"
        + (f", failed: {summary['failures']}" if summary["failures"] else "")
    )
    return summary


def _report(
    records: Path,
    config: Path,
    out_dir: Path,
    logs: Path,
    argv: list[str] | None = None,
    name: str = "report",
) -> dict[str, Any]:
    """Run ``shadowdiff report`` (or ``argv``, another command writing a report) and read it."""
    import subprocess

    argv = argv or report_argv(records, config, out_dir)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    (logs / f"{name}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode not in (0, 3):  # 3: a fail_on threshold crossed, which v2 is meant to
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise DemoError(
            f"shadowdiff {name} exited {proc.returncode} (log {logs / f'{name}.log'}): {last}"
        )
    try:
        report: dict[str, Any] = json.loads((out_dir / "report.json").read_text())
    except (OSError, ValueError) as exc:
        raise DemoError(f"shadowdiff report wrote no readable {out_dir / 'report.json'}") from exc
    report["_exit_status"] = proc.returncode
    return report


def _serve(
    settings: DemoSettings,
    reports: Path,
    records: Path,
    report: dict[str, Any],
    children: Children,
    console: Any,
    replayed: dict[str, Any] | None = None,
) -> int:
    port = settings.port or free_port()
    child = _start_serve(port, reports, records, children)
    base = f"http://127.0.0.1:{port}"
    console.print(f"\n[bold green]Report:[/] {base}/reports/{report['id']}", soft_wrap=True)
    if replayed is not None:
        console.print(f"Replay report: {base}/reports/{replayed['id']}", soft_wrap=True)
    if settings.live:
        console.print(f"Live report: {base}/reports/live", soft_wrap=True)
    example = _first_example(report, "status")
    if example:
        pair = f"{base}/pairs/{quote(example, safe='')}"
        console.print(f"A planted 5xx, side by side: {pair}", soft_wrap=True)
    console.print(
        f"All reports: {base}/   ·   API: {base}/docs   ·   Ctrl-C stops everything", soft_wrap=True
    )
    code = child.proc.wait()
    raise DemoError(f"shadowdiff serve exited with status {code} (log {child.log})")


def _start_serve(port: int, reports: Path, records: Path, children: Children) -> Child:
    """``shadowdiff serve``, once: a live demo starts it before the traffic."""
    for child in children.running:
        if child.name == "serve":
            return child
    child = children.start("serve", serve_argv(reports, records, port))
    children.wait_ready(child, f"http://127.0.0.1:{port}", health="/healthz")
    return child


def _first_example(report: dict[str, Any], reason: str) -> str | None:
    for endpoint in report.get("endpoints", []):
        for example in endpoint.get("examples", []):
            if example.get("reason") == reason and example.get("correlation_id"):
                return str(example["correlation_id"])
    return None


def _clear(out: Path) -> None:
    """Empty what the previous run left in ``out``, which must be new, empty or a demo's own.

    The marker file guards against ``--out ~`` wiping someone's ``logs`` or ``config``.
    """
    marker = out / MARKER
    if out.is_dir() and any(out.iterdir()) and not marker.exists():
        raise DemoError(
            f"--out {out}: not empty and not made by shadowdiff demo (no {MARKER}); "
            "name a new or empty directory"
        )
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text("made by shadowdiff demo; a new run replaces what it wrote here\n")
    for name in OWNED:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
