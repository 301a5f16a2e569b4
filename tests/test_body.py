"""`receive_body` (server/body.py) fed the ASGI messages a server would hand it, including those an
HTTP server in front refuses before they reach it (a Content-Length that is no number)."""
import asyncio
from collections.abc import Sequence

import pytest

from server.body import BodyRefused, receive_body


def received(messages: Sequence[dict], content_length: bytes | None = None, limit: int = 10) -> bytes:
    headers = [(b"content-type", b"application/json")]
    if content_length is not None:
        headers.append((b"content-length", content_length))
    pending = list(messages)

    async def receive() -> dict:
        return pending.pop(0)

    return asyncio.run(receive_body({"type": "http", "headers": headers}, receive, limit))


def part(body: bytes, more: bool = True) -> dict:
    return {"type": "http.request", "body": body, "more_body": more}


def test_the_whole_body_in_one_or_several_parts():
    assert received([part(b"0123456789", more=False)], b"10") == b"0123456789"
    assert received([part(b"01234"), part(b""), part(b"56789", more=False)]) == b"0123456789"
    assert received([{"type": "http.request"}]) == b""


@pytest.mark.parametrize("messages, content_length, status, text", [
    ([part(b"{}", more=False)], b"2a", 400, "bad Content-Length"),
    ([part(b"{}", more=False)], b"\xb2", 400, "bad Content-Length"),  # "²": a digit to Python, not to HTTP
    ([], b"11", 413, "body over 5 MB"),  # declared: refused before reading
    ([part(b"012345"), part(b"67890", more=False)], None, 413, "body over 5 MB"),  # 11 bytes received
    ([part(b"01234"), {"type": "http.disconnect"}], b"10", 400, "client went away"),
])
def test_a_body_that_cannot_be_taken_says_why(messages, content_length, status, text):
    with pytest.raises(BodyRefused) as refused:
        received(messages, content_length)
    assert (refused.value.status, refused.value.text) == (status, text)
