"""The files of a search, served by the app server: `GET /download/{ticket}` (SPEC 9's downloads).

The Sent and Received pages' export panel (pages/export_panel.py) and the Opt-out page draw one link
a format; each carries a ticket made by `make_ticket` when the link is drawn: who asks (the account's email, or the system actor while no
account exists), the view, the filter value as URL parameters (an opt-out search's stop words too: a setting of the
server the file must share with the page), the format, the language, and the time
it was made (it expires after `TICKET_TTL_S`). The ticket is signed (HMAC-SHA256) with the credential
the browser presents with it, so any app process behind a balancer can check it without a shared
setting, and a ticket is worth nothing without that credential:
- the session cookie (`report_session`) of a password sign-in;
- else Streamlit's identity cookie, under single sign-on;
- while no account exists (only loopback is served then), Streamlit's `server.cookieSecret`: random
  per process unless set, so several processes behind one port need it set to one value.

The route re-derives who asks from the request, as the sign-in gate does (server/sign_in.py): once an
account exists, a signed-in account from an allowed address (else 401); while none exists, loopback
only (else 403). The scope of the file comes from that account, never from the ticket. A ticket that
does not verify with the request's credential (changed, or another account's) is refused with 403, an
expired one with 410, a view, format or filter it cannot name with 400; nothing is written then.

The file is the one `exports.export.export` writes, under the same name and MIME type as before:
- CSV is streamed while it is written: the writer runs in a worker thread and hands the response
  256 KiB pieces through a bounded channel (`CHANNEL_CHUNKS`), so memory follows the channel, not the
  file, and a slow browser slows the writer down. The audit entry is written when the writer has
  counted the search, before the file's first byte leaves: its rows are the search's rows at that
  moment (the file's rows on DuckDB, whose export reads one snapshot; on PostgreSQL rows committed
  while the file streams may add a few). No audit entry, no byte of the file.
- XLSX and PDF (and the files of views that write their own, and the Opt-out report's) are written
  to a temporary file first
  (the writers need to seek or write at the end), audited with the rows written, then streamed from
  the file, which is unlinked as soon as it is open.
A file that fails while streaming ends the response without its last chunk, so the browser shows a
failed download rather than a short file. Database work and file writing run in threads; the event
loop, which the webhooks share, only moves bytes.

Each download holds a database connection, a worker thread and a few hundred MiB while it is written,
so a process serves at most `DOWNLOADS_AT_ONCE` of them at once (the environment's, else 4); one more
is answered 503 with `Retry-After`. A stream ends `DOWNLOAD_TIME_LIMIT_S` after its first byte (the
environment's, else an hour) however it is read: a browser reading a piece every few minutes cannot
hold a slot for ever. Refusals are plain text in the ticket's language (else the `lang` parameter's,
the browser's Accept-Language, `REPORT_LANG`, pt-BR: `sign_in.answer_lang`), the sign-in gate's too.
"""
from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import os
import shutil
import tempfile
import time
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import quote, urlencode

import anyio
import anyio.from_thread
import streamlit as st
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope as AsgiScope, Send

from data_access import accounts
from data_access.accounts import SYSTEM_ACTOR, audit_export
from data_access.config import LANGUAGES, SettingError
from data_access.engine import DATABASE_ERRORS, first_line, open_database
from data_access.filters import FilterError, Filters
from data_access.i18n import t
from data_access.opt_out import OptOutFilters
from data_access.scope import Scope
from data_access.views import OPT_OUT, view
from exports import opt_out_export
from exports.chart_images import ChartError
from exports.export import FORMATS, MIME_TYPES, export, file_name
from server.settings import opt_out_stop_words, server_database_url
from server.sign_in import (DOWNLOADS_PREFIX, SESSION_COOKIE, STREAMLIT_USER_COOKIE, answer_lang, auth_engine,
                            download_refusal, identity_account, is_loopback, sso_configured)

PATH = DOWNLOADS_PREFIX
TICKET_TTL_S = 15 * 60  # a ticket's life; the panel draws fresh ones more often (pages/export_panel.py)
CHUNK_BYTES = 256 << 10  # bytes of a piece handed to the response
CHANNEL_CHUNKS = 8  # CSV pieces waiting for the browser at most: the stream's memory
STALLED_S = 300.0  # a browser that reads nothing for this long is let go (the writer stops)
DOWNLOADS_AT_ONCE = "DOWNLOADS_AT_ONCE"  # the setting: downloads a process serves at once
DEFAULT_DOWNLOADS_AT_ONCE = 4
DOWNLOAD_TIME_LIMIT_S = "DOWNLOAD_TIME_LIMIT_S"  # the setting: seconds a stream may last
DEFAULT_DOWNLOAD_TIME_LIMIT_S = 3600
RETRY_AFTER_S = 30  # what a download refused for want of a slot is told to wait
_SALT = "report-download-ticket"

