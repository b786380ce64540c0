"""The pages in a real browser: Debian's headless chromium against a real uvicorn.

The server is the real command line (``python -m shadowdiff serve``) on a free
loopback port with a token; the browser sends the token as an extra header.
Screenshots go to ``artifacts/screenshots/`` (gitignored) for people to look at.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page
from support import free_port, running

from serve.conftest import NIGHTS, TOKEN, report_id
from serve.reportdata import write_report

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("reports")
    for night in range(1, 31):
        write_report(root, night)
    port = free_port()
    env = dict(os.environ, SHADOWDIFF_TOKEN=TOKEN)
    cmd = [sys.executable, "-m", "shadowdiff", "serve", "--reports", str(root)]
    url = f"http://127.0.0.1:{port}"
    with running(
        [*cmd, "--host", "127.0.0.1", "--port", str(port)],
        url + "/healthz",
        env=env,
        stderr=subprocess.PIPE,
    ):
        yield url


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Page]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(
            extra_http_headers={"Authorization": f"Bearer {TOKEN}"},
            viewport={"width": 1400, "height": 1000},
        )
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        yield pg
        context.close()
        browser.close()


def _svg_sizes(pg: Page) -> list[tuple[float, float]]:
    boxes = pg.eval_on_selector_all(
        "svg.chart",
        "els => els.map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height])",
    )
    return [tuple(b) for b in boxes]


def test_index_renders_reports_and_charts(page: Page, server: str) -> None:
    pg = page
    pg.goto(server + "/")
    pg.screenshot(path=str(SHOTS / "index.png"), full_page=True)
    rows = pg.locator("#reports tbody tr")
    assert rows.count() == 30
    assert report_id(30) in rows.first.inner_text()
    sizes = _svg_sizes(pg)
    assert len(sizes) == 2 and all(w > 100 and h > 100 for w, h in sizes)
    assert pg.locator("svg.chart polyline").count() == 2


def test_report_and_endpoint_pages(page: Page, server: str) -> None:
    pg = page
    rid = report_id(NIGHTS[0])
    pg.goto(f"{server}/reports/{rid}")
    pg.screenshot(path=str(SHOTS / "report.png"), full_page=True)
    assert "GET /users/{id}" in pg.locator("#endpoints").inner_text()
    pg.click("text=GET /users/{id}")
    pg.wait_for_selector("#status-matrix")
    assert pg.url.endswith("/endpoints/" + quote("GET /users/{id}", safe=""))
    pg.screenshot(path=str(SHOTS / "endpoint.png"), full_page=True)
    assert "$.generated_at" in pg.locator("#noise").inner_text()
    why = "97 % of these pairs (58), and 3 % of the others, have query currency = EUR"
    assert why in pg.locator("#fields").inner_text()
    assert "user-agent = <script>document.title" in pg.locator("#status-matrix").inner_text()
    assert pg.evaluate("window.__pwned === undefined")
    sizes = _svg_sizes(pg)
    assert len(sizes) == 1 and sizes[0][0] > 100 and sizes[0][1] > 100


def test_pair_page_shows_sides_and_marks_the_diff(page: Page, server: str) -> None:
    pg = page
    pg.goto(f"{server}/pairs/cid-json-5")
    pg.screenshot(path=str(SHOTS / "pair-json.png"), full_page=True)
    assert pg.locator(".side").count() == 3
    marked = pg.locator("#side-shadow .line.diff").all_inner_texts()
    assert any('"price": 12' in t for t in marked)
    noise = pg.locator("#side-shadow .line.noise").all_inner_texts()
    assert any("generated_at" in t for t in noise)
    pg.goto(f"{server}/pairs/cid-bin-5")
    assert "binary body: 1024 bytes" in pg.locator("#side-primary").inner_text()


def test_a_script_body_is_shown_as_text_and_never_runs(page: Page, server: str) -> None:
    pg = page
    pg.goto(f"{server}/pairs/cid-xss-7")
    pg.screenshot(path=str(SHOTS / "pair-script.png"), full_page=True)
    text = pg.locator("#side-shadow").inner_text()
    assert "<script>document.title='pwned'" in text
    assert pg.evaluate("window.__pwned === undefined")
    assert pg.title() != "pwned"
    assert pg.locator("#side-shadow script").count() == 0
    assert pg.locator("#side-shadow b").count() == 0
