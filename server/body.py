"""Reading a request body with a size limit (SPEC 8: bodies over 5 MB get 413)."""
from starlette.requests import Request
from starlette.types import Receive, Scope

MAX_BODY_BYTES = 5 * 1024 * 1024


class BodyRefused(Exception):
    """The body cannot be taken: the answer's `status` and plain `text` say why."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(status, text)
        self.status = status
        self.text = text


def header(scope: Scope, name: bytes) -> str | None:
    """The value of the request's header `name` (lower case, as ASGI servers give the names), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def receive_body(scope: Scope, receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, from the ASGI messages, refused (413) as soon as its declared or received
    length passes `limit`; a client gone before its end is refused (400)."""
    declared = header(scope, b"content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise BodyRefused(400, "bad Content-Length")
        if int(declared) > limit:
            raise BodyRefused(413, "body over 5 MB")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            raise BodyRefused(400, "client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyRefused(413, "body over 5 MB")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """`receive_body` for a Starlette request whose body has not been read yet."""
    return await receive_body(request.scope, request.receive, limit)
