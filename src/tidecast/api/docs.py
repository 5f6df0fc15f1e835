"""``/docs``: the OpenAPI document rendered as one readable HTML page, no script, no CDN."""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tidecast.api.openapi import openapi_document

_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#111}
h2{border-bottom:2px solid #246;padding-bottom:.2rem}h3{margin-bottom:.2rem}
code{background:#eef;padding:0 .2rem}table{border-collapse:collapse;margin:.4rem 0 1rem}
td,th{border:1px solid #aab;padding:.2rem .5rem;text-align:left}.tag{color:#555;font-size:.9rem}
"""


def _method_html(name: str, doc: dict[str, Any]) -> str:
    flags = [
        "public" if doc["public"] else "needs token",
        "remote access" if doc["remote_access"] else "local callers only",
    ]
    if doc["tidecast_extension"]:
        flags.append("tidecast extension")
    rows = "".join(
        f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(str(p['schema'].get('type')))}"
        f"</td><td>{'yes' if p['required'] else ''}</td><td>{escape(p['description'])}</td></tr>"
        for p in doc["parameters"]
    ) + "".join(
        f"<tr><td><code>{escape(f['name'])}</code></td><td>file (multipart POST)</td>"
        f"<td>{'yes' if f['required'] else ''}</td><td>{escape(f['description'])}</td></tr>"
        for f in doc.get("multipart_fields", [])
    )
    table = (
        f"<table><tr><th>parameter</th><th>type</th><th>required</th><th>description</th></tr>"
        f"{rows}</table>"
        if rows
        else "<p>No parameters.</p>"
    )
    return (
        f"<h3 id='{escape(name)}'><code>{escape(name)}</code></h3>"
        f"<p>{escape(doc['summary'])} <span class='tag'>({', '.join(flags)})</span></p>{table}"
    )


def _command_html(name: str, doc: dict[str, Any]) -> str:
    badges = ", ".join(doc["badges"])
    rows = "".join(
        f"<tr><td><code>{escape(f['name'])}</code></td>"
        f"<td>{escape(_schema_type(f['schema']))}</td>"
        f"<td>{'yes' if f['required'] else ''}</td><td>{escape(f['description'])}</td></tr>"
        for f in doc["fields"]
    )
    table = (
        f"<table><tr><th>body field</th><th>type</th><th>required</th><th>description</th></tr>"
        f"{rows}</table>"
        if rows
        else "<p>No body fields.</p>"
    )
    codes = f"error code <code>{escape(doc['error_code'])}</code>"
    if "success_code" in doc:
        codes = f"success <code>{escape(doc['success_code'])}</code>, {codes}"
    if "alias_of" in doc:
        codes += f"; same as <code>{escape(doc['alias_of'])}</code>"
    return (
        f"<h3 id='{escape(name)}'><code>{escape(name)}</code></h3>"
        f"<p>{escape(doc['summary'])} <span class='tag'>({escape(badges)}; {codes})</span></p>"
        f"{table}"
    )


def _schema_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind:
        return str(kind)
    return "{path} object or string" if "oneOf" in schema else "any"


def render_docs(document: dict[str, Any]) -> str:
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>tidecast API</title><style>{_STYLE}</style></head><body>"
        f"<h1>tidecast API {escape(document['info']['version'])}</h1>"
        f"<p>{escape(document['info']['description'])} Machine-readable: "
        f"<a href='/openapi.json'>/openapi.json</a>.</p>"
    ]
    for path, item in document["paths"].items():
        operation = item.get("get", {})
        methods = operation.get("x-tidecast-methods")
        if methods:
            parts.append(f"<h2><code>{escape(path)}</code></h2>")
            parts.append(f"<p>{escape(operation['description'].splitlines()[0])}</p>")
            parts.extend(_method_html(name, doc) for name, doc in methods.items())
        elif "playback" in operation.get("tags", ()):
            parts.append(f"<h2><code>GET {escape(path)}</code></h2>")
            parts.append(f"<p>{escape(operation['summary'])}</p>")
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            if names:
                parts.append(f"<p>Parameters: {escape(', '.join(names))}</p>")
        operation = item.get("post", {})
        commands = operation.get("x-tidecast-commands")
        if commands:
            parts.append(f"<h2><code>POST {escape(path)}</code></h2>")
            paragraphs = [p for p in operation["description"].split("\n\n") if "|" not in p]
            parts.extend(f"<p>{escape(text)}</p>" for text in paragraphs)
            parts.extend(_command_html(name, doc) for name, doc in commands.items())
    parts.append("</body></html>")
    return "".join(parts)


def routes() -> list[Route]:
    document = openapi_document()
    page = render_docs(document)

    async def openapi_json(_request: Request) -> Response:
        return JSONResponse(document)

    async def docs(_request: Request) -> Response:
        return HTMLResponse(page)

    return [Route("/openapi.json", openapi_json), Route("/docs", docs)]
