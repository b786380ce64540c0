"""The live tests build records with the analysis tests' helpers (tests/analysis/analysis_helpers)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "analysis"))
