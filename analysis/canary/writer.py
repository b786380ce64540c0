"""Write the canary folder: ``canary.json``, a self-contained ``canary.html``, ``canary.md``.

Same rules as the report writer: jinja2 with autoescape on (every endpoint name,
path and label is text, never markup; the only unescaped fragment is the SVG
chart built from numbers), ``canary.json`` written last, S3 through the
report's own uploader.
"""

from __future__ import annotations

import html
import shutil
import tempfile
from pathlib import Path
from typing import Any

import orjson

from analysis.canary import FILES
from analysis.core.canary.verdict import fmt_p
from analysis.core.explain_words import entries, sentence, words_of
from analysis.report.html import cdf_svg
from analysis.report.markdown import md_cell
from analysis.report.writer import upload_folder
from shadowdiff.model.errors import SinkError
from shadowdiff.model.locations import parse_location

ARMS = ("baseline", "canary")
MAX_ROWS = 15


def render_html(doc: dict[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("analysis.canary", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["p"] = fmt_p
    endpoints = [
        {
            **ep,
            "svg": cdf_svg(ep.get("chart", {}), ARMS),
            "why": words_of(failed_share(ep)),
        }
        for ep in doc["endpoints"]
    ]
    return env.get_template("canary.html.j2").render(c={**doc, "endpoints": endpoints})


def failed_share(ep: dict[str, Any]) -> list[dict[str, Any]]:
    """An endpoint's ``errors.explain`` entries (present when its errors are worse)."""
    errors = ep.get("errors")
    return entries(errors.get("explain")) if isinstance(errors, dict) else []


def failed_sentence(entry: dict[str, Any]) -> str:
    return sentence(entry, noun="failed requests")


def _text(text: str) -> str:
    """Free text (reasons, notes) in Markdown: raw HTML there would be rendered, so escape it."""
    return html.escape(md_cell(text), quote=False)


def render_markdown(doc: dict[str, Any]) -> str:
    b, c = doc["baseline"], doc["canary"]
    lines = [
        f"### shadowdiff canary `{doc['id']}`: **{doc['verdict']}**",
        f"Window {doc['window']['start']} → {doc['window']['end']}: "
        f"**{c['requests']}** canary (`{md_cell(c['label'])}`) and **{b['requests']}** baseline "
        f"(`{md_cell(b['label'])}`) requests.",
        "",
    ]
    lines += [f"- {_text(reason)}" for reason in doc["reasons"]]
    lines += [f"> {_text(note)}" for note in doc.get("notes", [])]
    eps = doc["endpoints"][:MAX_ROWS]
    if eps:
        lines += [
            "",
            "| endpoint | requests B / C | errors B → C | p50 ms B → C | latency | schema |",
            "|---|---:|---|---|---|---|",
        ]
        for ep in eps:
            err, lat = ep["errors"], ep["latency_ms"]
            schema = ", ".join(f"{s['kind']} `{md_cell(s['path'])}`" for s in ep["schema"][:3])
            lines.append(
                f"| `{md_cell(ep['endpoint'])}` | {ep['baseline_requests']} / {ep['canary_requests']} "
                f"| {100 * err['baseline_rate']:.1f} % → {100 * err['canary_rate']:.1f} % "
                f"({err['verdict']}) | {lat['baseline']['p50']:.1f} → {lat['canary']['p50']:.1f} "
                f"| {lat['verdict']} | {schema or '–'} |"
            )
        more = len(doc["endpoints"]) - len(eps)
        if more > 0:
            lines.append(f"\n…and {more} more endpoints in canary.html.")
    why = [(ep["endpoint"], entry) for ep in doc["endpoints"] for entry in failed_share(ep)[:1]]
    if why:
        lines += ["", "What the canary's failed requests share:"]
        lines += [f"- `{md_cell(name)}`: {_text(failed_sentence(entry))}" for name, entry in why]
    return "\n".join(lines) + "\n"


def write_folder(folder: Path, doc: dict[str, Any]) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "canary.html").write_text(render_html(doc), encoding="utf-8")
        (folder / "canary.md").write_text(render_markdown(doc), encoding="utf-8")
        tmp = folder / ".canary.json.tmp"
        tmp.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        tmp.replace(folder / "canary.json")
    except OSError as exc:
        raise SinkError(f"cannot write canary to {folder}: {exc.strerror or exc}") from exc


def write_canary(out: str, doc: dict[str, Any], s3_client: Any = None) -> str:
    """Write the folder to a local path or ``s3://bucket/prefix``; returns where it went."""
    location = parse_location(out, "--out", ("local", "s3"))
    if location.kind == "local":
        write_folder(location.local_path, doc)
        return out
    tmp = Path(tempfile.mkdtemp(prefix="shadowdiff-canary-"))
    try:
        write_folder(tmp, doc)
        upload_folder(location.bucket, location.prefix, tmp, {}, FILES, s3_client)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