Search = Filters | OptOutFilters  # what a ticket's file is made of


class Refused(Exception):
    """A download that is not served: the status and the catalog key of what the answer says."""

    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status = status
        self.key = key


@dataclass(frozen=True)
class Ticket:
    """What a download link asks for, as signed."""

    actor: str  # the account's email, or the system actor while no account exists
    view: str
    params: dict[str, list[str]]  # the search's to_params() (and stop words): the scope is not part of it
    fmt: str
    lang: str


@dataclass(frozen=True)
class Requester:
    """Who a request comes from, as the route derives it: the audit's actor, the scope of the file,
    the credential that signs tickets, the client's address."""

    actor: str
    scope: Scope
    credential: str
    address: str | None


# -- tickets ------------------------------------------------------------------------------------


def _serializer(credential: str) -> URLSafeSerializer:
    return URLSafeSerializer(credential, salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256})


def make_ticket(credential: str, actor: str, filters: Search, fmt: str, lang: str, now: float | None = None) -> str:
    """The signed ticket of one file of the search `filters`, valid `TICKET_TTL_S` from `now` (its
    scope is left out: the route takes the account's)."""
    expires = int(time.time() if now is None else now) + TICKET_TTL_S
    payload = {"a": actor, "v": filters.view, "p": filters.to_params(), "f": fmt, "l": lang, "e": expires}
    return _serializer(credential).dumps(payload)


def read_ticket(credential: str, text: str, now: float | None = None) -> Ticket:
    """The ticket signed with `credential`; `Refused` when changed, signed with another credential,
    or expired."""
    try:
        payload = _serializer(credential).loads(text)
    except BadData:
        raise Refused(403, "download.refused") from None
    try:
        ticket = Ticket(str(payload["a"]), str(payload["v"]), dict(payload["p"]), str(payload["f"]),
                        str(payload["l"]))
        expires = int(payload["e"])
    except (KeyError, TypeError, ValueError):
        raise Refused(400, "download.malformed") from None
    if (time.time() if now is None else now) >= expires:
        raise Refused(410, "download.expired")
    return ticket


def ticket_credential(cookies: Mapping[str, str], accounts_exist: bool) -> str:
    """The credential a browser with these cookies presents: what the page signs its tickets with."""
    if not accounts_exist:
        return server_secret()
    value = cookies.get(SESSION_COOKIE) or cookies.get(STREAMLIT_USER_COOKIE)
    return value if isinstance(value, str) else ""  # a script run without a browser has no cookie text


def server_secret() -> str:
    """Streamlit's `server.cookieSecret`: signs tickets while no account exists."""
    return str(st.get_option("server.cookieSecret"))


def download_path(ticket: str, lang: str) -> str:
    """The route's path for a ticket; `lang` (the ticket's) is the language of a refusal."""
    return f"{PATH}{quote(ticket, safe='')}?{urlencode({'lang': lang})}"


# -- who asks -----------------------------------------------------------------------------------


def requester(engine: Engine, cookies: Mapping[str, str], client: str | None) -> Requester:
    """Who asks, as the sign-in gate decides it; `Refused` when nobody may download from there."""
    if not accounts.any_account(engine):
        if not is_loopback(client):
            raise Refused(403, "download.no_account")
        return Requester(SYSTEM_ACTOR, Scope.ALL, server_secret(), client)
    token = cookies.get(SESSION_COOKIE)
    account = accounts.session_account(engine, token) if token else None
    credential = token
    if account is None or not accounts.address_allowed(client, account.ip_allow):
        credential = cookies.get(STREAMLIT_USER_COOKIE) if sso_configured() else None
        account = identity_account(engine, credential, client)
    if account is None or not credential:
        raise Refused(401, "download.sign_in")
    return Requester(account.email, account.scope, credential, client)


def search_of(ticket: Ticket, who: Requester) -> Search:
    """The ticket's search with the requester's scope; `Refused` when it names another actor or
    something the report does not know."""
    if ticket.actor != who.actor:
        raise Refused(403, "download.refused")
    opt_out = ticket.view == OPT_OUT.code
    if ticket.fmt not in (opt_out_export.FORMATS if opt_out else FORMATS) or ticket.lang not in LANGUAGES:
        raise Refused(400, "download.malformed")
    try:
        if opt_out:
            filters = OptOutFilters.from_params(ticket.params, stop_words=opt_out_stop_words())
        else:
            filters = view(ticket.view).filters.from_params(ticket.params)
    except (KeyError, FilterError):
        raise Refused(400, "download.malformed") from None
    return filters.replace(scope=who.scope)


