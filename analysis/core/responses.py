"""Comparing two records' responses: the one rule every caller shares (docs/contract.md §4).

The nightly reducer (:mod:`analysis.core.pairing`), the single-pair diff the
report service calls (:mod:`analysis.core.pairdiff`), watch and the canary
all decide "which fields of these two responses differ" and "which endpoint
is this record's" the same way, so the rule lives here, under none of them.
"""

from __future__ import annotations

from typing import Any

from analysis.core.bodies import compare_bodies, compare_headers
from analysis.core.endpoints import endpoint_name
from analysis.core.leaves import DiffOptions, RawDiff
from analysis.core.settings import ReportSettings

# A primary record made from a CloudFront log line: status and latency, no body.
CLOUDFRONT_MARK = "_shadowdiff_cloudfront"


def diff_options(settings: ReportSettings) -> DiffOptions:
    return DiffOptions(
        settings.numeric_absolute, settings.numeric_relative, settings.ignore_list_order
    )


def response_diffs(
    p: dict[str, Any], s: dict[str, Any], opts: DiffOptions, headers: tuple[str, ...]
) -> list[RawDiff]:
    """Body fields and compared headers that differ between two responses."""
    return compare_bodies(p, s, opts) + compare_headers(p, s, headers)


def record_endpoint(record: dict[str, Any], routes: tuple[str, ...]) -> str:
    req = record.get("request") or {}
    return endpoint_name(str(req.get("method", "GET")), str(req.get("path", "/")), routes)
