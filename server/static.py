"""Streamlit's own frontend files (its code, styles and fonts under `/static/`) answered from memory.

Streamlit serves them from disk through Starlette's `StaticFiles`. A fresh browser asks for about 150
of them (9.7 MB) before it can draw the page, 90 of them at once, which the server's one process
answers one after the other: read in 64 KB pieces, each in a worker thread, a file cost about 1.4 ms
of CPU besides the sign-in gate's own check (2.2 ms). From memory: 0.1 ms.

`StaticCache` answers a GET or HEAD of one of these files from memory (read once, in a worker thread,
when first asked for), with Streamlit's own headers for them (content type, `Cache-Control: public,
immutable`: the names carry their content's hash). Anything else (another path, a range, a page)
goes on to Streamlit as before. Only the files of the installed Streamlit's `static/` folder are
served, by exact path: the table of them is made at startup, so no request names a file outside it
(with `server.baseUrlPath` set, their paths carry the prefix, match none, and Streamlit serves them).
The memory held is at most the folder's 25 MB, in practice the ~150 files a browser asks for (9.7 MB).

Not compressed, as Streamlit sends them: on loopback gzip saved nothing and cost the browser
0.1-0.2 s of CPU per page (every load inflates them again, from its cache too: a warm browser's total
came 40 ms later). Over a network, a reverse proxy compresses them (e.g. nginx `gzip_types
application/javascript text/css`).
"""
from __future__ import annotations

import asyncio
import hashlib
import mimetypes
from pathlib import Path

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from server.preload import STATIC

# Streamlit's lifetime for its hashed files (a year), kept as it sets it.
CACHE_CONTROL = "public, immutable, max-age=31536000"


def static_files(static: Path = STATIC) -> dict[str, Path]:
    """The URL path (`/static/js/x.js`) of each file under Streamlit's `static/static` folder."""
    root = static / "static"
    return {"/" + path.relative_to(static).as_posix(): path for path in root.rglob("*") if path.is_file()}


class _Answer:
    """One file's body and its headers."""

    def __init__(self, path: Path) -> None:
        self.body = path.read_bytes()
        media_type = mimetypes.guess_type(path.name)[0] or "text/plain"
        if media_type.startswith("text/"):
            media_type += "; charset=utf-8"
        self.etag = '"' + hashlib.md5(self.body, usedforsecurity=False).hexdigest() + '"'
        self.headers = [
            (b"content-type", media_type.encode()),
            (b"content-length", str(len(self.body)).encode()),
            (b"cache-control", CACHE_CONTROL.encode()),
            (b"etag", self.etag.encode()),
            (b"accept-ranges", b"bytes"),  # a range goes to Streamlit, which serves it
        ]


class StaticCache:
    """ASGI middleware: Streamlit's `/static/` files from memory (see the module's docstring)."""

    def __init__(self, app: ASGIApp, static: Path = STATIC) -> None:
        self.app = app
        self.files = static_files(static)
        self.answers: dict[str, asyncio.Future[_Answer]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or path not in self.files:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "range" in headers:
            await self.app(scope, receive, send)
            return
        try:
            answer = await self._answer(path)
        except OSError:  # unreadable now (the package being replaced): Streamlit answers
            await self.app(scope, receive, send)
            return
        if headers.get("if-none-match") == answer.etag:
            await send({"type": "http.response.start", "status": 304,
                        "headers": [h for h in answer.headers if h[0] in (b"cache-control", b"etag")]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": answer.headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else answer.body})

    async def _answer(self, path: str) -> _Answer:
        """The file's answer, made once (in a worker thread) however many requests ask for it meanwhile."""
        future = self.answers.get(path)
        if future is None:
            future = self.answers[path] = asyncio.ensure_future(asyncio.to_thread(_Answer, self.files[path]))
        try:
            return await asyncio.shield(future)
        except OSError:
            self.answers.pop(path, None)  # tried again next time
            raise