def file_of(filters: Search, fmt: str, lang: str) -> tuple[str, str]:
    """The file's name and MIME type."""
    if isinstance(filters, OptOutFilters):
        return opt_out_export.file_name(filters, fmt, lang), opt_out_export.MIME_TYPES[fmt]
    return file_name(filters, fmt, lang), MIME_TYPES[fmt]


# -- limits -------------------------------------------------------------------------------------


@functools.cache
def downloads_at_once() -> int:
    """`DOWNLOADS_AT_ONCE` (a whole number of at least 1) over 4: downloads a process serves at once."""
    return _whole_setting(DOWNLOADS_AT_ONCE, DEFAULT_DOWNLOADS_AT_ONCE)


@functools.cache
def download_time_limit_s() -> int:
    """`DOWNLOAD_TIME_LIMIT_S` (a whole number of seconds, at least 1) over an hour: how long a file's
    stream may last from its first byte."""
    return _whole_setting(DOWNLOAD_TIME_LIMIT_S, DEFAULT_DOWNLOAD_TIME_LIMIT_S)


def _whole_setting(name: str, default: int) -> int:
    text = (os.environ.get(name) or str(default)).strip()
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise SettingError(f"{name}={text!r} is not a whole number of at least 1: use a number such as {default}")
    return int(text)


class _Slots:
    """The downloads this process is serving (the event loop's: taken and given back there)."""

    def __init__(self) -> None:
        self.taken = 0

    def take(self, limit: int) -> None:
        """One more download, or `Refused` (503) when `limit` are being served."""
        if self.taken >= limit:
            raise Refused(503, "download.busy")
        self.taken += 1

    def give_back(self) -> None:
        self.taken -= 1


SLOTS = _Slots()


# -- the route ----------------------------------------------------------------------------------


def export_engine() -> Engine:
    """The downloads' own engine (the app's database): a CSV holds its connection for the whole
    stream, which must not come out of the pool the sign-in gate needs for every page."""
    return _export_engine(server_database_url())


@functools.cache
def _export_engine(url: str) -> Engine:
    return open_database(url)


async def download(request: Request) -> Response:
    """GET /download/{ticket}: the file, or why not (plain text)."""
    client = request.client.host if request.client else None
    lang = answer_lang(request)
    try:
        who = await run_in_threadpool(requester, await run_in_threadpool(auth_engine), request.cookies, client)
        ticket = read_ticket(who.credential, request.path_params["ticket"])
        filters = search_of(ticket, who)
        limit, time_limit_s = downloads_at_once(), download_time_limit_s()
        SLOTS.take(limit)
    except Refused as refusal:
        retry = {"Retry-After": str(RETRY_AFTER_S)} if refusal.status == 503 else {}
        return download_refusal(t(refusal.key, lang), refusal.status, retry)
    except SettingError as exc:
        return download_refusal(str(exc), 503)
    except DATABASE_ERRORS:  # nobody can be checked
        return download_refusal(t("signin.unavailable", lang), 503)
    handed = False
    try:
        name, media_type = file_of(filters, ticket.fmt, ticket.lang)
        headers = {"Content-Disposition": _attachment(name), "Cache-Control": "no-store"}
        engine = await run_in_threadpool(export_engine)
        if ticket.fmt == "csv" and isinstance(filters, Filters) and view(ticket.view).export is None:
            body = await _streamed_csv(engine, filters, ticket.lang, who)
        else:
            body, size = await _written_file(engine, filters, ticket.fmt, ticket.lang, who)
            headers["Content-Length"] = str(size)
        response = _Download(body, time_limit_s, media_type=media_type, headers=headers)
        handed = True
        return response
    except (*DATABASE_ERRORS, ChartError, OSError) as exc:
        return download_refusal(t("export.failed", lang, detail=first_line(exc)), 503)
    finally:
        if not handed:
            SLOTS.give_back()


class _Download(StreamingResponse):
    """A file's stream: it ends `time_limit_s` after it starts (without its last chunk: a failed
    download in the browser), and gives its slot back however it ends. The slot bounds the streams: a
    CSV writer told to stop ends at its next piece, so its connection is free a moment after the slot."""

    body_iterator: AsyncGenerator[bytes, None]

    def __init__(self, body: AsyncGenerator[bytes, None], time_limit_s: float, **kwargs) -> None:
        super().__init__(body, **kwargs)
        self.time_limit_s = time_limit_s

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        try:
            with anyio.move_on_after(self.time_limit_s):
                await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self.body_iterator.aclose()  # a browser that left: the writer stops now
            SLOTS.give_back()


