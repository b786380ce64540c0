"""Build the deployable Lambda@Edge zip: the ``edge`` package plus its baked-in config.

Lambda@Edge has no environment variables, so the validated config travels as
``edge/config.json``. The zip is reproducible (sorted entries, fixed
timestamps) so the same config and code give the same bytes and CloudFormation
sees no change when there is none. A viewer trigger's package may not exceed
1 MB, so a bigger zip is refused here rather than by the deploy.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import edge.handler
from edge import splitconfig
from edge.config import EdgeConfig, EdgeConfigError, load_config
from shadowdiff.model.errors import ConfigError, SinkError

MAX_ZIP_BYTES = 1024 * 1024  # the Lambda@Edge viewer-trigger package limit
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class BuiltZip:
    path: Path
    size: int
    files: tuple[str, ...]


def load_edge_config(path: str | Path) -> EdgeConfig:
    """The validated edge config; any problem is a ``ConfigError`` naming file and key."""
    try:
        return load_config(path)
    except EdgeConfigError as exc:
        message = str(exc)
        if not message.startswith(str(path)):
            message = f"{path}: {message}"
        raise ConfigError(message) from exc


def package_files() -> list[tuple[str, bytes]]:
    """The ``edge`` package's own modules, no caches, tests or stale config."""
    # ``edge.handler`` rather than ``edge``: under pytest the tests/edge folder can shadow
    # the package object itself (a namespace package), never its modules.
    root = Path(edge.handler.__file__).resolve().parent
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or "__pycache__" in rel.parts or rel.parts[0].startswith("test"):
            continue
        if path.suffix not in (".py", ".typed") or rel.as_posix() == "config.json":
            continue
        files.append((f"edge/{rel.as_posix()}", path.read_bytes()))
    return files


def config_json(config: EdgeConfig) -> bytes:
    return (json.dumps(_normalised(config), indent=2, sort_keys=True) + "\n").encode("utf-8")


def _normalised(config: EdgeConfig) -> dict[str, Any]:
    """Every key spelled out, so the deployed function needs no defaults of its own."""
    out = _mirror_keys(config)
    if "split" in config.raw:  # the canary split (edge.split), validated with the rest
        out["split"] = splitconfig.normalised(splitconfig.parse_split(config.raw["split"]))
    return out


def _mirror_keys(config: EdgeConfig) -> dict[str, Any]:
    return {
        "targets": [
            {"url": t.url, "role": t.role, "sample_rate": t.sample_rate} for t in config.targets
        ],
        "correlation_header": config.correlation_header,
        "budget_ms": config.budget_ms,
        "methods": sorted(config.methods),
        "include_paths": [p.pattern for p in config.include_paths],
        "exclude_paths": [p.pattern for p in config.exclude_paths],
        "mirror_headers": {
            "set": dict(config.set_headers),
            "remove": sorted(config.remove_headers),
        },
        "mirror_query": {"set": dict(config.set_query)},
        "signing_secret": config.signing_secret,
    }


def build_zip(config_path: str | Path, out: str | Path) -> BuiltZip:
    config = load_edge_config(config_path)
    entries = [*package_files(), ("edge/config.json", config_json(config))]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    data = buffer.getvalue()
    if len(data) > MAX_ZIP_BYTES:
        raise SinkError(
            f"{out}: edge zip would be {len(data)} bytes, over the {MAX_ZIP_BYTES}-byte "
            "Lambda@Edge viewer-trigger limit"
        )
    out_path = Path(out)
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_bytes(data)
    except OSError as exc:
        raise SinkError(f"{out}: cannot write edge zip: {exc.strerror or exc}") from exc
    return BuiltZip(out_path, len(data), tuple(sorted(name for name, _ in entries)))
