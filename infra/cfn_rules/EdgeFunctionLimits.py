"""E9101: a Lambda@Edge function over its trigger's timeout or memory quota.

cfn-lint checks Timeout and MemorySize against the plain Lambda limits (900 s,
10 GB); CloudFront only finds out at association time that a viewer trigger may
use at most 5 s and 128 MB (origin triggers 30 s), and the deployment fails late.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import _edge_model as edge


class EdgeFunctionLimits(CloudFormationLintRule):
    id = "E9101"
    shortdesc = "Lambda@Edge timeout and memory within the trigger's quota"
    description = (
        "A function associated with a viewer trigger may have at most a 5 s timeout and "
        "128 MB of memory; with an origin trigger at most 30 s."
    )
    source_url = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-restrictions.html"
    tags: ClassVar[list[str]] = ["resources", "lambda", "cloudfront", "lambda@edge"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        template = cfn.template
        matches: list[RuleMatch] = []
        for name, events in edge.edge_functions(template).items():
            properties = template["Resources"][name].get("Properties") or {}
            for event in sorted(e for e in events if e in edge.LIMITS):
                max_timeout, max_memory = edge.LIMITS[event]
                for key, limit, unit in (
                    ("Timeout", max_timeout, "s"),
                    ("MemorySize", max_memory, "MB"),
                ):
                    value = edge.number(template, properties.get(key, edge.LAMBDA_DEFAULTS[key]))
                    if value is not None and value > limit:
                        matches.append(
                            RuleMatch(
                                ["Resources", name, "Properties", key],
                                f"Lambda@Edge function {name} has {key} {value} {unit}; "
                                f"a {event} trigger allows at most {limit} {unit}",
                            )
                        )
        return matches
