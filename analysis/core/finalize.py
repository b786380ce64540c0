"""Merged :class:`Partial` → the ``shadowdiff.report/1`` document (docs/contract.md §4).

Decisions that need the whole night happen here: each field's noise reason,
which pairs count as body mismatches (a pair whose set of differing fields
holds at least one non-noise body field), latency verdicts, severity order.
"""

from __future__ import annotations

from typing import Any

from analysis.core.aggregate import EndpointAgg, FieldKey, Partial
from analysis.core.bodies import is_header_path
from analysis.core.contrast import reader
from analysis.core.noise import RuleMatcher, is_auto_noise, is_secondary_noise
from analysis.core.settings import ReportSettings
from analysis.core.stats import latency_chart, latency_summary


def noise_reasons(
    endpoint: str, agg: EndpointAgg, rules: RuleMatcher, settings: ReportSettings
) -> dict[FieldKey, str | None]:
    out: dict[FieldKey, str | None] = {}
    for (path, kind), stat in agg.fields.items():
        reason: str | None = None
        if rules.ignored(endpoint, path):
            reason = "rule"
        elif is_secondary_noise(
            stat.count,
            agg.compared,
            agg.sec_fields.get((path, kind), 0),
            agg.sec_compared,
            settings,
        ):
            reason = "secondary"
        elif settings.auto_noise and is_auto_noise(
            kind, stat.count, agg.compared, stat.checked, stat.shaped, stat.sketch
        ):
            reason = "auto"
        out[(path, kind)] = reason
    return out


def _counts_as_mismatch(sig: frozenset[FieldKey], noise: dict[FieldKey, str | None]) -> bool:
    return any(noise.get(fk) is None and not is_header_path(fk[0]) for fk in sig)


def severity(ep: dict[str, Any]) -> float:
    """Rank endpoints: status and error rates weigh most, then body mismatches, then slowness."""
    pairs = max(ep["pairs"], 1)
    compared = max(ep["body"]["compared"], 1)
    score = 2.0 * (ep["status"]["mismatches"] + ep.get("errors", 0)) / pairs
    score += ep["body"]["mismatches"] / compared
    score += 0.5 if ep["latency_ms"]["verdict"] == "slower" else 0.0
    return float(round(score, 6))


def endpoint_report(
    name: str, agg: EndpointAgg, rules: RuleMatcher, settings: ReportSettings
) -> tuple[dict[str, Any], dict[FieldKey, str | None]]:
    noise = noise_reasons(name, agg, rules, settings)
    k = max(1, settings.examples_per_reason)
    mismatches = 0
    body_examples: set[str] = set()
    for sig, sstat in agg.signatures.items():
        if _counts_as_mismatch(sig, noise):
            mismatches += sstat.count
            body_examples.update(sstat.examples)
    real = {fk: stat.count for fk, stat in agg.fields.items() if noise[fk] is None}
    expand = reader(settings.explain_headers)
    why = agg.explain.fields(real, agg.compared, expand)
    fields: list[dict[str, Any]] = []
    for (path, kind), stat in agg.fields.items():
        reason = noise[(path, kind)]
        entry = {
            "path": path,
            "kind": kind,
            "count": stat.count,
            "rate": stat.count / agg.compared if agg.compared else 0.0,
            "noise": reason is not None,
            "noise_reason": reason,
            "examples": list(stat.examples),
        }
        if reason is None:
            entry["explain"] = why[(path, kind)]
        fields.append(entry)
    fields.sort(key=lambda f: (f["noise"], -f["count"], f["path"], f["kind"]))
    latency = latency_summary(agg.latency, settings.latency_alpha, settings.latency_min_effect)
    examples: list[dict[str, str]] = []
    for reason, ids in (
        ("status", agg.examples.get("status", [])),
        ("body", sorted(body_examples)[:k]),
        ("error", agg.examples.get("error", [])),
        ("latency", [cid for _, cid in agg.slowest] if latency["verdict"] == "slower" else []),
    ):
        examples.extend({"correlation_id": cid, "reason": reason} for cid in ids[:k])
    report = {
        "endpoint": name,
        "pairs": agg.pairs,
        "errors": agg.errors,
        "status": {
            "mismatches": agg.status_mismatches,
            "matrix": dict(sorted(agg.matrix.items())),
            "explain": agg.explain.cells(agg.matrix, agg.pairs, expand),
        },
        "latency_ms": latency,
        "body": {"compared": agg.compared, "mismatches": mismatches, "fields": fields},
        "examples": examples,
        "chart": latency_chart(agg.latency),
    }
    report["severity"] = severity(report)
    return report, noise


def build_report(
    partial: Partial, settings: ReportSettings, meta: dict[str, Any]
) -> dict[str, Any]:
    """The report document; ``meta`` supplies id, generated_at, window, sources, notes."""
    rules = RuleMatcher(settings)
    endpoints = []
    for name, agg in partial.endpoints.items():
        if agg.pairs == 0:
            continue  # seen only as primary/secondary: nothing to report against the shadow
        endpoints.append(endpoint_report(name, agg, rules, settings)[0])
    endpoints.sort(key=lambda e: (-e["severity"], e["endpoint"]))
    c = partial.counts
    summary = {
        "primary_records": c["primary_records"],
        "shadow_records": c["shadow_records"],
        "secondary_records": c["secondary_records"],
        "pairs": c["pairs"],
        "primary_only": c["primary_only"],
        "shadow_only": c["shadow_only"],
        "duplicates": c["duplicates"],
        "invalid_records": c["invalid_records"],
        "status_mismatches": sum(e["status"]["mismatches"] for e in endpoints),
        "body_mismatches": sum(e["body"]["mismatches"] for e in endpoints),
        "shadow_errors": c["shadow_errors"],
        "body_compared": sum(e["body"]["compared"] for e in endpoints),
    }
    report: dict[str, Any] = {
        "schema": "shadowdiff.report/1",
        "id": meta["id"],
        "generated_at": meta["generated_at"],
        "window": meta["window"],
        "summary": summary,
        "endpoints": endpoints,
        "invalid_reasons": dict(sorted(partial.invalid_reasons.items())),
        "sources": meta.get("sources", {}),
        "config": meta.get("config", {}),
        "notes": list(meta.get("notes", [])),
    }
    return report


def endpoint_noise(partial: Partial, settings: ReportSettings) -> dict[str, dict[FieldKey, str]]:
    """Per endpoint, the fields decided as noise and why (for example pairs' diffs)."""
    rules = RuleMatcher(settings)
    out: dict[str, dict[FieldKey, str]] = {}
    for name, agg in partial.endpoints.items():
        noise = noise_reasons(name, agg, rules, settings)
        out[name] = {fk: r for fk, r in noise.items() if r is not None}
    return out
