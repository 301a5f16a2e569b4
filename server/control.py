"""The app server as the one owner of the embedded DuckDB file (SPEC section 7).

`owning` (a lifespan part) opens the file for the server's whole life (one DuckDB instance shared
by the pages, the webhook fold and the work below) and writes the presence file the commands look
for (`data_access.server_link`). `ROUTES` are the internal routes the commands use while the server
runs: they answer only requests from this machine that carry the presence file's token, and run
the same ingest, export and account code as the commands, streaming the result back.
"""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import io
import ipaddress
import json
import logging
import queue
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from data_access.engine import (
    DatabaseBusy,
    DatabaseError,
    DatabaseMissing,
    embedded_path,
    make_engine,
    open_database,
)
from data_access.ingest.loader import IngestFailed, ingest_streams
from data_access.server_link import (
    CHUNK_BYTES,
    EXPORT_ROUTE,
    INGEST_ROUTE,
    PING_ROUTE,
    TOKEN_HEADER,
    USERS_ROUTE,
    Presence,
    ServerGone,
    frame,
    read_users_request,
    remove_presence,
    write_presence,
)
from data_access.users.command import run_for_server
from exports.chart_images import ChartError
from exports.search_export import BadSearch, ExportRequest, export_search
from server.settings import server_database_url

log = logging.getLogger(__name__)

RETRY_OPEN_S = 2.0  # how often the server tries again to own a file that is missing or held elsewhere
BRIDGE_CHUNKS = 64  # request chunks waiting for the ingest thread (back pressure on the command)


@dataclass
class Owner:
    """The open file and how the commands reach it."""

    db_file: Path
    engine: Engine  # held open while the server runs; the readers' engine
    writer: Engine  # the same instance; one writer at a time (ingest runs, the webhook fold)
    presence: Presence

    def close(self) -> None:
        remove_presence(self.db_file, self.presence)
        self.writer.dispose()
        self.engine.dispose()


_owner: Owner | None = None


def current_owner() -> Owner | None:
    """The owner of this process's embedded file, once the server holds it."""
    return _owner


def loopback_url() -> str:
    """Where a command on this machine reaches the server."""
    address = st.get_option("server.address") or "127.0.0.1"
    host = "127.0.0.1" if address in ("0.0.0.0", "::", "localhost") else address
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{st.get_option('server.port')}"


def _take(url: str, db_file: Path) -> Owner:
    engine = open_database(url, busy_timeout_s=RETRY_OPEN_S, hold=True, create=False)
    writer = make_engine(url, writer=True)
    return Owner(db_file, engine, writer, write_presence(db_file, loopback_url()))


@contextlib.asynccontextmanager
async def owning(_app: Any) -> AsyncIterator[dict[str, Any]]:
    """Lifespan part: owns the embedded file while the server runs (nothing for PostgreSQL). A file
    that does not exist yet, or that a command holds, is taken as soon as it can be."""
    global _owner
    url = server_database_url()
    db_file = embedded_path(url)
    if db_file is None:
        yield {}
        return

    async def take_when_possible() -> None:
        global _owner
        said = False
        while True:
            try:
                _owner = await asyncio.to_thread(_take, url, db_file)
                log.info("owning %s; commands reach this server at %s", db_file, _owner.presence.url)
                return
            except (DatabaseMissing, DatabaseBusy) as exc:
                if not said:
                    log.warning("not owning the database file yet (%s); trying again every %.0f s", exc, RETRY_OPEN_S)
                    said = True
            except DatabaseError as exc:
                log.error("cannot own the database file: %s", exc)
                return
            await asyncio.sleep(RETRY_OPEN_S)

    taking = asyncio.create_task(take_when_possible())
    try:
        yield {}
    finally:
        taking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await taking
        if _owner is not None:
            _owner.close()
            _owner = None


def _allowed(request: Request) -> Owner | None:
    """The owner, if the request comes from this machine, not through a proxy, with the token."""
    owner = _owner
    if owner is None or request.client is None or not _is_loopback(request.client.host):
        return None
    if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        return None
    token = request.headers.get(TOKEN_HEADER, "")
    return owner if hmac.compare_digest(token.encode(), owner.presence.token.encode()) else None


def _is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    address = getattr(address, "ipv4_mapped", None) or address  # ::ffff:127.0.0.1
    return address.is_loopback


def _not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404)


async def ping(request: Request) -> Response:
    return PlainTextResponse("owner") if _allowed(request) else _not_found()


# -- ingest: the command's inputs, streamed, loaded by a thread --------------------------------------


class _Bridge:
    """Hands the request's frames to the ingest thread as (name, stream) inputs."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[bytes, bytes] | None] = queue.Queue(BRIDGE_CHUNKS)
        self.done = threading.Event()  # the ingest ended: stop feeding it

    def put(self, item: tuple[bytes, bytes] | None) -> None:
        while not self.done.is_set():
            try:
                self.queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def inputs(self) -> Iterator[tuple[str, io.BufferedReader]]:
        item = self.queue.get()
        while item is not None:
            kind, payload = item
            if kind != b"n":  # data before any name: ignore it
                item = self.queue.get()
                continue
            reader = _InputReader(self.queue)
            yield payload.decode("utf-8", "replace"), io.BufferedReader(reader, CHUNK_BYTES)
            item = reader.drain()


class _InputReader(io.RawIOBase):
    """One input's bytes: the data frames up to the next input or the end."""

    def __init__(self, source: queue.Queue) -> None:
        self.source = source
        self.pending = b""
        self.after: tuple[bytes, bytes] | None = None
        self.ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.pending and not self.ended:
            item = self.source.get()
            if item is not None and item[0] == b"d":
                self.pending = item[1]
            else:
                self.after, self.ended = item, True
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size

    def drain(self) -> tuple[bytes, bytes] | None:
        """What follows this input (the next input's name, or None at the end)."""
        while not self.ended:
            self.pending = b""
            self.readinto(bytearray(1))
        return self.after


