"""Jinja2 rendering with autoescape on for every template, and the page response headers.

Every page is sent with a Content-Security-Policy that allows no script at all:
the pages need none (charts are inline SVG), and it is a second wall behind
escaping should a captured value ever slip through.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi.responses import HTMLResponse
from jinja2 import ChainableUndefined, Environment, PackageLoader

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'"
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _pct(value: Any) -> str:
    try:
        return f"{float(value):.2%}"
    except (TypeError, ValueError):
        return "–"


def _ms(value: Any) -> str:
    try:
        return f"{float(value):.1f} ms"
    except (TypeError, ValueError):
        return "–"


def _seg(value: Any) -> str:
    """One URL path segment: everything escaped, ``/`` included."""
    return quote(str(value), safe="")


class Renderer:
    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("analysis.web", "templates"),
            autoescape=True,
            undefined=ChainableUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(pct=_pct, ms=_ms, seg=_seg)

    def html(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        body = self.html(template, **context)
        return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)

    def error(self, status: int, title: str, message: str) -> HTMLResponse:
        return self.page("error.html.j2", status, title=title, message=message, code=status)
