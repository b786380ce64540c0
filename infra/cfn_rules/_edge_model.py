"""What the Lambda@Edge rules share: the associations in a template and the functions behind them.

cfn-lint loads every ``[A-Za-z1-9]*.py`` file here as a stand-alone module (not a
package), so this helper starts with ``_`` to stay out of rule discovery and the
rules import it through :func:`load` rather than a relative import.

Everything here reads the parsed template as plain data (``Ref``/``Fn::*`` dicts);
an ``Fn::If`` is followed down both branches, so a condition cannot hide a bad value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Lambda@Edge quotas per trigger: (max timeout in s, max memory in MB).
LIMITS = {
    "viewer-request": (5, 128),
    "viewer-response": (5, 128),
    "origin-request": (30, 10240),
    "origin-response": (30, 10240),
}
REQUEST_EVENTS = ("viewer-request", "origin-request")
MIRROR_HANDLER = "edge.handler.handler"
SPLIT_HANDLER = "edge.split.handler"  # the canary split: origin-request only (E9106)
EDGE_REGION = "us-east-1"
LAMBDA_DEFAULTS = {"Timeout": 3, "MemorySize": 128}


@dataclass(frozen=True)
class Association:
    """One entry of a cache behavior's ``LambdaFunctionAssociations``."""

    path: tuple[Any, ...]
    event_type: Any
    include_body: Any
    arn: Any


@dataclass(frozen=True)
class Target:
    """What an association's ``LambdaFunctionARN`` points at.

    ``kind``: ``version`` (a published version: good), ``function`` or ``alias``
    (unversioned: CloudFront rejects it), ``parameter``, ``literal`` or ``unknown``.
    """

    kind: str
    function: str | None = None
    detail: str = ""


def branches(value: Any) -> Iterator[Any]:
    """The values ``value`` can take: both sides of every ``Fn::If``, else itself."""
    if isinstance(value, dict) and len(value) == 1 and "Fn::If" in value:
        args = value["Fn::If"]
        if isinstance(args, list) and len(args) == 3:
            yield from branches(args[1])
            yield from branches(args[2])
            return
    yield value


def associations(template: dict[str, Any]) -> list[Association]:
    """Every Lambda association of every CloudFront distribution in the template."""
    found: list[Association] = []
    resources = template.get("Resources") or {}
    for name, resource in resources.items():
        if (
            not isinstance(resource, dict)
            or resource.get("Type") != "AWS::CloudFront::Distribution"
        ):
            continue
        config = (resource.get("Properties") or {}).get("DistributionConfig")
        if not isinstance(config, dict):
            continue
        base: tuple[Any, ...] = ("Resources", name, "Properties", "DistributionConfig")
        behaviors: list[tuple[tuple[Any, ...], Any]] = [
            ((*base, "DefaultCacheBehavior"), config.get("DefaultCacheBehavior"))
        ]
        extra = config.get("CacheBehaviors")
        if isinstance(extra, list):
            behaviors += [((*base, "CacheBehaviors", i), b) for i, b in enumerate(extra)]
        for path, behavior in behaviors:
            for option in branches(behavior):
                if not isinstance(option, dict):
                    continue
                items = option.get("LambdaFunctionAssociations")
                for items_option in branches(items):
                    if not isinstance(items_option, list):
                        continue
                    for i, item in enumerate(items_option):
                        for entry in branches(item):
                            if isinstance(entry, dict):
                                found.append(
                                    Association(
                                        path=(*path, "LambdaFunctionAssociations", i),
                                        event_type=entry.get("EventType"),
                                        include_body=entry.get("IncludeBody"),
                                        arn=entry.get("LambdaFunctionARN"),
                                    )
                                )
    return found


def _resource(template: dict[str, Any], name: Any) -> dict[str, Any] | None:
    resources = template.get("Resources") or {}
    found = resources.get(name) if isinstance(name, str) else None
    return found if isinstance(found, dict) else None


