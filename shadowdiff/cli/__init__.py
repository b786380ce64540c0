"""The ``shadowdiff`` command line: one sub-command per deployable.

Each sub-command lives in its own module here with ``register(subparsers)``,
which adds its parser and sets ``func`` to a ``run(args) -> int``. Heavy
imports (FastAPI, pandas, boto3) happen inside ``run`` so that ``shadowdiff
--help`` and ``shadowdiff edge build`` start fast and need no extras.

Exit status: 0 success; 2 bad arguments or unreadable input, always with one
line on stderr that names what was wrong; 3 a ``--fail-on`` threshold crossed (or a
failed canary); 4 an inconclusive canary.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from shadowdiff import __version__
from shadowdiff.model.errors import ShadowdiffError

COMMANDS = ("collector", "report", "serve", "edge", "demo", "replay", "canary", "watch")
EXIT_OK, EXIT_USAGE, EXIT_THRESHOLD = 0, 2, 3


class OneLineParser(argparse.ArgumentParser):
    """argparse prints usage plus the error; scripts want the error on one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="shadowdiff",
        description="Mirror live traffic to a shadow deployment and report where it differs.",
    )
    parser.add_argument("--version", action="version", version=f"shadowdiff {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser
    )
    for name in COMMANDS:
        module = importlib.import_module(f"shadowdiff.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except ShadowdiffError as exc:
        print(f"shadowdiff {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
