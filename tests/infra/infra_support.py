"""Helpers for the infra tests: reading templates as data and cutting them down for moto.

Templates are parsed with cfn-lint's own decoder, so short-form tags (``!Ref``,
``!Sub``) arrive as the long-form dicts CloudFormation itself sees.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
TEMPLATES = sorted(INFRA.glob("*.yaml"))
BROKEN = sorted((Path(__file__).parent / "templates").glob("breaks_*.yaml"))
VALID_EXAMPLES = sorted((Path(__file__).parent / "templates").glob("edge_valid*.yaml"))

_SUB_VAR = re.compile(r"\$\{([^}!]+)\}")


def load(path: Path) -> dict[str, Any]:
    template, problems = decode(str(path))
    assert not problems, f"{path} does not parse: {problems}"
    assert isinstance(template, dict)
    return template


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in template["Resources"].items() if r["Type"] == kind}


def references(value: Any) -> Iterator[str]:
    """Logical names a value refers to through ``Ref``, ``Fn::GetAtt`` or ``Fn::Sub``."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner
            elif key == "Fn::GetAtt":
                yield inner[0] if isinstance(inner, list) else str(inner).split(".", 1)[0]
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                yield from (m.split(".", 1)[0] for m in _SUB_VAR.findall(text))
                if isinstance(inner, list):
                    yield from references(inner[1])
            else:
                yield from references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from references(inner)


def strip_for_moto(template: dict[str, Any], keep: set[str]) -> dict[str, str]:
    """Drop (in place) resources whose type is not in ``keep``, everything that refers to
    them, and the outputs that read them. Returns ``{logical name: type}`` of what went."""
    resources = template["Resources"]
    removed = {name: r["Type"] for name, r in resources.items() if r["Type"] not in keep}
    changed = True
    while changed:
        changed = False
        for name, resource in list(resources.items()):
            if name not in removed and set(references(resource)) & set(removed):
                removed[name] = resource["Type"]
                changed = True
    for name in removed:
        resources.pop(name, None)
    outputs = template.get("Outputs") or {}
    template["Outputs"] = {
        key: out for key, out in outputs.items() if not set(references(out)) & set(removed)
    }
    return removed


def render_sub(text: str, values: dict[str, str]) -> str:
    """Resolve a ``Fn::Sub`` string with the given values; ``${!x}`` becomes ``${x}``."""
    rendered = _SUB_VAR.sub(lambda m: values[m.group(1)], text)
    return rendered.replace("${!", "${")
