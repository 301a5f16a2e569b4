"""The providers' webhooks (SPEC 8): verify, store durably, answer 200 (with no body); the fold
comes after.

- `GET /webhooks/meta`: Meta's verification handshake.
- `POST /webhooks/meta`: WhatsApp Cloud API statuses and messages, signed with the app secret.
- `POST /webhooks/sinch/{token}`: Sinch Messaging LATAM and legacy Sinch callbacks; the path's
  token is the secret; when `SINCH_CALLBACK_SECRET` is set, a body with the legacy signature
  headers must be rightly signed, and a body without them is taken only when every payload in it
  is a Sinch LATAM callback (which signs nothing).
An endpoint whose secret is not set answers 404 and reads nothing.
"""
import io
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, QueryParams
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from data_access.ingest import sinch_latam
from data_access.ingest.reader import read_records
from server import live
from server.auth import META_SIGNATURE_HEADER, meta_signature_ok, same, sinch_legacy_signature_ok, sinch_legacy_signed
from server.body import BodyRefused, header, receive_body
from server.headers import ENCODED_SECURITY_HEADERS
from server.received import META, SINCH, Received

EMPTY_BODY = "an empty body: no payload"
ON_LOOP_MAX_BYTES = 64 * 1024  # larger bodies are checked (HMAC, JSON) in a worker thread
_META_SIGNATURE = META_SIGNATURE_HEADER.encode()

Answer = tuple[int, bytes]  # status and plain-text body
STORED: Answer = (200, b"")  # 200 with no body: uvicorn writes a body apart from the head
NOT_FOUND: Answer = (404, b"not found")


def _start(status: int, body: bytes) -> dict[str, Any]:
    headers = [(b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"text/plain; charset=utf-8"))
    return {"type": "http.response.start", "status": status, "headers": headers + list(ENCODED_SECURITY_HEADERS)}


_STORED_START = _start(*STORED)


class _Endpoint:
    """A route's handler served as a plain ASGI app that writes its answer itself, security headers
    included: the webhooks are served ahead of the middleware (server/direct.py, app.py), and
    Starlette's request, response and per-request layers cost, under load, about as much as the
    handler's own work. The handlers raise nothing those layers would turn into an answer."""

    def __init__(self, handle: Callable[[Scope, Receive], Awaitable[Answer]]) -> None:
        self.handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status, body = await self.handle(scope, receive)
        await send(_STORED_START if (status, body) == STORED else _start(status, body))
        await send({"type": "http.response.body", "body": body})


async def accept(item: Received) -> Answer:
    """200 once the authentic body is durable; 503 (the provider retries) when it cannot be stored.
    An empty body is kept in rejected_record with its reason, and answered 200 once committed."""
    service = live.current()
    if service is None:
        return 503, b"database unavailable"
    try:
        if not item.body.strip():
            await run_in_threadpool(service.reject_now, item, EMPTY_BODY)
            return STORED
        await service.store(item)
    except Exception:  # disk full, database gone, shutting down: not stored, so not 200
        return 503, b"not stored, try again"
    return STORED


async def _off_loop_if_large(body: bytes, check: Callable[..., bool], *args: Any) -> bool:
    """`check(*args)`, in a worker thread when the body is large: hashing or parsing megabytes on
    the event loop would hold up every other request's answer."""
    if len(body) > ON_LOOP_MAX_BYTES:
        return await run_in_threadpool(check, *args)
    return check(*args)


async def meta_verify(scope: Scope, _receive: Receive) -> Answer:
    token = live.secrets().meta_verify_token
    if token is None:
        return NOT_FOUND
    params = QueryParams(scope["query_string"])
    if params.get("hub.mode") == "subscribe" and same(params.get("hub.verify_token", ""), token):
        return 200, params.get("hub.challenge", "").encode("utf-8")
    return 403, b"forbidden"


async def meta_event(scope: Scope, receive: Receive) -> Answer:
    app_secret = live.secrets().meta_app_secret
    if app_secret is None:
        return NOT_FOUND
    try:
        body = await receive_body(scope, receive)
    except BodyRefused as refused:
        return refused.status, refused.text.encode()
    if not await _off_loop_if_large(body, meta_signature_ok, header(scope, _META_SIGNATURE), body, app_secret):
        return 401, b"missing or wrong signature"
    return await accept(Received(META, body))


def _latam_only(body: bytes) -> bool:
    """Every payload of the body (one JSON value, an array, JSON Lines: read as the ingest code
    reads it) is a Sinch Messaging LATAM callback, which is never signed. Any other body (a legacy
    callback, which can be signed, anything else, or nothing) needs the legacy signature once
    `SINCH_CALLBACK_SECRET` is set."""
    payloads = 0
    for record in read_records(io.BytesIO(body)):
        if record.error is not None or record.csv_row:
            return False
        for value in record.value if isinstance(record.value, list) else [record.value]:
            if not (isinstance(value, dict) and sinch_latam.looks_like(value)):
                return False
            payloads += 1
    return payloads > 0


async def sinch_event(scope: Scope, receive: Receive) -> Answer:
    secrets = live.secrets()
    if secrets.sinch_webhook_token is None or not same(scope["path_params"]["token"], secrets.sinch_webhook_token):
        return NOT_FOUND
    try:
        body = await receive_body(scope, receive)
    except BodyRefused as refused:
        return refused.status, refused.text.encode()
    callback_secret = secrets.sinch_callback_secret
    if callback_secret is not None:
        headers = Headers(scope=scope)
        if sinch_legacy_signed(headers):
            if not await _off_loop_if_large(body, sinch_legacy_signature_ok, headers, body, callback_secret):
                return 401, b"wrong signature"
        elif not await _off_loop_if_large(body, _latam_only, body):
            return 401, b"missing signature"
    return await accept(Received(SINCH, body))


ROUTES = [
    Route("/webhooks/meta", _Endpoint(meta_verify), methods=["GET"]),
    Route("/webhooks/meta", _Endpoint(meta_event), methods=["POST"]),
    Route("/webhooks/sinch/{token}", _Endpoint(sinch_event), methods=["POST"]),
]
