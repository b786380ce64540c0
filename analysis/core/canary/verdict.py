"""Merged :class:`CanaryPartial` → the ``shadowdiff.canary/1`` document (docs/contract.md §9).

Per endpoint: status classes, the error rate of each arm with Fisher's exact
test, latency with Mann-Whitney U (the report's test and verdict), schema drift.
Then one verdict for the release, with one plain-words line per finding that
decided it, so a rollout gate can say *why*.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from analysis.core.canary.latency import chart, compare
from analysis.core.canary.partial import ArmStats, CanaryPartial
from analysis.core.canary.settings import ARMS, CanarySettings, CanarySpec
from analysis.core.canary.shapes import drift
from analysis.core.stats import MIN_PAIRS

SCHEMA = "shadowdiff.canary/1"
FAILING_SCHEMA = ("removed", "type_changed")
FailOn = Callable[[dict[str, float]], list[str]]  # metrics → the --fail-on expressions that hold


def fisher_p(b_errors: int, b_requests: int, c_errors: int, c_requests: int) -> float:
    """Two-sided Fisher's exact test on errors vs the rest; 1.0 when an arm is empty."""
    if b_requests == 0 or c_requests == 0 or (b_errors + c_errors) == 0:
        return 1.0
    from scipy.stats import fisher_exact

    table = [[c_errors, c_requests - c_errors], [b_errors, b_requests - b_errors]]
    p = float(fisher_exact(table, alternative="two-sided").pvalue)
    return 1.0 if math.isnan(p) else min(1.0, p)


def _rate(n: int, d: int) -> float:
    return n / d if d else 0.0


