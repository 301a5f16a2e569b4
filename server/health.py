"""`GET /healthz`: 200 `{"status": "ok"}` when the database answers, 503 otherwise; never any data."""
import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from server import live


def _database_answers() -> bool:
    service = live.current()
    if service is None:
        return False
    try:
        with service.engine.connect() as conn:
            conn.execute(sa.select(1)).scalar_one()
    except Exception:  # any failure of the database means "not healthy", never a 500
        return False
    return True


async def healthz(_request: Request) -> JSONResponse:
    if await run_in_threadpool(_database_answers):
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "unavailable"}, status_code=503)


ROUTES = [Route("/healthz", healthz, methods=["GET"])]
