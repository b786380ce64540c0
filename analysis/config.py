"""The report configuration file (docs/contract.md §5) → :class:`ReportSettings`.

Every key is checked: an unknown key or a malformed value raises
:class:`ConfigError` naming the key (``ignore[1].paths``), so a typo never
silently changes a nightly report. Keys beyond the contract are documented
in ``docs/analysis.md``: ``compare_headers``, ``secondary_noise``,
``auto_noise``, ``examples``; ``explain`` is in ``docs/explain.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analysis.core.settings import DEFAULT_COMPARE_HEADERS, IgnoreRule, ReportSettings
from shadowdiff.model.errors import ConfigError

TOP_KEYS = {
    "ignore",
    "ignore_headers",
    "numeric_tolerance",
    "ignore_list_order",
    "routes",
    "latency",
    "fail_on",
    "compare_headers",
    "secondary_noise",
    "auto_noise",
    "examples",
    "canary",  # shadowdiff canary's thresholds (analysis.core.canary.settings)
    "explain",
}
MAX_EXPLAIN_SAMPLE = 1_000_000


def _bad(key: str, why: str) -> ConfigError:
    return ConfigError(f"config key {key!r}: {why}")


def _str_list(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(key, "expected a list of strings")
    return tuple(value)


def _number(value: Any, key: str, lo: float = 0.0, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(key, "expected a number")
    if value < lo or (hi is not None and value > hi):
        raise _bad(key, f"expected a number from {lo} to {hi if hi is not None else 'infinity'}")
    return float(value)


def _mapping(value: Any, key: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(key, "expected a mapping")
    for sub in value:
        if sub not in allowed:
            raise _bad(
                f"{key}.{sub}", "unknown key (expected one of " + ", ".join(sorted(allowed)) + ")"
            )
    return value


def _ignore(value: Any) -> tuple[IgnoreRule, ...]:
    if not isinstance(value, list):
        raise _bad("ignore", "expected a list of {endpoint, paths}")
    rules = []
    for i, item in enumerate(value):
        key = f"ignore[{i}]"
        rule = _mapping(item, key, {"endpoint", "paths"})
        endpoint = rule.get("endpoint", "*")
        if not isinstance(endpoint, str) or not endpoint:
            raise _bad(
                f"{key}.endpoint", "expected a non-empty string (a glob over endpoint names)"
            )
        if "paths" not in rule:
            raise _bad(f"{key}.paths", "missing")
        paths = _str_list(rule["paths"], f"{key}.paths")
        for p in paths:
            if not p.strip():
                raise _bad(f"{key}.paths", "empty path")
        rules.append(IgnoreRule(endpoint, paths))
    return tuple(rules)


def parse_fail_on(
    exprs: tuple[str, ...], key: str = "fail_on", known: frozenset[str] | set[str] | None = None
) -> tuple[str, ...]:
    """Check ``metric op number`` expressions; ``known`` metrics default to the report's."""
    from analysis.failon import EXPR, METRICS

    names = METRICS if known is None else known
    for expr in exprs:
        m = EXPR.match(expr)
        if not m:
            raise _bad(key, f"cannot parse {expr!r} (expected 'metric > number')")
        if m.group(1) not in names:
            raise _bad(
                key, f"unknown metric {m.group(1)!r} (known: " + ", ".join(sorted(names)) + ")"
            )
        try:
            float(m.group(3))
        except ValueError as exc:
            raise _bad(key, f"bad number in {expr!r}") from exc
    return exprs


