"""The README is the configuration reference, so it cannot drift from the code.

Every command-line flag, every key of the edge and report config files and
every environment variable the code reads must appear in README.md; the
README's example config files are parsed by the real loaders; and the README
opens with exactly the two commands (main job, tests), the second of which is
what CI runs.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
import yaml

from analysis.config import TOP_KEYS as REPORT_KEYS
from analysis.config import settings_from_obj
from edge.config import TOP_KEYS as EDGE_KEYS
from edge.config import parse_config
from shadowdiff.cli import build_parser

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def _commands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix} {name}".strip()
                found[full] = sub
                found.update(_commands(sub, full))
    return found


COMMANDS = _commands(build_parser())
FLAGS = sorted(
    {
        (name, option)
        for name, parser in COMMANDS.items()
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
)


def _fenced(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_readme_opens_with_the_main_job_and_the_test_command() -> None:
    first_block = re.search(r"```\w*\n(.*?)```", README, flags=re.S)
    assert first_block is not None
    commands = [
        line.split("#")[0].strip()
        for line in first_block.group(1).splitlines()
        if line.split("#")[0].strip()
    ]
    assert commands == ["make demo", "make check"]
    assert "make check" in (REPO / ".ci" / "run").read_text()


@pytest.mark.parametrize(("command", "flag"), FLAGS)
def test_every_command_line_flag_is_documented(command: str, flag: str) -> None:
    assert flag in README, f"`shadowdiff {command} {flag}` is not in README.md"


@pytest.mark.parametrize("key", sorted(EDGE_KEYS))
def test_every_edge_config_key_is_documented(key: str) -> None:
    assert f"`{key}`" in README, f"edge config key {key!r} is not in README.md"


@pytest.mark.parametrize("key", sorted(REPORT_KEYS))
def test_every_report_config_key_is_documented(key: str) -> None:
    assert f"`{key}`" in README, f"report config key {key!r} is not in README.md"


def _env_vars_read_by_the_code() -> set[str]:
    found: set[str] = set()
    for pkg in ("shadowdiff", "collector", "analysis", "edge"):
        for path in (REPO / pkg).rglob("*.py"):
            found.update(re.findall(r"\"(SHADOWDIFF_[A-Z_]+|AWS_ENDPOINT_URL)\"", path.read_text()))
    return found


@pytest.mark.parametrize("name", sorted(_env_vars_read_by_the_code()))
def test_every_environment_variable_is_documented(name: str) -> None:
    assert f"`{name}`" in README, f"environment variable {name} is not in README.md"


def test_the_readme_report_config_example_loads() -> None:
    blocks = [b for b in _fenced("yaml") if "ignore:" in b]
    assert blocks, "README has no report config example"
    for block in blocks:
        settings_from_obj(yaml.safe_load(block))


def test_the_readme_edge_config_example_validates() -> None:
    blocks = [b for b in _fenced("json") if '"targets"' in b]
    assert blocks, "README has no edge config example"
    for block in blocks:
        parse_config(json.loads(block))


# ---------------------------------------------------------------- the shipped contract

CONTRACT = (REPO / "docs" / "contract.md").read_text(encoding="utf-8")
SCHEMAS = {
    "capture": REPO / "shadowdiff" / "model" / "schemas" / "capture-1.schema.json",
    "report": REPO / "analysis" / "report" / "report-1.schema.json",
    "canary": REPO / "analysis" / "canary" / "canary-1.schema.json",
}


def _schema_keys(node: object, found: set[str]) -> set[str]:
    """Every key a JSON Schema names: its properties and required members, at any depth."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            found.update(props)
        required = node.get("required")
        if isinstance(required, list):
            found.update(k for k in required if isinstance(k, str))
        for key, value in node.items():
            if key not in ("properties", "required", "enum", "const", "pattern"):
                _schema_keys(value, found)
        if isinstance(props, dict):
            for value in props.values():
                _schema_keys(value, found)
    elif isinstance(node, list):
        for value in node:
            _schema_keys(value, found)
    return found


SCHEMA_KEYS = sorted(
    {
        (name, key)
        for name, path in SCHEMAS.items()
        for key in _schema_keys(json.loads(path.read_text()), set())
    }
)


@pytest.mark.parametrize(("schema", "key"), SCHEMA_KEYS)
def test_every_key_of_each_shipped_json_schema_is_described_in_the_contract(
    schema: str, key: str
) -> None:
    assert f"`{key}`" in CONTRACT, f"{schema} schema key {key!r} is not in docs/contract.md"


def test_the_contract_has_every_section_the_code_cites() -> None:
    cited: set[str] = set()
    for pkg in ("shadowdiff", "collector", "analysis", "edge", "infra", "docs", "tests"):
        for path in (REPO / pkg).rglob("*"):
            if path.suffix in (".py", ".md", ".yaml", ".j2") and path.is_file():
                cited.update(re.findall(r"contract\.md §(\d+)", path.read_text(errors="replace")))
    headings = set(re.findall(r"^## (\d+)\. ", CONTRACT, flags=re.M))
    assert cited <= headings, f"cited but missing: {sorted(cited - headings)}"
    assert headings == {str(n) for n in range(1, 13)}
