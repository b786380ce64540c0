"""``shadowdiff demo --canary``: real users split between v1 and v2, then the verdict.

shop v1 (baseline) and v2 (canary, with the regressions of :mod:`shadowdiff.demo.apps`)
each sit behind their own primary tap (``--deployment baseline|canary``); the front
door runs the real canary split (``edge.split``) at ``weight``, sticky per user by a
header the traffic driver sets. Then ``shadowdiff canary`` judges the records and
``shadowdiff serve`` shows the verdict, exactly as a user would run them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from shadowdiff.demo.commands import (
    app_argv,
    canary_argv,
    collector_argv,
    frontdoor_argv,
    serve_argv,
)
from shadowdiff.demo.configs import USER_HEADER, write_canary_configs
from shadowdiff.demo.procs import Children, DemoError, free_port
from shadowdiff.model.timefmt import now_utc

ARMS = {"baseline": "v1", "canary": "v2"}


def canary_pipeline(settings: Any, out: Path, children: Children, console: Any) -> int:
    from shadowdiff.demo.orchestrator import _port, drive_and_stop

    records, reports = out / "records", out / "reports"
    app_url = {arm: f"http://127.0.0.1:{free_port()}" for arm in ARMS}
    tap_url = {arm: f"http://127.0.0.1:{free_port()}" for arm in ARMS}
    front = f"http://127.0.0.1:{free_port()}"
    edge_cfg, canary_cfg = write_canary_configs(
        out / "config", _port(tap_url["canary"]), settings.canary_weight
    )
    console.print(f"[bold]shadowdiff demo --canary[/] → {out}", soft_wrap=True)
    apps = [
        children.start(f"app-{arm}", app_argv(version, _port(app_url[arm])))
        for arm, version in ARMS.items()
    ]
    taps = [
        children.start(
            f"tap-{arm}",
            collector_argv(
                "primary",
                app_url[arm],
                records,
                _port(tap_url[arm]),
                out / "spool" / arm,
                arm,
                None,
            ),
        )
        for arm in ARMS
    ]
    door = children.start("frontdoor", frontdoor_argv(edge_cfg, tap_url["baseline"], _port(front)))
    for child, url in [
        *zip(apps, app_url.values(), strict=True),
        *zip(taps, tap_url.values(), strict=True),
    ]:
        children.wait_ready(child, url, health="/healthz")
    children.wait_ready(door, front)
    console.print(
        f"  up: shop v1 (baseline) and v2 (canary) behind their primary taps, front door "
        f"splitting {settings.canary_weight:.0%} of users to v2 (sticky by {USER_HEADER})"
    )
    drive_and_stop(front, settings, console, out, children, door, taps, apps, USER_HEADER)
    folder = reports / now_utc().strftime("canary-%Y%m%dT%H%M%SZ")
    doc = _judge(records, canary_cfg, folder, out / "logs")
    print_verdict(console, doc, folder)
    if not settings.serve:
        return 0
    port = settings.port or free_port()
    child = children.start("serve", serve_argv(reports, records, port))
    base = f"http://127.0.0.1:{port}"
    children.wait_ready(child, base, health="/healthz")
    console.print(f"\n[bold green]Canary:[/] {base}/canaries/{doc['id']}", soft_wrap=True)
    console.print(
        f"All reports and canaries: {base}/   ·   Ctrl-C stops everything", soft_wrap=True
    )
    code = child.proc.wait()
    raise DemoError(f"shadowdiff serve exited with status {code} (log {child.log})")


def _judge(records: Path, config: Path, folder: Path, logs: Path) -> dict[str, Any]:
    proc = subprocess.run(
        canary_argv(records, config, folder), capture_output=True, text=True, timeout=600
    )
    (logs / "canary.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode not in (0, 3, 4):
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise DemoError(
            f"shadowdiff canary exited {proc.returncode} (log {logs / 'canary.log'}): {last}"
        )
    try:
        doc: dict[str, Any] = json.loads((folder / "canary.json").read_text())
    except (OSError, ValueError) as exc:
        raise DemoError(f"shadowdiff canary wrote no readable {folder / 'canary.json'}") from exc
    doc["_exit_status"] = proc.returncode
    return doc


def print_verdict(console: Any, doc: dict[str, Any], folder: Path) -> None:
    colour = {"pass": "green", "fail": "red"}.get(doc["verdict"], "yellow")
    console.print(
        f"\n[bold]Canary[/] {doc['id']}: [bold {colour}]{doc['verdict'].upper()}[/] "
        f"({doc['canary']['requests']} canary, {doc['baseline']['requests']} baseline requests, "
        f"exit status {doc.get('_exit_status')})"
    )
    for reason in doc["reasons"]:
        console.print(f"  - {reason}", soft_wrap=True, markup=False)
    console.print(f"Files: {folder}/canary.html, canary.md, canary.json", soft_wrap=True)
