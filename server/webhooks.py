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
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from data_access.ingest import sinch_latam
from data_access.ingest.reader import read_records
from server import live
from server.auth import meta_signature_ok, same, sinch_legacy_signature_ok, sinch_legacy_signed
from server.body import BodyRefused, read_body
from server.received import META, SINCH, Received

EMPTY_BODY = "an empty body: no payload"
ON_LOOP_MAX_BYTES = 64 * 1024  # larger bodies are checked (HMAC, JSON) in a worker thread


def _not_found() -> Response:
    return PlainTextResponse("not found", status_code=404)


def _stored() -> Response:
    """200 with no body: the answer goes out in one write (uvicorn writes a body apart from the
    head, one more system call and packet per request)."""
    return Response(status_code=200)


class _Endpoint:
    """A route's handler served as a plain ASGI app: Starlette wraps a function endpoint in
    per-request layers (exception handler lookup, closures) that cost, under load, about as much as
    the handler's own work; these handlers raise nothing those layers would turn into an answer."""

    def __init__(self, handle: Callable[[Request], Awaitable[Response]]) -> None:
        self.handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)


async def accept(item: Received) -> Response:
    """200 once the authentic body is durable; 503 (the provider retries) when it cannot be stored.
    An empty body is kept in rejected_record with its reason, and answered 200 once committed."""
    service = live.current()
    if service is None:
        return PlainTextResponse("database unavailable", status_code=503)
    try:
        if not item.body.strip():
            await run_in_threadpool(service.reject_now, item, EMPTY_BODY)
            return _stored()
        await service.store(item)
    except Exception:  # disk full, database gone, shutting down: not stored, so not 200
        return PlainTextResponse("not stored, try again", status_code=503)
    return _stored()


async def _off_loop_if_large(body: bytes, check: Callable[..., bool], *args: Any) -> bool:
    """`check(*args)`, in a worker thread when the body is large: hashing or parsing megabytes on
    the event loop would hold up every other request's answer."""
    if len(body) > ON_LOOP_MAX_BYTES:
        return await run_in_threadpool(check, *args)
    return check(*args)


async def meta_verify(request: Request) -> Response:
    token = live.secrets().meta_verify_token
    if token is None:
        return _not_found()
    params = request.query_params
    if params.get("hub.mode") == "subscribe" and same(params.get("hub.verify_token", ""), token):
        return PlainTextResponse(params.get("hub.challenge", ""))
    return PlainTextResponse("forbidden", status_code=403)


async def meta_event(request: Request) -> Response:
    app_secret = live.secrets().meta_app_secret
    if app_secret is None:
        return _not_found()
    try:
        body = await read_body(request)
    except BodyRefused as refused:
        return refused.response
    if not await _off_loop_if_large(body, meta_signature_ok, request, body, app_secret):
        return PlainTextResponse("missing or wrong signature", status_code=401)
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


async def sinch_event(request: Request) -> Response:
    secrets = live.secrets()
    if secrets.sinch_webhook_token is None or not same(request.path_params["token"], secrets.sinch_webhook_token):
        return _not_found()
    try:
        body = await read_body(request)
    except BodyRefused as refused:
        return refused.response
    callback_secret = secrets.sinch_callback_secret
    if callback_secret is not None:
        if sinch_legacy_signed(request):
            if not await _off_loop_if_large(body, sinch_legacy_signature_ok, request, body, callback_secret):
                return PlainTextResponse("wrong signature", status_code=401)
        elif not await _off_loop_if_large(body, _latam_only, body):
            return PlainTextResponse("missing signature", status_code=401)
    return await accept(Received(SINCH, body))


ROUTES = [
    Route("/webhooks/meta", meta_verify, methods=["GET"]),
    Route("/webhooks/meta", _Endpoint(meta_event), methods=["POST"]),
    Route("/webhooks/sinch/{token}", _Endpoint(sinch_event), methods=["POST"]),
]
