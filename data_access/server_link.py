"""The app server as the one owner of the embedded file, seen from the commands (SPEC section 7).

While `streamlit run app.py` runs on a DuckDB file, it is the only process that opens the file, and
it writes a presence file beside it (`report.duckdb.server.json`, mode 0600): its loopback URL, a
random token and its process id. `python -m data_access.ingest`, `python -m exports` and
`python -m data_access.users` find it with
`find_server(url)` and send their work to the server's internal routes (`server/control.py`), which
run the same ingest, export and account code on the server's shared database instance, so the commands work
while people use the dashboard and no reader can keep them out.

Both ways carry frames: one kind byte, a 4-byte big-endian length, the payload. Requests to the
ingest route are `n` (an input starts: its name) then `d` (its bytes); answers are `o` (text for
standard output), `e` (text for standard error), `f` (bytes of the exported file) and last `x` (the
exit code as text). Requests to the users route (`python -m data_access.users`) are `a` (one
argument each, in order), `i` (its standard input: the `--password-stdin` line) and `p` (a password
the command asked on its terminal).
"""
from __future__ import annotations

import http.client
import io
import json
import os
import secrets
import struct
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from data_access.engine import embedded_path

PRESENCE_SUFFIX = ".server.json"
TOKEN_HEADER = "X-Report-Owner-Token"
INGEST_ROUTE = "/_owner/ingest"
EXPORT_ROUTE = "/_owner/export"
PING_ROUTE = "/_owner/ping"
USERS_ROUTE = "/_owner/users"
CONNECT_TIMEOUT_S = 5.0  # a server that wrote its presence file starts answering within this
_HEADER = struct.Struct(">cI")
CHUNK_BYTES = 256 * 1024


class ServerGone(ConnectionError):
    """The server stopped answering before the work was done."""


@dataclass(frozen=True)
class Presence:
    """How to reach the app server that owns an embedded file."""

    url: str  # http://127.0.0.1:PORT
    token: str
    pid: int


def presence_path(db_file: Path) -> Path:
    return db_file.with_name(db_file.name + PRESENCE_SUFFIX)


def write_presence(db_file: Path, url: str) -> Presence:
    """Announces this process as the owner of `db_file` (atomically, readable by its user only)."""
    presence = Presence(url=url, token=secrets.token_urlsafe(32), pid=os.getpid())
    target = presence_path(db_file)
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(asdict(presence), file)
    os.replace(partial, target)
    return presence


def remove_presence(db_file: Path, presence: Presence) -> None:
    """Removes the presence file if it is still this one's (a newer server may have replaced it)."""
    if _read(presence_path(db_file)) == presence:
        presence_path(db_file).unlink(missing_ok=True)


def find_server(url: str) -> Presence | None:
    """The running app server that owns the embedded file of `url`, or None (PostgreSQL, no server,
    a presence file left by a server that died, or one this user did not write)."""
    db_file = embedded_path(url)
    if db_file is None:
        return None
    presence = _read(presence_path(db_file))
    if presence is None or not _alive(presence.pid) or not _answers(presence):
        return None
    return presence


def _answers(presence: Presence) -> bool:
    """The server answers its ping with this token (retried for a few seconds: it may be starting)."""
    try:
        post(presence, PING_ROUTE, b"", "text/plain").close()
    except ServerGone:
        return False
    return True


def _read(path: Path) -> Presence | None:
    try:
        info = path.stat()
        if info.st_uid != os.geteuid() or info.st_mode & 0o077:
            return None  # only a file this user wrote, readable by nobody else, is trusted
        data = json.loads(path.read_text())
        presence = Presence(url=str(data["url"]), token=str(data["token"]), pid=int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if urlsplit(presence.url).hostname not in ("127.0.0.1", "::1", "localhost"):
        return None
    return presence


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def frame(kind: bytes, payload: bytes) -> bytes:
    return _HEADER.pack(kind, len(payload)) + payload


def read_frames(stream: BinaryIO) -> Iterator[tuple[bytes, bytes]]:
    """The (kind, payload) frames of a stream, until it ends; a cut frame raises `ServerGone`."""
    while True:
        header = stream.read(_HEADER.size)
        if not header:
            return
        if len(header) < _HEADER.size:
            raise ServerGone("the app server's answer was cut short")
        kind, size = _HEADER.unpack(header)
        payload = stream.read(size) if size else b""
        if len(payload) < size:
            raise ServerGone("the app server's answer was cut short")
        yield kind, payload


def input_frames(inputs: Iterable[tuple[str, BinaryIO]]) -> Iterator[bytes]:
    """An ingest request's body: each input's name, then its bytes, read as they come."""
    for name, stream in inputs:
        yield frame(b"n", name.encode("utf-8"))
        while chunk := stream.read1(CHUNK_BYTES) if hasattr(stream, "read1") else stream.read(CHUNK_BYTES):
            yield frame(b"d", chunk)


def post(presence: Presence, route: str, body: Iterable[bytes] | bytes, content_type: str) -> http.client.HTTPResponse:
    """Sends a request to the owner's internal route; retries the connection for a few seconds (a
    server that just started). Raises `ServerGone` when it cannot be reached."""
    parts = urlsplit(presence.url)
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while True:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=CONNECT_TIMEOUT_S)
        try:
            connection.connect()
            break
        except OSError as exc:
            connection.close()
            if time.monotonic() >= deadline:
                raise ServerGone(f"the app server at {presence.url} does not answer: {exc}") from None
            time.sleep(0.2)
    connection.sock.settimeout(None)  # an ingest or export may take minutes
    headers = {TOKEN_HEADER: presence.token, "Content-Type": content_type}
    try:
        if isinstance(body, bytes):
            connection.request("POST", route, body=body, headers=headers)
        else:
            connection.request("POST", route, body=body, headers=headers, encode_chunked=True)
        answer = connection.getresponse()
    except OSError as exc:
        connection.close()
        raise ServerGone(f"the app server at {presence.url} stopped answering: {exc}") from None
    if answer.status != 200:
        text = answer.read(2000).decode("utf-8", "replace").strip()
        connection.close()
        raise ServerGone(f"the app server at {presence.url} answered {answer.status}: {text}")
    return answer


def users_request(argv: list[str], stdin: str, password: str | None) -> bytes:
    """A users request's body: the arguments, the standard input text and the password asked, if any."""
    body = b"".join(frame(b"a", arg.encode("utf-8")) for arg in argv) + frame(b"i", stdin.encode("utf-8"))
    return body + (frame(b"p", password.encode("utf-8")) if password is not None else b"")


def read_users_request(body: bytes) -> tuple[list[str], str, str | None]:
    """The arguments, standard input text and asked password of a users request's body."""
    argv: list[str] = []
    stdin = ""
    password = None
    for kind, payload in read_frames(io.BytesIO(body)):
        text = payload.decode("utf-8")
        if kind == b"a":
            argv.append(text)
        elif kind == b"i":
            stdin = text
        elif kind == b"p":
            password = text
    return argv, stdin, password
