"""Streamlit's own frontend files (its code, styles and fonts under `/static/`) answered from memory,
compressed once.

Streamlit serves them from disk through Starlette's `StaticFiles`, uncompressed: it would otherwise
compress them again on every request (its gzip middleware leaves `/static/` out on purpose). A fresh
browser asks for about 150 of them (9.7 MB) before it can draw the page, 90 of them at once, which
the server's one process answers one after the other: read in 64 KB pieces, each in a worker thread,
a file cost about 1.4 ms of CPU besides the sign-in gate's own check (2.2 ms).

`StaticCache` answers a GET or HEAD of one of these files from memory: gzip-compressed (once, in a
worker thread, when first asked for) when it is text and the client accepts gzip, as it is
otherwise, with Streamlit's own headers for them (content type, `Cache-Control: public, immutable`:
the names carry their content's hash). Anything else (another path, a range, a page) goes on to
Streamlit as before. Only the files of the installed Streamlit's `static/` folder are served, by
exact path: the table of them is made at startup, so no request names a file outside it (with
`server.baseUrlPath` set, their paths carry the prefix, match none, and Streamlit serves them). The
memory held is bounded by the folder: 9 MB (its text compressed, fonts and images as they are),
23 MB more if clients that take no gzip ask for every file; in practice the ~150 files a browser
asks for (3.1 MB).
"""
from __future__ import annotations

import asyncio
import gzip
import hashlib
import mimetypes
from pathlib import Path

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from server.preload import STATIC

# Streamlit's lifetime for its hashed files (a year), kept as it sets it.
CACHE_CONTROL = "public, immutable, max-age=31536000"
# Text worth compressing; fonts (woff2) and images are compressed already.
COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".map", ".txt")
GZIP_LEVEL = 6


def static_files(static: Path = STATIC) -> dict[str, Path]:
    """The URL path (`/static/js/x.js`) of each file under Streamlit's `static/static` folder."""
    root = static / "static"
    return {"/" + path.relative_to(static).as_posix(): path for path in root.rglob("*") if path.is_file()}


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an `Accept-Encoding` value allows gzip: named, or else `*`, with a weight above 0."""
    weights = {}
    for part in accept_encoding.split(","):
        name, *params = (item.strip() for item in part.split(";"))
        weight = next((p.split("=", 1)[1] for p in params if p.lower().startswith("q=")), "1")
        try:
            weights[name.lower()] = float(weight)
        except ValueError:
            weights[name.lower()] = 0.0
    return weights.get("gzip", weights.get("*", 0.0)) > 0


class _Answer:
    """One file's body as served, and its headers."""

    def __init__(self, path: Path, compressed: bool) -> None:
        raw = path.read_bytes()
        self.body = gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0) if compressed else raw
        media_type = mimetypes.guess_type(path.name)[0] or "text/plain"
        if media_type.startswith("text/"):
            media_type += "; charset=utf-8"
        self.etag = '"' + hashlib.md5(self.body, usedforsecurity=False).hexdigest() + '"'
        self.headers = [
            (b"content-type", media_type.encode()),
            (b"content-length", str(len(self.body)).encode()),
            (b"cache-control", CACHE_CONTROL.encode()),
            (b"etag", self.etag.encode()),
        ]
        if compressed:
            self.headers += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
        else:
            self.headers.append((b"accept-ranges", b"bytes"))  # a range goes to Streamlit, which serves it


class StaticCache:
    """ASGI middleware: Streamlit's `/static/` files from memory (see the module's docstring)."""

    def __init__(self, app: ASGIApp, static: Path = STATIC) -> None:
        self.app = app
        self.files = static_files(static)
        self.answers: dict[tuple[str, bool], asyncio.Future[_Answer]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or path not in self.files:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "range" in headers:
            await self.app(scope, receive, send)
            return
        compressed = path.endswith(COMPRESSIBLE) and accepts_gzip(headers.get("accept-encoding", ""))
        try:
            answer = await self._answer(path, compressed)
        except OSError:  # unreadable now (the package being replaced): Streamlit answers
            await self.app(scope, receive, send)
            return
        if headers.get("if-none-match") == answer.etag:
            await send({"type": "http.response.start", "status": 304,
                        "headers": [h for h in answer.headers if h[0] in (b"cache-control", b"etag", b"vary")]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": answer.headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else answer.body})

    async def _answer(self, path: str, compressed: bool) -> _Answer:
        """The file's answer, made once (in a worker thread: reading and compressing plotly's 4.7 MB
        takes ~0.2 s) however many requests ask for it meanwhile."""
        key = (path, compressed)
        future = self.answers.get(key)
        if future is None:
            future = self.answers[key] = asyncio.ensure_future(asyncio.to_thread(_Answer, self.files[path], compressed))
        try:
            return await asyncio.shield(future)
        except OSError:
            self.answers.pop(key, None)  # tried again next time
            raise