def handler_of(template: dict[str, Any], function: str | None) -> Any:
    """The ``Handler`` property of a function resource (None when unknown)."""
    resource = _resource(template, function)
    return (resource.get("Properties") or {}).get("Handler") if resource else None


def _logical_name(value: Any) -> str | None:
    """``F`` from ``{"Ref": F}``, ``{"Fn::GetAtt": [F, attr]}`` or ``{"Fn::GetAtt": "F.attr"}``."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    if "Ref" in value and isinstance(value["Ref"], str):
        return str(value["Ref"])
    getatt = value.get("Fn::GetAtt")
    if isinstance(getatt, list) and getatt and isinstance(getatt[0], str):
        return getatt[0]
    if isinstance(getatt, str):
        return getatt.split(".", 1)[0]
    return None


def resolve(template: dict[str, Any], arn: Any) -> Target:
    """Follow an association's ``LambdaFunctionARN`` to the function resource behind it."""
    if isinstance(arn, str):
        return Target("literal", detail=arn)
    name = _logical_name(arn)
    if name is None:
        return Target("unknown", detail=str(arn))
    if name in (template.get("Parameters") or {}):
        return Target("parameter", detail=name)
    resource = _resource(template, name)
    kind = resource.get("Type") if resource else None
    if kind in ("AWS::Lambda::Function", "AWS::Serverless::Function"):
        return Target("function", function=name, detail=name)
    if kind in ("AWS::Lambda::Version", "AWS::Lambda::Alias") and resource is not None:
        function = _logical_name((resource.get("Properties") or {}).get("FunctionName"))
        target_kind = "version" if kind == "AWS::Lambda::Version" else "alias"
        return Target(target_kind, function=function, detail=name)
    return Target("unknown", detail=name)


def _mentions(value: Any, text: str) -> bool:
    if isinstance(value, dict):
        return any(_mentions(v, text) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, text) for v in value)
    return isinstance(value, str) and value == text


def _trusts_edgelambda(role: dict[str, Any] | None) -> bool:
    if not role or role.get("Type") != "AWS::IAM::Role":
        return False
    document = (role.get("Properties") or {}).get("AssumeRolePolicyDocument")
    return _mentions(document, "edgelambda.amazonaws.com")


def edge_functions(template: dict[str, Any]) -> dict[str, set[str]]:
    """Logical names of edge functions mapped to the event types they serve.

    A function is an edge function when an association resolves to it, or when its
    role can be assumed by ``edgelambda.amazonaws.com`` (event types then unknown).
    """
    found: dict[str, set[str]] = {}
    for association in associations(template):
        target = resolve(template, association.arn)
        if target.function and _resource(template, target.function):
            events = found.setdefault(target.function, set())
            if isinstance(association.event_type, str):
                events.add(association.event_type)
    for name, resource in (template.get("Resources") or {}).items():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::Lambda::Function":
            role = _logical_name((resource.get("Properties") or {}).get("Role"))
            if _trusts_edgelambda(_resource(template, role)):
                found.setdefault(name, set())
    return found


def number(template: dict[str, Any], value: Any) -> int | None:
    """An integer property value, following ``Ref`` to a parameter's ``Default``."""
    name = _logical_name(value)
    if name is not None:
        parameter = (template.get("Parameters") or {}).get(name)
        value = parameter.get("Default") if isinstance(parameter, dict) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def pins_region(value: Any) -> bool:
    """Whether ``value`` contains ``Fn::Equals`` of ``AWS::Region`` and ``us-east-1``."""
    if isinstance(value, dict):
        equals = value.get("Fn::Equals")
        if isinstance(equals, list) and len(equals) == 2:
            region = {"Ref": "AWS::Region"}
            if (equals[0] == region and equals[1] == EDGE_REGION) or (
                equals[1] == region and equals[0] == EDGE_REGION
            ):
                return True
        return any(pins_region(v) for v in value.values())
    if isinstance(value, list):
        return any(pins_region(v) for v in value)
    return False
