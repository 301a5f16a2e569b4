"""The providers' webhooks (SPEC 8): verify, store durably, answer 200; the fold comes after.

- `GET /webhooks/meta`: Meta's verification handshake.
- `POST /webhooks/meta`: WhatsApp Cloud API statuses and messages, signed with the app secret.
- `POST /webhooks/sinch/{token}`: Sinch Messaging LATAM and legacy Sinch callbacks; the path's
  token is the secret; legacy signature headers are checked when `SINCH_CALLBACK_SECRET` is set.
An endpoint whose secret is not set answers 404 and reads nothing.
"""
import json

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from server import live
from server.auth import meta_signature_ok, same, sinch_legacy_signature_ok, sinch_legacy_signed
from server.body import BodyRefused, read_body
from server.received import META, SINCH, Received


def _not_found() -> Response:
    return PlainTextResponse("not found", status_code=404)


async def accept(item: Received) -> Response:
    """200 once the body is durable; 503 (the provider retries) when it cannot be stored."""
    service = live.current()
    if service is None:
        return PlainTextResponse("database unavailable", status_code=503)
    if not item.body.strip():
        return PlainTextResponse("empty body", status_code=400)
    try:
        await service.store(item)
    except Exception:  # disk full, database gone, shutting down: not stored, so not 200
        return PlainTextResponse("not stored, try again", status_code=503)
    return PlainTextResponse("ok")


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
    if not meta_signature_ok(request, body, app_secret):
        return PlainTextResponse("missing or wrong signature", status_code=401)
    return await accept(Received(META, body))


def _looks_legacy(body: bytes) -> bool:
    """A legacy Sinch WhatsApp API callback (`"type": "whatsapp"`), which can be signed; Sinch
    Messaging LATAM signs nothing."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deep for the parser
        return False
    return isinstance(value, dict) and value.get("type") == "whatsapp"


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
            if not sinch_legacy_signature_ok(request, body, callback_secret):
                return PlainTextResponse("wrong signature", status_code=401)
        elif _looks_legacy(body):
            return PlainTextResponse("missing signature", status_code=401)
    return await accept(Received(SINCH, body))


ROUTES = [
    Route("/webhooks/meta", meta_verify, methods=["GET"]),
    Route("/webhooks/meta", meta_event, methods=["POST"]),
    Route("/webhooks/sinch/{token}", sinch_event, methods=["POST"]),
]
