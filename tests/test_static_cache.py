"""Streamlit's frontend files answered from memory (server/static.py), on a real app server: the bytes
a client gets are the installed files' own, uncompressed whatever it accepts, with Streamlit's
caching headers and the security headers; a range, a revalidation and a path outside the folder get
what Streamlit answers. The files are read from disk by the test itself."""
import re
import socket

import httpx
import pytest

from server.headers import SECURITY_HEADERS
from server.preload import STATIC
from server.static import CACHE_CONTROL, static_files
from tests.app_server import serve_rows
from tests.factories import at, mt_row

GZIP = {"accept-encoding": "gzip, deflate, br, zstd"}  # what Chromium sends


def only(pattern: str) -> str:
    """The URL path of the one file of Streamlit's folder matching `pattern` (its hash changes)."""
    path, = [p for p in (STATIC / "static").rglob("*") if re.fullmatch(pattern, p.name)]
    return "/" + path.relative_to(STATIC).as_posix()


ENTRY = only(r"index\.[^.]+\.js")  # the frontend's entry module, 480 KB
PLOTLY = only(r"PlotlyChart\.[^.]+\.js")  # 4.7 MB
STYLE = only(r"index\.[^.]+\.css")
FONT = only(r"SourceSansVF-Upright\.ttf\.[^.]+\.woff2")


def file_bytes(path: str) -> bytes:
    return (STATIC / path.lstrip("/")).read_bytes()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    rows = [mt_row(sent_at=at(10, 9, 0), status="read")]
    with serve_rows(tmp_path_factory.mktemp("static"), rows, []) as base:
        yield base


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


def raw(client: httpx.Client, path: str, headers: dict[str, str]) -> httpx.Response:
    """The answer as sent (the body not decoded)."""
    with client.stream("GET", path, headers=headers) as answer:
        answer.body = b"".join(answer.iter_raw())
    return answer


def test_the_files_come_as_installed_with_streamlits_headers(client):
    for path, media_type in ((ENTRY, "application/javascript"), (PLOTLY, "application/javascript"),
                             (STYLE, "text/css; charset=utf-8"), (FONT, "font/woff2")):
        for headers in (GZIP, {"accept-encoding": "identity"}):
            answer = raw(client, path, headers)
            assert answer.status_code == 200, path
            assert "content-encoding" not in answer.headers, path
            assert answer.body == file_bytes(path), path
            assert int(answer.headers["content-length"]) == len(answer.body), path
            assert answer.headers["content-type"] == media_type, path
            assert answer.headers["cache-control"] == CACHE_CONTROL == "public, immutable, max-age=31536000"
            assert answer.headers["accept-ranges"] == "bytes"
            assert "link" not in answer.headers  # only pages carry the preload list
            for name, value in SECURITY_HEADERS:
                assert answer.headers[name] == value, (path, name)
    # asked again, the same answer (made once)
    again, first = raw(client, ENTRY, GZIP), raw(client, ENTRY, GZIP)
    assert (again.body, again.headers["etag"]) == (first.body, first.headers["etag"])


def test_head_revalidation_and_ranges(client):
    full = raw(client, ENTRY, GZIP)
    head = client.head(ENTRY, headers=GZIP)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == full.headers["content-length"] == str(len(file_bytes(ENTRY)))
    assert head.headers["etag"] == full.headers["etag"]

    same = client.get(ENTRY, headers={**GZIP, "if-none-match": full.headers["etag"]})
    assert (same.status_code, same.content) == (304, b"")
    assert (same.headers["etag"], same.headers["cache-control"]) == (full.headers["etag"], CACHE_CONTROL)
    other = raw(client, ENTRY, {**GZIP, "if-none-match": '"0123"'})
    assert other.status_code == 200 and other.body == file_bytes(ENTRY)

    part = client.get(ENTRY, headers={**GZIP, "range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == file_bytes(ENTRY)[100:200]


def test_paths_outside_the_folder_go_to_streamlit(server, client):
    missing = client.get("/static/js/no-such-module.js", headers=GZIP)
    # Streamlit's answer for an unknown path: its page (the frontend routes it), never cached
    assert missing.status_code == 200
    assert missing.headers["content-type"] == "text/html; charset=utf-8"
    assert missing.headers["cache-control"] == "no-cache"
    # a path climbing out of the folder, sent as written (httpx would resolve the dots)
    port = int(server.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET /static/js/../../index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 400"), head


def test_the_table_of_files_is_the_folder():
    files = static_files()
    on_disk = [p for p in (STATIC / "static").rglob("*") if p.is_file()]
    assert len(files) == len(on_disk) > 300
    assert files[ENTRY] == STATIC / ENTRY.lstrip("/")
    assert not any(path.endswith(".html") or path == "/manifest.json" for path in files)
    assert all(path.startswith("/static/") for path in files)