def _attachment(name: str) -> str:
    """`attachment` with the file's name, ASCII-safe (RFC 6266's `filename*` for the rest)."""
    fallback = name.encode("ascii", "replace").decode().replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


# -- CSV, streamed while written ---------------------------------------------------------------


class _Channel(io.RawIOBase):
    """The writer's file: bytes gathered into `CHUNK_BYTES` pieces and sent to the response through
    a bounded memory stream (the writer waits while it is full, `STALLED_S` at most). Nothing is sent
    before `open()`."""

    def __init__(self, send: MemoryObjectSendStream[bytes]) -> None:
        super().__init__()
        self._send = send
        self._pending = bytearray()
        self._open = False

    def writable(self) -> bool:
        return True

    def open(self) -> None:
        self._open = True
        self._flush(CHUNK_BYTES)

    def write(self, data) -> int:
        self._pending += data
        self._flush(CHUNK_BYTES)
        return memoryview(data).nbytes

    def end(self) -> None:
        self._flush(1)

    def _flush(self, at_least: int) -> None:
        if self._open and len(self._pending) >= at_least:
            piece, self._pending = bytes(self._pending), bytearray()
            anyio.from_thread.run(_send, self._send, piece)


async def _send(send: MemoryObjectSendStream[bytes], piece: bytes) -> None:
    """Hands a piece to the response: BrokenResourceError once the browser left, TimeoutError when it
    has read nothing for `STALLED_S` (the writer then stops and lets the database go)."""
    with anyio.fail_after(STALLED_S):
        await send.send(piece)


def _write_csv(engine: Engine, filters: Filters, lang: str, who: Requester,
               send: MemoryObjectSendStream[bytes]) -> int:
    """In a worker thread: writes the CSV into the channel, auditing it before its first byte."""
    with send:
        channel = _Channel(send)
        audited = False

        def progress(done: int, total: int) -> None:
            nonlocal audited
            if not audited:  # the search is counted, no row written yet
                audit_export(engine, who.actor, filters, "csv", total, who.address, via="page")
                audited = True
                anyio.from_thread.run(_send, send, b"")  # tells the route the file may go out
                channel.open()

        rows = export(engine, filters, "csv", lang, channel, progress)
        channel.end()
        return rows


async def _streamed_csv(engine: Engine, filters: Filters, lang: str, who: Requester) -> AsyncGenerator[bytes, None]:
    send, receive = anyio.create_memory_object_stream[bytes](max_buffer_size=CHANNEL_CHUNKS)
    writer = asyncio.ensure_future(run_in_threadpool(_write_csv, engine, filters, lang, who, send))
    writer.add_done_callback(_retrieved)
    try:
        await receive.receive()  # audited: the file may go out
    except anyio.EndOfStream:
        receive.close()
        await writer  # raises why it stopped (the audit or the database)
        raise OSError("the file ended before it started") from None
    return _pieces(receive, writer)


def _retrieved(writer: asyncio.Future[int]) -> None:
    """Marks the writer's end as seen: a browser that left stops it with an error nobody awaits."""
    if not writer.cancelled():
        writer.exception()


async def _pieces(receive: MemoryObjectReceiveStream[bytes],
                  writer: asyncio.Future[int]) -> AsyncGenerator[bytes, None]:
    """The channel's pieces; a writer that failed ends the response without its last chunk."""
    with receive:
        async for piece in receive:
            yield piece
    await writer


# -- XLSX and PDF, written then streamed --------------------------------------------------------


def _write_file(engine: Engine, filters: Search, fmt: str, lang: str, who: Requester) -> tuple[IO[bytes], int]:
    """In a worker thread: the file written to a temporary folder, audited, open and already unlinked."""
    folder = Path(tempfile.mkdtemp(prefix="report-download-"))
    try:
        path = folder / f"file.{fmt}"
        if isinstance(filters, OptOutFilters):
            with path.open("wb") as out:
                rows = opt_out_export.export(engine, filters, fmt, lang, out)
        else:
            rows = export(engine, filters, fmt, lang, path)
        audit_export(engine, who.actor, filters, fmt, rows, who.address, via="page")
        file = open(path, "rb")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return file, os.fstat(file.fileno()).st_size


async def _written_file(engine: Engine, filters: Search, fmt: str, lang: str,
                        who: Requester) -> tuple[AsyncGenerator[bytes, None], int]:
    file, size = await run_in_threadpool(_write_file, engine, filters, fmt, lang, who)
    return _file_pieces(file), size


async def _file_pieces(file: IO[bytes]) -> AsyncGenerator[bytes, None]:
    try:
        while piece := await run_in_threadpool(file.read, CHUNK_BYTES):
            yield piece
    finally:
        file.close()


ROUTES = [Route(PATH + "{ticket}", download, methods=["GET"])]
