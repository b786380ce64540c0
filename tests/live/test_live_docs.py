"""The Grafana dashboard and docs/watch.md name exactly the metrics `watch` exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import generate_latest

from analysis.live.metrics import LiveGauges, MetricsBoard

DOCS = Path(__file__).resolve().parents[2] / "docs"
NAME = re.compile(r"shadowdiff_live_[a-z_]+")


def _exported() -> set[str]:
    board = MetricsBoard()
    board.gauges = LiveGauges(pairs=1, status_rate={"GET /": 0.5}, fail_on={"x > 1": 1})
    text = generate_latest(board.registry).decode()
    return {m.removesuffix("_created") for m in NAME.findall(text)}


def test_the_grafana_dashboard_only_queries_metrics_that_exist():
    dash = json.loads((DOCS / "grafana-watch.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in NAME.findall(e)}
    assert used and used <= _exported(), used - _exported()
    assert {"shadowdiff_live_pairs", "shadowdiff_live_status_mismatch_rate",
            "shadowdiff_live_body_mismatch_rate", "shadowdiff_live_fail_on"} <= used  # fmt: skip
    assert dash["__inputs"][0]["pluginId"] == "prometheus"


def test_docs_watch_names_every_exported_metric():
    text = (DOCS / "watch.md").read_text()
    exported = {m.removesuffix("_total") for m in _exported()}
    assert all(m in text for m in exported), sorted(m for m in exported if m not in text)