def settings_from_obj(obj: Any) -> ReportSettings:
    if obj is None:
        obj = {}
    if not isinstance(obj, dict):
        raise ConfigError("config: the top level must be a mapping")
    for key in obj:
        if key not in TOP_KEYS:
            raise _bad(
                str(key), "unknown key (expected one of " + ", ".join(sorted(TOP_KEYS)) + ")"
            )
    kw: dict[str, Any] = {}
    if "ignore" in obj:
        kw["ignore"] = _ignore(obj["ignore"])
    if "ignore_headers" in obj:
        kw["ignore_headers"] = tuple(
            h.lower() for h in _str_list(obj["ignore_headers"], "ignore_headers")
        )
    if "compare_headers" in obj:
        kw["compare_headers"] = tuple(
            h.lower() for h in _str_list(obj["compare_headers"], "compare_headers")
        )
    if "numeric_tolerance" in obj:
        tol = _mapping(obj["numeric_tolerance"], "numeric_tolerance", {"absolute", "relative"})
        kw["numeric_absolute"] = _number(tol.get("absolute", 0.0), "numeric_tolerance.absolute")
        kw["numeric_relative"] = _number(tol.get("relative", 0.0), "numeric_tolerance.relative")
    if "ignore_list_order" in obj:
        if not isinstance(obj["ignore_list_order"], bool):
            raise _bad("ignore_list_order", "expected true or false")
        kw["ignore_list_order"] = obj["ignore_list_order"]
    if "routes" in obj:
        routes = _str_list(obj["routes"], "routes")
        for r in routes:
            if not r.startswith("/"):
                raise _bad("routes", f"route template {r!r} must start with '/'")
        kw["routes"] = routes
    if "latency" in obj:
        lat = _mapping(obj["latency"], "latency", {"alpha", "min_effect"})
        kw["latency_alpha"] = _number(lat.get("alpha", 0.01), "latency.alpha", 0.0, 1.0)
        kw["latency_min_effect"] = _number(lat.get("min_effect", 0.05), "latency.min_effect")
    if "fail_on" in obj:
        kw["fail_on"] = parse_fail_on(_str_list(obj["fail_on"], "fail_on"))
    if "secondary_noise" in obj:
        sec = _mapping(obj["secondary_noise"], "secondary_noise", {"absolute", "relative"})
        kw["secondary_absolute"] = _number(
            sec.get("absolute", 0.03), "secondary_noise.absolute", 0.0, 1.0
        )
        kw["secondary_relative"] = _number(sec.get("relative", 0.2), "secondary_noise.relative")
    if "auto_noise" in obj:
        if not isinstance(obj["auto_noise"], bool):
            raise _bad("auto_noise", "expected true or false")
        kw["auto_noise"] = obj["auto_noise"]
    if "canary" in obj:  # checked here too, so a typo fails every command that reads the file
        from analysis.core.canary.settings import parse_canary

        parse_canary(obj["canary"])
    if "examples" in obj:
        n = obj["examples"]
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 50:
            raise _bad("examples", "expected an integer from 1 to 50")
        kw["examples_per_reason"] = n
    if "explain" in obj:
        kw.update(_explain(obj["explain"]))
    return ReportSettings(**kw)


def _explain(value: Any) -> dict[str, Any]:
    """``explain: {headers: [...], sample: N}`` (docs/contract.md §12); ``sample: 0`` turns it off."""
    spec = _mapping(value, "explain", {"headers", "sample"})
    kw: dict[str, Any] = {}
    if "headers" in spec:
        names = _str_list(spec["headers"], "explain.headers")
        for name in names:
            if not name.strip() or name != name.strip():
                raise _bad("explain.headers", f"not a header name: {name!r}")
        kw["explain_headers"] = tuple(dict.fromkeys(n.lower() for n in names))
    if "sample" in spec:
        n = spec["sample"]
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_EXPLAIN_SAMPLE:
            raise _bad("explain.sample", f"expected an integer from 0 to {MAX_EXPLAIN_SAMPLE}")
        kw["explain_sample"] = n
    return kw


def load_settings(path: str | None) -> ReportSettings:
    """Read and check ``--config FILE``; no file means every default."""
    if path is None:
        return ReportSettings()
    return settings_from_obj(read_config(path))


def read_config(path: str) -> Any:
    """The parsed YAML of ``--config FILE`` (checked by the caller's ``*_from_obj``)."""
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror or exc}") from exc
    try:
        obj = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"config file {path}: not valid YAML ({str(exc).splitlines()[0]})"
        ) from exc
    return obj


__all__ = [
    "DEFAULT_COMPARE_HEADERS",
    "load_settings",
    "parse_fail_on",
    "read_config",
    "settings_from_obj",
]
