"""Reading a request body with a size limit (SPEC 8: bodies over 5 MB get 413)."""
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response

MAX_BODY_BYTES = 5 * 1024 * 1024


class BodyRefused(Exception):
    """The body cannot be taken; `response` says why."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, refused (413) as soon as its declared or received length passes `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BodyRefused(PlainTextResponse("bad Content-Length", status_code=400))
        if int(declared) > limit:
            raise BodyRefused(PlainTextResponse("body over 5 MB", status_code=413))
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyRefused(PlainTextResponse("body over 5 MB", status_code=413))
            chunks.append(chunk)
    except ClientDisconnect:
        raise BodyRefused(PlainTextResponse("client went away", status_code=400)) from None
    return b"".join(chunks)
