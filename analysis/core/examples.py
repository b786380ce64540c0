"""The example pairs written beside the report (``pairs.jsonl.gz``).

One entry per correlation ID named in any endpoint's ``examples`` or in a
field's ``examples``: the three records and the pair's diff with the night's
noise decisions, so the report service can show a pair page without
scanning the night's data.
"""

from __future__ import annotations

from typing import Any

import orjson

from analysis.core.aggregate import FieldKey, Partial
from analysis.core.finalize import endpoint_noise
from analysis.core.pairdiff import pair_line
from analysis.core.settings import ReportSettings

MAX_PAIRS = 2000


def example_pairs(
    report: dict[str, Any], partial: Partial, settings: ReportSettings
) -> list[dict[str, Any]]:
    reasons: dict[str, list[str]] = {}
    where: dict[str, str] = {}
    for ep in report["endpoints"]:
        for ex in ep["examples"]:
            found = reasons.setdefault(ex["correlation_id"], [])
            if ex["reason"] not in found:
                found.append(ex["reason"])
            where.setdefault(ex["correlation_id"], ep["endpoint"])
        for f in ep["body"]["fields"]:
            why = (  # the vocabulary of analysis.core.pairdiff.REASONS
                "noise" if f["noise"] else "headers" if f["path"].startswith("headers.") else "body"
            )
            for cid in f.get("examples", []):
                found = reasons.setdefault(cid, [])
                if why not in found:
                    found.append(why)
                where.setdefault(cid, ep["endpoint"])
    noise: dict[str, dict[FieldKey, str]] = endpoint_noise(partial, settings)
    out = []
    for cid in sorted(reasons)[:MAX_PAIRS]:
        raw = partial.records.get(cid, {})
        recs = {role: orjson.loads(line) for role, line in raw.items()}
        out.append(
            pair_line(cid, where[cid], recs, settings, noise.get(where[cid], {}), reasons[cid])
        )
    return out
