"""Report outputs: report.json (+ JSON Schema), report.html, report.md, pairs.jsonl.gz."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, cast


def json_schema() -> dict[str, Any]:
    """The shipped JSON Schema of ``shadowdiff.report/1`` (draft 2020-12)."""
    text = resources.files("analysis.report").joinpath("report-1.schema.json").read_text()
    return cast(dict[str, Any], json.loads(text))
