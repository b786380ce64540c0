"""cfn-lint, with the project's Lambda@Edge rules, over the real templates and the broken ones.

cfn-lint is run once for this module over every template (a few seconds), and the
tests read its JSON answer: the real templates must be clean, and each template
under tests/infra/templates/ named ``breaks_<RULE>_*.yaml`` must trip exactly that rule.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from infra_support import BROKEN, INFRA, REPO, TEMPLATES, VALID_EXAMPLES

CFN_LINT = Path(sys.executable).with_name("cfn-lint")
RULES_DIR = INFRA / "cfn_rules"


def run_cfn_lint(paths: list[Path], *extra: str) -> dict[str, list[dict[str, Any]]]:
    """Matches per file (relative path), from one cfn-lint run in JSON format."""
    proc = subprocess.run(
        [str(CFN_LINT), "--format", "json", "--append-rules", str(RULES_DIR), *extra, "--"]
        + [str(p.relative_to(REPO)) for p in paths],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.stdout.strip(), f"cfn-lint printed nothing (exit {proc.returncode}): {proc.stderr}"
    by_file: dict[str, list[dict[str, Any]]] = {str(p.relative_to(REPO)): [] for p in paths}
    for match in json.loads(proc.stdout):
        by_file.setdefault(match["Filename"], []).append(match)
    return by_file


@pytest.fixture(scope="module")
def lint_results() -> dict[str, list[dict[str, Any]]]:
    return run_cfn_lint(TEMPLATES + BROKEN + VALID_EXAMPLES)


def _summary(matches: list[dict[str, Any]]) -> list[str]:
    return [f"{m['Rule']['Id']} {m['Message']}" for m in matches]


def _expected_rule(path: Path) -> str:
    found = re.match(r"breaks_(E\d{4})_", path.name)
    assert found, f"{path.name} must be named breaks_<RULE ID>_<what>.yaml"
    return found.group(1)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_project_template_passes_cfn_lint_with_the_edge_rules(template, lint_results):
    matches = lint_results[str(template.relative_to(REPO))]
    assert matches == [], _summary(matches)


@pytest.mark.parametrize("template", VALID_EXAMPLES, ids=lambda p: p.name)
def test_valid_edge_example_passes(template, lint_results):
    matches = lint_results[str(template.relative_to(REPO))]
    assert matches == [], _summary(matches)


@pytest.mark.parametrize("template", BROKEN, ids=lambda p: p.name)
def test_broken_template_trips_exactly_its_rule(template, lint_results):
    matches = lint_results[str(template.relative_to(REPO))]
    assert {m["Rule"]["Id"] for m in matches} == {_expected_rule(template)}, _summary(matches)


def test_every_project_rule_has_a_template_that_breaks_it():
    declared = set()
    for path in RULES_DIR.glob("[A-Za-z]*.py"):
        declared |= set(re.findall(r'^\s+id = "(E\d{4})"', path.read_text(), re.M))
    assert declared == {"E9101", "E9102", "E9103", "E9104", "E9105", "E9106"}
    assert declared <= {_expected_rule(p) for p in BROKEN}


def test_edge_template_linted_for_another_region_is_rejected():
    edge = INFRA / "edge.yaml"
    matches = run_cfn_lint([edge], "--regions", "eu-west-1")[str(edge.relative_to(REPO))]
    assert [m["Rule"]["Id"] for m in matches] == ["E9105"], _summary(matches)
    assert "us-east-1" in matches[0]["Message"]


def test_breaking_messages_name_the_resource_and_the_limit(lint_results):
    limits = next(p for p in BROKEN if p.name.startswith("breaks_E9101"))
    messages = _summary(lint_results[str(limits.relative_to(REPO))])
    assert any("Mirror" in m and "Timeout 10" in m and "at most 5 s" in m for m in messages)
    assert any("MemorySize 256" in m and "at most 128 MB" in m for m in messages)
