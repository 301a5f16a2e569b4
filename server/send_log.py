"""`POST /api/send-log` (SPEC 8): the sending system's records, answered after they are committed.

The body is JSON (one object or an array), JSON Lines or CSV, as its `Content-Type` says, and holds
the same records as the `ingest` command's files; the answer is the run's summary, where every record
read is one of accepted, duplicate or rejected (`read == accepted + duplicate + rejected`;
`rejected_parts` counts the further rejected_record rows: statuses refused inside a record that
loaded, further reasons of a rejected one). Idempotent: posting the same records again counts them as
duplicates. `INGEST_TOKEN` loads anything; a named API token limited to subaccounts (SPEC 9) loads
send-log records of those subaccounts only, the others are rejected with the reason.
"""
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from data_access.scope import Scope
from server import live
from server.auth import api_enabled, api_token_scope
from server.body import BodyRefused, read_body
from server.fold import DATABASE_FAILURES
from server.received import SEND_LOG, Received
from server.settings import Secrets

CONTENT_TYPES = {
    "application/json": "JSON",
    "application/x-ndjson": "JSON Lines",
    "application/jsonl": "JSON Lines",
    "application/x-jsonlines": "JSON Lines",
    "application/json-lines": "JSON Lines",
    "text/csv": "CSV",
}

NOT_ENABLED = object()  # no INGEST_TOKEN and no API token: the route does not exist


def _unavailable() -> Response:
    return PlainTextResponse("database unavailable", status_code=503)


def _caller_scope(request: Request, secrets: Secrets, engine: Engine) -> Scope | None | object:
    """The caller's scope, None for a missing or wrong token, NOT_ENABLED when no token exists."""
    if not api_enabled(secrets, engine):
        return NOT_ENABLED
    return api_token_scope(request, secrets, engine)


async def send_log(request: Request) -> Response:
    secrets = live.secrets()
    service = live.current()
    if service is None:
        return PlainTextResponse("not found", status_code=404) if secrets.ingest_token is None else _unavailable()
    try:
        scope = await run_in_threadpool(_caller_scope, request, secrets, service.engine)
    except DATABASE_FAILURES:
        return _unavailable()
    if scope is NOT_ENABLED:
        return PlainTextResponse("not found", status_code=404)
    if scope is None:
        return PlainTextResponse("missing or wrong token", status_code=401, headers={"WWW-Authenticate": "Bearer"})
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in CONTENT_TYPES:
        return PlainTextResponse(f"Content-Type must be one of {', '.join(CONTENT_TYPES)}", status_code=415)
    try:
        body = await read_body(request)
    except BodyRefused as refused:
        return PlainTextResponse(refused.text, status_code=refused.status)
    try:
        summary = await run_in_threadpool(service.ingest_now, Received(SEND_LOG, body), scope)
    except DATABASE_FAILURES:
        return PlainTextResponse("database unavailable, nothing or part committed; sending again is safe",
                                 status_code=503)
    total = summary.total
    return JSONResponse({
        "read": total.read, "accepted": total.accepted, "duplicate": total.duplicates, "rejected": total.rejected,
        "rejected_parts": total.rejected_parts, "events": total.events,
    })


ROUTES = [Route("/api/send-log", send_log, methods=["POST"])]
