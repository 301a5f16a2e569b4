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

Two fonts are listed too (`FONTS`, as `rel=preload; as=font`): the icons' and the code's, which the
page otherwise asks for only when it lays out the first icon or code span.
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
# Those of them drawn after the total (the charts, the tables, the export panel's links): their files
# are listed with `fetchpriority=low`, so that the browser asks for them after the frame's own modules
# and the widgets' (plotly's chunk alone is 1.4 MB compressed): the page's code waited behind them.
LATER: tuple[str, ...] = ("PlotlyChart", "Table", "DataFrame", "Pagination", "DownloadButton", "LinkButton")
LARGE_BYTES = 30_000
# Fonts the pages draw with that Streamlit's page does not preload (it preloads its text font only):
# its icons' font (the sidebar's arrows, the metrics' help marks, the notices' icons), declared with
# `font-display: block`, so each icon is an invisible box of its name's width until it arrives; and
# its code font, which draws the filter values in the caption under the total (invisible, Chromium's
# default, for up to 3 s). Asked for when the first icon or code is laid out, they came 0.1-0.5 s
# after the frame and the total.
FONTS: tuple[str, ...] = ("MaterialSymbols-Rounded", "SourceCodeVF-Upright.ttf")


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


def preloaded_fonts(static: Path = STATIC, fonts: Iterable[str] = FONTS) -> tuple[str, ...]:
    """The files (paths under `static`) of `fonts`: the WOFF2 assets of Streamlit's page named
    `<font>.<hash>.woff2` in its manifest."""
    manifest = _manifest(static)
    entry = next(chunk for chunk in manifest.values() if chunk.get("isEntry"))
    assets = entry.get("assets", [])
    files = []
    for font in fonts:
        found = [a for a in assets if a.startswith(f"static/media/{font}.") and a.endswith(".woff2")
                 and a.count(".") == font.count(".") + 2]
        if len(found) != 1:
            raise ManifestError(f"Streamlit's manifest has {len(found)} files of the font {font}")
        if not (static / found[0]).is_file():
            raise ManifestError(f"Streamlit's manifest lists {found[0]}, which is not installed")
        files.append(found[0])
    return tuple(files)


def link_header(static: Path = STATIC, elements: tuple[str, ...] = ELEMENTS, fonts: tuple[str, ...] = FONTS,
                later: tuple[str, ...] = LATER) -> str:
    """The `Link` header's value: each script as a module preload (those only `later` elements need
    at low priority), then each font as a font preload (fonts are fetched in CORS mode, hence
    `crossorigin`), relative to the page as Streamlit's `index.html` writes its own (`./static/...`)."""
    first = set(preloaded_files(static, [name for name in elements if name not in later]))
    return ", ".join([
        *(f"<./{file}>; rel=modulepreload; crossorigin" + ("" if file in first else "; fetchpriority=low")
          for file in preloaded_files(static, elements)),
        *(f'<./{file}>; rel=preload; as=font; type="font/woff2"; crossorigin' for file in preloaded_fonts(static, fonts)),
    ])


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
