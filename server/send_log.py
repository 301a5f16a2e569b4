"""`POST /api/send-log` (SPEC 8): the sending system's records, answered after they are committed.

The body is JSON (one object or an array), JSON Lines or CSV, as its `Content-Type` says, and holds
the same records as the `ingest` command's files; the answer is the run's summary. Idempotent:
posting the same records again counts them as duplicates.
"""
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from server import live
from server.auth import api_enabled, api_token_ok
from server.body import BodyRefused, read_body
from server.fold import DATABASE_FAILURES
from server.received import SEND_LOG, Received

CONTENT_TYPES = {
    "application/json": "JSON",
    "application/x-ndjson": "JSON Lines",
    "application/jsonl": "JSON Lines",
    "application/x-jsonlines": "JSON Lines",
    "application/json-lines": "JSON Lines",
    "text/csv": "CSV",
}


async def send_log(request: Request) -> Response:
    secrets = live.secrets()
    if not api_enabled(secrets):
        return PlainTextResponse("not found", status_code=404)
    if not api_token_ok(request, secrets):
        return PlainTextResponse("missing or wrong token", status_code=401, headers={"WWW-Authenticate": "Bearer"})
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in CONTENT_TYPES:
        return PlainTextResponse(f"Content-Type must be one of {', '.join(CONTENT_TYPES)}", status_code=415)
    try:
        body = await read_body(request)
    except BodyRefused as refused:
        return refused.response
    service = live.current()
    if service is None:
        return PlainTextResponse("database unavailable", status_code=503)
    try:
        summary = await run_in_threadpool(service.ingest_now, Received(SEND_LOG, body))
    except DATABASE_FAILURES:
        return PlainTextResponse("database unavailable, nothing or part committed; sending again is safe",
                                 status_code=503)
    total = summary.total
    return JSONResponse(
        {"accepted": total.accepted, "duplicate": total.duplicates, "rejected": total.rejected, "events": total.events}
    )


ROUTES = [Route("/api/send-log", send_log, methods=["POST"])]
