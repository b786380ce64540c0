"""`shadowdiff serve`: the report service a team keeps open during a rollout.

FastAPI serves server-rendered pages (Jinja2, autoescaped) and a JSON API over a
root of report folders written by ``shadowdiff report --out ROOT/NAME``. The
pieces, each behind a small interface so the tests and the benchmark can swap
the I/O:

- :mod:`.settings`  the typed settings, built once by the CLI;
- :mod:`.roots`     where report folders live (local dir or S3);
- :mod:`.catalog`   the cached list of parsed ``report.json`` files;
- :mod:`.pairs`     correlation id -> example pair, via each report's ``pairs.jsonl.gz``;
- :mod:`.records`   the optional fallback to the record source with a partition hint;
- :mod:`.present`   pure functions turning reports and pairs into view data;
- :mod:`.charts`    inline SVG charts (no CDN, works offline);
- :mod:`.app`       the FastAPI application and its routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analysis.web.settings import ServeSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["ServeSettings", "create_app"]


def create_app(settings: ServeSettings) -> FastAPI:
    """Build the app; imported lazily so ``analysis.web.settings`` stays light."""
    from analysis.web.app import create_app as _create

    return _create(settings)
