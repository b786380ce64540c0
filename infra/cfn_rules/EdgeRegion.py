"""E9105: a Lambda@Edge stack that could be deployed outside us-east-1.

Lambda@Edge functions can only be created in us-east-1, but nothing in a template
says so until the deployment fails in another region. The project requires the
template itself to refuse other regions: a ``Rules`` assertion (or a condition on
every edge function) with ``Fn::Equals [!Ref AWS::Region, us-east-1]``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import _edge_model as edge


def _guarded_by_conditions(template: dict[str, Any], functions: list[str]) -> bool:
    conditions = template.get("Conditions") or {}
    for name in functions:
        condition = template["Resources"][name].get("Condition")
        if not (isinstance(condition, str) and edge.pins_region(conditions.get(condition))):
            return False
    return bool(functions)


class EdgeRegion(CloudFormationLintRule):
    id = "E9105"
    shortdesc = "Lambda@Edge stacks are pinned to us-east-1"
    description = (
        "A template with Lambda@Edge functions or associations must assert "
        "AWS::Region = us-east-1 in its Rules (or condition every edge function on it), "
        "and must not be linted for other regions only."
    )
    source_url = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-restrictions.html"
    tags: ClassVar[list[str]] = ["resources", "lambda", "cloudfront", "lambda@edge"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        template = cfn.template
        functions = sorted(edge.edge_functions(template))
        found = edge.associations(template)
        if not functions and not found:
            return []
        path = list(found[0].path) if found else ["Resources", functions[0]]
        matches: list[RuleMatch] = []
        if not (
            edge.pins_region(template.get("Rules")) or _guarded_by_conditions(template, functions)
        ):
            matches.append(
                RuleMatch(
                    path,
                    "Lambda@Edge template has no us-east-1 guard: add a Rules assertion "
                    "Fn::Equals [!Ref AWS::Region, us-east-1]",
                )
            )
        regions = getattr(cfn, "regions", None) or [edge.EDGE_REGION]
        if edge.EDGE_REGION not in regions:
            matches.append(
                RuleMatch(
                    path, f"Lambda@Edge template linted for {regions}; it only deploys in us-east-1"
                )
            )
        return matches
