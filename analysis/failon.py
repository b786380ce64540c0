"""``--fail-on`` thresholds: ``metric op number`` over the finished report.

Rates are 0 when their denominator is 0:

- ``status_mismatch_rate`` = summary.status_mismatches / summary.pairs
- ``body_mismatch_rate`` = summary.body_mismatches / Σ endpoints' body.compared
- ``shadow_error_rate`` = summary.shadow_errors / summary.shadow_records
- ``primary_only_rate`` = summary.primary_only / summary.primary_records
- ``shadow_only_rate`` = summary.shadow_only / summary.shadow_records
- ``invalid_rate`` = invalid_records / (invalid_records + every valid record read)
- ``slower_endpoints`` = number of endpoints whose latency verdict is ``slower``
- any ``summary`` count by name (``status_mismatches``, ``shadow_errors``, …)
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from analysis.core.aggregate import SUMMARY_KEYS

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
EXPR = re.compile(r"^\s*([a-z_]+)\s*(>=|<=|==|!=|>|<)\s*([0-9.eE+-]+)\s*$")
COUNTS = (*SUMMARY_KEYS, "status_mismatches", "body_mismatches")
METRICS = {
    "status_mismatch_rate",
    "body_mismatch_rate",
    "shadow_error_rate",
    "primary_only_rate",
    "shadow_only_rate",
    "invalid_rate",
    "slower_endpoints",
    *COUNTS,
}


def _rate(n: float, d: float) -> float:
    return n / d if d else 0.0


def metrics(report: dict[str, Any]) -> dict[str, float]:
    s = report["summary"]
    compared = sum(e["body"]["compared"] for e in report["endpoints"])
    valid = s["primary_records"] + s["shadow_records"] + s["secondary_records"] + s["duplicates"]
    out = {name: float(s[name]) for name in COUNTS}
    out.update(
        status_mismatch_rate=_rate(s["status_mismatches"], s["pairs"]),
        body_mismatch_rate=_rate(s["body_mismatches"], compared),
        shadow_error_rate=_rate(s["shadow_errors"], s["shadow_records"]),
        primary_only_rate=_rate(s["primary_only"], s["primary_records"]),
        shadow_only_rate=_rate(s["shadow_only"], s["shadow_records"]),
        invalid_rate=_rate(s["invalid_records"], s["invalid_records"] + valid),
        slower_endpoints=float(
            sum(1 for e in report["endpoints"] if e["latency_ms"]["verdict"] == "slower")
        ),
    )
    return out


def evaluate_values(
    values: dict[str, float], exprs: list[str] | tuple[str, ...]
) -> list[tuple[str, float, bool]]:
    """Each well-formed expression (stripped), the value it measures and whether it holds.

    ``values`` are a report's :func:`metrics` or a canary's; ``watch`` reports the
    transitions of these verdicts, ``report`` and ``canary`` the ones that hold.
    """
    out = []
    for expr in exprs:
        m = EXPR.match(expr)
        if m is None:
            continue
        name, op, limit = m.group(1), m.group(2), float(m.group(3))
        value = values[name]
        out.append((expr.strip(), value, _OPS[op](value, limit)))
    return out


def evaluate(
    report: dict[str, Any], exprs: list[str] | tuple[str, ...]
) -> list[tuple[str, float, bool]]:
    """:func:`evaluate_values` over a report's metrics."""
    return evaluate_values(metrics(report), exprs)


def holding(values: dict[str, float], exprs: list[str] | tuple[str, ...]) -> list[str]:
    """The expressions that hold for these metric values, each with the measured value."""
    return [
        f"{expr} (measured {value:.6g})"
        for expr, value, holds in evaluate_values(values, exprs)
        if holds
    ]


def crossed(report: dict[str, Any], exprs: list[str] | tuple[str, ...]) -> list[str]:
    """The expressions that hold for this report, each with the measured value."""
    return holding(metrics(report), exprs)