class _FrameParser:
    """Frames out of the request's chunks, as they come."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, chunk: bytes) -> Iterator[tuple[bytes, bytes]]:
        self.buffer += chunk
        while len(self.buffer) >= 5:
            size = int.from_bytes(self.buffer[1:5], "big")
            if len(self.buffer) < 5 + size:
                return
            yield bytes(self.buffer[:1]), bytes(self.buffer[5 : 5 + size])
            del self.buffer[: 5 + size]


def _run_ingest(engine: Engine, bridge: _Bridge) -> bytes:
    """Loads the inputs; the answer frames say what the command prints and its exit code."""
    try:
        summary = ingest_streams(engine, bridge.inputs())
    except IngestFailed as exc:
        return frame(b"o", exc.summary.render().encode()) + frame(b"e", f"ingest: {exc}".encode()) + frame(b"x", b"1")
    finally:
        bridge.done.set()
    return frame(b"o", summary.render().encode()) + frame(b"x", str(summary.exit_code).encode())


async def ingest(request: Request) -> Response:
    owner = _allowed(request)
    if owner is None:
        return _not_found()
    bridge = _Bridge()
    work = asyncio.get_running_loop().run_in_executor(None, _run_ingest, owner.writer, bridge)
    parser = _FrameParser()
    try:
        async for chunk in request.stream():
            for item in parser.feed(chunk):
                await asyncio.to_thread(bridge.put, item)
    except ClientDisconnect:  # the command was stopped: load what came, as a stopped command does
        pass
    await asyncio.to_thread(bridge.put, None)
    return Response(await work, media_type="application/octet-stream")


# -- export: the same export, written to a temporary file and streamed back -----------------------------


def _run_export(engine: Engine, request: ExportRequest, file: Any, say: Any) -> dict[str, Any]:
    try:
        rows = export_search(engine, request, file, lambda done, total: say(frame(b"p", json.dumps([done, total]).encode())))
    except BadSearch as exc:
        return {"code": 2, "message": str(exc)}
    except (DatabaseError, ChartError, OSError) as exc:
        return {"code": 1, "message": str(exc)}
    return {"code": 0, "rows": rows}


async def export(request: Request) -> Response:
    owner = _allowed(request)
    if owner is None:
        return _not_found()
    try:
        asked = ExportRequest.from_json(await request.body())
    except (ValueError, TypeError) as exc:
        return PlainTextResponse(f"bad export request: {exc}", status_code=400)
    loop = asyncio.get_running_loop()
    messages: asyncio.Queue[bytes] = asyncio.Queue()

    def say(message: bytes) -> None:
        loop.call_soon_threadsafe(messages.put_nowait, message)

    async def stream() -> AsyncIterator[bytes]:
        with tempfile.TemporaryFile() as file:
            work = loop.run_in_executor(None, _run_export, owner.engine, asked, file, say)
            while not work.done() or not messages.empty():
                getting = asyncio.ensure_future(messages.get())
                await asyncio.wait({getting, work}, return_when=asyncio.FIRST_COMPLETED)
                if getting.done():
                    yield getting.result()
                else:
                    getting.cancel()
            outcome = await work
            if outcome["code"] == 0:
                await asyncio.to_thread(file.seek, 0)
                while chunk := await asyncio.to_thread(file.read, CHUNK_BYTES):
                    yield frame(b"f", chunk)
            yield frame(b"x", json.dumps(outcome).encode())

    return StreamingResponse(stream(), media_type="application/octet-stream")


# -- users: the accounts command's work, run on the server's engine -----------------------------------

USERS_REQUEST_BYTES = 64 * 1024  # arguments and a password line; anything bigger is not the command


async def users(request: Request) -> Response:
    owner = _allowed(request)
    if owner is None:
        return _not_found()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > USERS_REQUEST_BYTES:
            return PlainTextResponse("users request too large", status_code=413)
    try:
        argv, stdin, password = read_users_request(bytes(body))
    except (ServerGone, UnicodeDecodeError) as exc:
        return PlainTextResponse(f"bad users request: {exc}", status_code=400)
    out, err, code = await asyncio.to_thread(run_for_server, owner.writer, argv, stdin, password)
    answer = frame(b"o", out.encode()) + frame(b"e", err.encode()) + frame(b"x", str(code).encode())
    return Response(answer, media_type="application/octet-stream")


ROUTES = [
    Route(PING_ROUTE, ping, methods=["POST"]),
    Route(INGEST_ROUTE, ingest, methods=["POST"]),
    Route(EXPORT_ROUTE, export, methods=["POST"]),
    Route(USERS_ROUTE, users, methods=["POST"]),
]
