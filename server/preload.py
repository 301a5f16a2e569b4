"""Early fetching of the browser code the dashboard draws with: a `Link` header on each page answer.

Streamlit's page (its `index.html`) lists the code of its frame for the browser to fetch at once, but
the code of each element (a chart, a table, a metric, a widget) is a separate file the frontend
imports only when the first element of that kind arrives over the websocket. For the dashboard that
is a chain: the frame, then the sidebar's widgets, then the KPI cards, then plotly's 4.7 MB chunk
and the table's, each fetched after the one before was drawn. The `Link: <file>; rel=modulepreload`
header asks the browser to fetch (and compile) these files while it loads the frame, so each import
finds its file ready.

The files are read from the installed Streamlit's own build manifest (`static/manifest.json`, a
public file of the package, the one its `index.html` was made from) at startup: the chunk of each
element named in `ELEMENTS`, and the chunks they import of `LARGE_BYTES` or more, less those
`index.html` already preloads. The small ones (49 files of 0.1-30 KB, 110 KB in all) are left to the
import, one short round trip later: listing them too would make a header of 5.5 KB, over the 4 KB a
reverse proxy keeps for an answer's headers by default (nginx's `proxy_buffer_size`: a 502 instead of
the page).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import streamlit
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC = Path(streamlit.__file__).parent / "static"

# The elements the dashboard's pages draw (the names of Streamlit's element chunks in its manifest),
# in the order a first load needs them: the sidebar's widgets and the view row, the KPI cards, then
# the charts and tables (and the table's paging, the export panel's links and the other pages' download buttons).
ELEMENTS: tuple[str, ...] = (
    "Checkbox", "DateInput", "Multiselect", "Radio", "Selectbox", "TextInput", "Button", "PageLink", "Html",
    "BidiComponent", "Spinner", "Metric", "PlotlyChart", "Table", "DataFrame", "Pagination", "DownloadButton",
    "LinkButton",
)
LARGE_BYTES = 30_000


class ManifestError(RuntimeError):
    """The installed Streamlit's manifest does not name an element or a file it lists is missing."""


def _manifest(static: Path) -> dict[str, dict]:
    return json.loads((static / "manifest.json").read_text(encoding="utf-8"))


def _closure(manifest: dict[str, dict], keys: Iterable[str]) -> list[str]:
    """The manifest keys of `keys` and of every chunk they import (statically), depth first."""
    seen: dict[str, None] = {}
    stack = list(reversed(list(keys)))
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen[key] = None
        stack.extend(reversed(manifest[key].get("imports", [])))
    return list(seen)


def preloaded_files(static: Path = STATIC, elements: Iterable[str] = ELEMENTS) -> tuple[str, ...]:
    """The module scripts (paths under `static`) of `elements` and the large ones they import, not
    already preloaded by Streamlit's page. Their stylesheets are left out (the table's 12 KB): a
    stylesheet preloaded but not applied within seconds of the page's load (the table comes after
    the charts) is reported in the browser's console as a wasted preload."""
    manifest = _manifest(static)
    entry = next(key for key, chunk in manifest.items() if chunk.get("isEntry"))
    in_page = set(_closure(manifest, [entry]))
    lazy = set(manifest[entry].get("dynamicImports", []))  # chunks the frontend imports when first needed
    by_name = {chunk["name"]: key for key, chunk in manifest.items()
               if "name" in chunk and (chunk.get("isDynamicEntry") or key in lazy)}
    missing = [name for name in elements if name not in by_name]
    if missing:
        raise ManifestError(f"Streamlit's manifest names no element {', '.join(missing)}")
    own = {by_name[name] for name in elements}
    scripts = []
    for key in _closure(manifest, [by_name[name] for name in elements]):
        file = static / manifest[key]["file"]
        if not file.is_file():
            raise ManifestError(f"Streamlit's manifest lists {manifest[key]['file']}, which is not installed")
        if key not in in_page and (key in own or file.stat().st_size >= LARGE_BYTES):
            scripts.append(manifest[key]["file"])
    return tuple(scripts)


def link_header(static: Path = STATIC, elements: tuple[str, ...] = ELEMENTS) -> str:
    """The `Link` header's value: each script as a module preload, relative to the page as
    Streamlit's `index.html` writes its own (`./static/...`)."""
    return ", ".join(f"<./{file}>; rel=modulepreload; crossorigin" for file in preloaded_files(static, elements))


class Preload:
    """ASGI middleware: adds `link_header()` to each HTML answer (Streamlit's page, whatever its path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.header = (b"link", link_header().encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return

        async def send_with_link(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if any(name.lower() == b"content-type" and value.startswith(b"text/html") for name, value in headers):
                    message = {**message, "headers": [*headers, self.header]}
            await send(message)

        await self.app(scope, receive, send_with_link)
