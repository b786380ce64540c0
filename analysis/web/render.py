"""Jinja2 rendering with autoescape on for every template, and the page response headers.

Every page is sent with a Content-Security-Policy that allows no script at all:
the pages need none (charts are inline SVG), and it is a second wall behind
escaping should a captured value ever slip through.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
from fastapi.responses import HTMLResponse
from jinja2 import ChainableUndefined, Environment, PackageLoader, Undefined

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'"
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _pct(value: Any) -> str:
    return f"{value:.2%}" if _is_num(value) else "–"


def _ms(value: Any) -> str:
    return f"{value:.1f} ms" if _is_num(value) else "–"


def _jsontext(value: Any) -> str:
    """A diff value as JSON text (escaped by autoescape like any other text)."""
    if isinstance(value, Undefined):
        return ""
    return orjson.dumps(value, default=str).decode()


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
        self.env.filters.update(pct=_pct, ms=_ms, seg=_seg, jsontext=_jsontext)

    def html(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        body = self.html(template, **context)
        return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)

    def error(self, status: int, title: str, message: str) -> HTMLResponse:
        return self.page("error.html.j2", status, title=title, message=message, code=status)
