"""Diff one pair of record dicts, and the one builder of a ``pairs.jsonl.gz`` line.

:func:`pair_line` is what the report writes beside report.json and what the
service builds for a pair it read from the records; both use one vocabulary of
reasons (:data:`REASONS`), so a pair page reads the same whichever way its
pair was found.

``diff_pair(primary, shadow, secondary, settings)`` returns every differing
field (body paths and ``headers.<name>``) with its noise flag. Noise decided
over a whole night (``secondary`` rates, ``auto``) is not knowable from one
pair: pass the report's per-endpoint ``known_noise`` (``(path, kind) →
reason``) to reuse it; otherwise a field is ``secondary`` noise when this
pair's secondary differs from its primary at the same path and kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.core.noise import RuleMatcher
from analysis.core.responses import (
    CLOUDFRONT_MARK,
    diff_options,
    record_endpoint,
    response_diffs,
)
from analysis.core.settings import ReportSettings


@dataclass(frozen=True, slots=True)
class FieldDiff:
    path: str
    kind: str
    primary: Any
    shadow: Any
    noise: bool = False
    noise_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "primary": self.primary,
            "shadow": self.shadow,
            "noise": self.noise,
            "noise_reason": self.noise_reason,
        }


def diff_pair(
    primary: Mapping[str, Any] | None,
    shadow: Mapping[str, Any] | None,
    secondary: Mapping[str, Any] | None,
    settings: ReportSettings,
    known_noise: Mapping[tuple[str, str], str] | None = None,
) -> list[FieldDiff]:
    """Field differences between the primary and shadow responses of one request.

    Empty when either side has no response or the primary is a CloudFront log line.
    Statuses are not compared here (the report counts those); bodies are diffed
    whenever both responses exist so a pair page can show them.
    """
    if primary is None or shadow is None:
        return []
    pr, sr = primary.get("response"), shadow.get("response")
    if pr is None or sr is None or primary.get(CLOUDFRONT_MARK):
        return []
    opts, headers = diff_options(settings), settings.headers_to_compare()
    raw = response_diffs(pr, sr, opts, headers)
    sec_keys: set[tuple[str, str]] = set()
    if secondary is not None and secondary.get("response") is not None:
        xr = secondary["response"]
        sec_keys = {(d[0], d[1]) for d in response_diffs(pr, xr, opts, headers)}
    rules = RuleMatcher(settings)
    endpoint = record_endpoint(dict(primary), settings.routes)
    out = []
    for path, kind, pv, sv in raw:
        reason: str | None = None
        if rules.ignored(endpoint, path):
            reason = "rule"
        elif known_noise and (path, kind) in known_noise:
            reason = known_noise[(path, kind)]
        elif (path, kind) in sec_keys:
            reason = "secondary"
        out.append(FieldDiff(path, kind, pv, sv, reason is not None, reason))
    return out


#: Why a pair is worth a look, in this order: its shadow gave no response; the
#: statuses differ; a body field or a compared header differs (not noise); it is
#: among its endpoint's slowest (the report knows that, not the pair); only noise
#: differs there (a field's example the report names).
REASONS = ("error", "status", "body", "headers", "latency", "noise")


def pair_reasons(
    primary: Mapping[str, Any] | None,
    shadow: Mapping[str, Any] | None,
    diff: list[FieldDiff],
    chosen: tuple[str, ...] | list[str] = (),
) -> list[str]:
    """The pair's reasons: what its records show, plus ``chosen`` (why a report picked it)."""
    found = set(chosen)
    pr, sr = (primary or {}).get("response"), (shadow or {}).get("response")
    if shadow is not None and sr is None:
        found.add("error")
    if pr and sr and pr.get("status") != sr.get("status"):
        found.add("status")
    for d in diff:
        if not d.noise:
            found.add("headers" if d.path.startswith("headers.") else "body")
    return [r for r in REASONS if r in found]


def pair_line(
    cid: str,
    endpoint: str,
    records: Mapping[str, Mapping[str, Any] | None],
    settings: ReportSettings,
    known_noise: Mapping[tuple[str, str], str] | None = None,
    chosen: tuple[str, ...] | list[str] = (),
) -> dict[str, Any]:
    """One ``pairs.jsonl.gz`` line: the three records, their diff with noise flags, the reasons."""
    prim, shad, sec = (records.get(role) for role in ("primary", "shadow", "secondary"))
    diff = diff_pair(prim, shad, sec, settings, known_noise)
    return {
        "correlation_id": cid,
        "endpoint": endpoint,
        "reasons": pair_reasons(prim, shad, diff, chosen),
        "records": {"primary": prim, "shadow": shad, "secondary": sec},
        "diff": [d.to_dict() for d in diff],
    }