def errors_block(
    b: ArmStats, c: ArmStats, settings: CanarySettings, headers: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The errors comparison; when the canary's are ``worse``, what its failed requests share."""
    b_rate, c_rate = _rate(b.errors, b.requests), _rate(c.errors, c.requests)
    p = fisher_p(b.errors, b.requests, c.errors, c.requests)
    if min(b.requests, c.requests) < MIN_PAIRS:
        verdict = "insufficient_data"
    elif p < settings.alpha and c_rate - b_rate > settings.min_error_delta:
        verdict = "worse"
    elif p < settings.alpha and b_rate - c_rate > settings.min_error_delta:
        verdict = "better"
    else:
        verdict = "same"
    block: dict[str, Any] = {
        "baseline_rate": b_rate,
        "canary_rate": c_rate,
        "p_value": p,
        "verdict": verdict,
        "baseline_errors": b.errors,
        "canary_errors": c.errors,
        "baseline_no_response": b.no_response,
        "canary_no_response": c.no_response,
    }
    if verdict == "worse":
        block["explain"] = c.why.explain(c.errors, c.requests - c.errors, headers)
    return block


def endpoint_block(name: str, arms: dict[str, ArmStats], spec: CanarySpec) -> dict[str, Any]:
    b, c = arms["baseline"], arms["canary"]
    report = spec.report
    return {
        "endpoint": name,
        "baseline_requests": b.requests,
        "canary_requests": c.requests,
        "status": {"baseline": dict(b.status), "canary": dict(c.status)},
        "errors": errors_block(b, c, spec.canary, report.explain_headers),
        "latency_ms": compare(
            b.latency, c.latency, report.latency_alpha, report.latency_min_effect
        ),
        "schema": drift(b.shapes, c.shapes),
        "json_bodies": {"baseline": b.shapes.bodies, "canary": c.shapes.bodies},
        "chart": {"baseline": chart(b.latency), "canary": chart(c.latency)},
        "examples": {"baseline": list(b.examples), "canary": list(c.examples)},
    }


def fmt_p(p: float) -> str:
    """``0.03``, ``1e-9``: short enough for a sentence."""
    if p == 0.0:
        return "< 1e-300"
    if p >= 0.001:
        return f"{p:.2g}"
    mantissa, exponent = f"{p:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _p(p: float) -> str:
    return "p < 1e-300" if p == 0.0 else f"p = {fmt_p(p)}"


def _pct(rate: float) -> str:
    return f"{100 * rate:.1f} %"


def findings(ep: dict[str, Any]) -> list[str]:
    """The reasons this endpoint fails the canary, one line each, in plain words."""
    name, out = ep["endpoint"], []
    err = ep["errors"]
    if err["verdict"] == "worse":
        what = (
            "5xx"
            if not (err["baseline_no_response"] or err["canary_no_response"])
            else ("errors (5xx or no response)")
        )
        out.append(
            f"{name}: {what} {_pct(err['canary_rate'])} on canary vs "
            f"{_pct(err['baseline_rate'])} on baseline ({_p(err['p_value'])})"
        )
    lat = ep["latency_ms"]
    if lat["verdict"] == "slower":
        b50, c50 = lat["baseline"]["p50"], lat["canary"]["p50"]
        change = f"+{100 * (c50 - b50) / b50:.0f} %, " if b50 > 0 else ""
        out.append(
            f"{name}: p50 latency {c50:.1f} ms on canary vs {b50:.1f} ms on baseline "
            f"({change}{_p(lat['p_value'])})"
        )
    for entry in ep["schema"]:
        if entry["kind"] == "removed":
            out.append(
                f"{name}: {entry['path']} is gone: in {_pct(entry['baseline_share'])} of baseline "
                f"but {_pct(entry['canary_share'])} of canary 2xx JSON responses"
            )
        elif entry["kind"] == "type_changed":
            out.append(
                f"{name}: {entry['path']} changed type from {entry['baseline_type']} on baseline "
                f"to {entry['canary_type']} on canary"
            )
    return out


def metrics(doc: dict[str, Any]) -> dict[str, float]:
    """What ``--fail-on`` can test on a canary (see README: canary metrics)."""
    eps = doc["endpoints"]
    b_req, c_req = doc["baseline"]["requests"], doc["canary"]["requests"]
    b_err = sum(e["errors"]["baseline_errors"] for e in eps)
    c_err = sum(e["errors"]["canary_errors"] for e in eps)
    return {
        "canary_error_rate": _rate(c_err, c_req),
        "baseline_error_rate": _rate(b_err, b_req),
        "error_rate_delta": _rate(c_err, c_req) - _rate(b_err, b_req),
        "slower_endpoints": float(sum(e["latency_ms"]["verdict"] == "slower" for e in eps)),
        "worse_endpoints": float(sum(e["errors"]["verdict"] == "worse" for e in eps)),
        "schema_changes": float(sum(s["kind"] in FAILING_SCHEMA for e in eps for s in e["schema"])),
        "canary_requests": float(c_req),
        "baseline_requests": float(b_req),
    }


METRICS = frozenset(
    metrics({"endpoints": [], "baseline": {"requests": 0}, "canary": {"requests": 0}})
)


def decide(
    doc: dict[str, Any], crossed: list[str], settings: CanarySettings
) -> tuple[str, list[str]]:
    """``(verdict, reasons)``: fail on any finding or --fail-on hit; pass only with enough data."""
    reasons = [line for ep in doc["endpoints"] for line in ep["findings"]]
    reasons += [f"--fail-on {hit}" for hit in crossed]
    if reasons:
        return "fail", reasons
    arms = {arm: doc[arm] for arm in ARMS}
    empty = [arm for arm in ARMS if arms[arm]["requests"] == 0]
    if empty:
        return "inconclusive", [
            f"the {arm} arm (deployment {arms[arm]['label']!r}) has no records in the window"
            for arm in empty
        ]
    short = [arm for arm in ARMS if arms[arm]["requests"] < settings.min_requests]
    if short:
        return "inconclusive", [
            f"the {arm} arm has {arms[arm]['requests']} requests, fewer than the "
            f"{settings.min_requests} canary.min_requests asks for"
            for arm in short
        ]
    n = len(doc["endpoints"])
    return "pass", [
        f"no endpoint got worse: {arms['canary']['requests']} canary and "
        f"{arms['baseline']['requests']} baseline requests over {n} endpoint{'s' * (n != 1)}, "
        "no higher error rate, no slower latency, no removed or retyped field"
    ]


def _severity(ep: dict[str, Any]) -> tuple[int, int, str]:
    return (
        -len(ep["findings"]),
        -(ep["baseline_requests"] + ep["canary_requests"]),
        ep["endpoint"],
    )


def build_canary(
    partial: CanaryPartial, spec: CanarySpec, meta: dict[str, Any], fail_on: FailOn
) -> dict[str, Any]:
    """The canary document; ``meta`` supplies id, generated_at, window, sources, labels, notes."""
    endpoints = []
    for name, arms in partial.endpoints.items():
        ep = endpoint_block(name, arms, spec)
        ep["findings"] = findings(ep)
        endpoints.append(ep)
    endpoints.sort(key=_severity)
    c = partial.counts
    labels = spec.labels
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "id": meta["id"],
        "generated_at": meta["generated_at"],
        "window": meta["window"],
        "baseline": {"label": labels[0], "requests": c["baseline_records"]},
        "canary": {"label": labels[1], "requests": c["canary_records"]},
        "verdict": "inconclusive",
        "reasons": [],
        "endpoints": endpoints,
        "summary": {k: c[k] for k in ("duplicates", "invalid_records", "unlabelled")},
        "invalid_reasons": dict(sorted(partial.invalid_reasons.items())),
        "sources": meta.get("sources", {}),
        "config": {
            "alpha": spec.canary.alpha,
            "min_error_delta": spec.canary.min_error_delta,
            "min_requests": spec.canary.min_requests,
            "latency": {
                "alpha": spec.report.latency_alpha,
                "min_effect": spec.report.latency_min_effect,
            },
            "fail_on": list(meta.get("fail_on", [])),
        },
        "notes": list(meta.get("notes", [])),
    }
    doc["metrics"] = metrics(doc)
    doc["verdict"], doc["reasons"] = decide(doc, fail_on(doc["metrics"]), spec.canary)
    return doc
