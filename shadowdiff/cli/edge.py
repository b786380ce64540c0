"""`shadowdiff edge build` (the deployable zip) and `shadowdiff edge serve` (a local front door).

``build`` validates the config with the edge's own validator and writes the zip;
``serve`` runs the same handler in front of a local primary (the front door is
``shadowdiff.frontdoor``, imported only when asked for).
"""

from __future__ import annotations

import argparse
import importlib.util
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("edge", help="build or locally run the Lambda@Edge mirror")
    actions = parser.add_subparsers(
        dest="edge_command", required=True, metavar="ACTION", parser_class=type(parser)
    )
    build = actions.add_parser("build", help="validate a config and write the deployable zip")
    build.add_argument("--config", required=True, metavar="FILE", help="edge config.json")
    build.add_argument("--out", required=True, metavar="ZIP", help="where to write the zip")
    build.set_defaults(func=run)
    serve = actions.add_parser("serve", help="run the edge handler as a local front door")
    serve.add_argument("--config", required=True, metavar="FILE", help="edge config.json")
    serve.add_argument("--primary", required=True, metavar="URL", help="the primary origin")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from shadowdiff import edgebuild
    from shadowdiff.model.errors import ShadowdiffError

    if args.edge_command == "build":
        built = edgebuild.build_zip(args.config, args.out)
        print(f"wrote {built.path} ({built.size} bytes, {len(built.files)} files)")
        return 0
    config = edgebuild.load_edge_config(args.config)
    missing = [name for name in ("aiohttp", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        raise ShadowdiffError(
            f"shadowdiff edge serve needs {' and '.join(missing)}, which the demo extra "
            "installs: pip install 'shadowdiff[demo]'"
        )
    from shadowdiff import frontdoor

    frontdoor.serve(config.raw, args.primary, args.host, args.port)
    return 0
