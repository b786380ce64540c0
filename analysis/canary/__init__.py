"""``shadowdiff canary``'s adapters: sources per arm, the engine run, and the canary folder.

The pure logic lives in :mod:`analysis.core.canary`; this package wires it to
sources (:mod:`analysis.sources`), the report's engines and the files it writes.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

FILES = {
    "canary.html": "text/html; charset=utf-8",
    "canary.md": "text/markdown; charset=utf-8",
    "canary.json": "application/json",  # last: what readers (shadowdiff serve) list by
}


def canary_schema() -> dict[str, Any]:
    """The JSON Schema of ``canary.json`` (``shadowdiff.canary/1``)."""
    text = resources.files("analysis.canary").joinpath("canary-1.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema
