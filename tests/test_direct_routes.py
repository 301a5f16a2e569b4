"""The routes served ahead of the middleware (server/direct.py) when they fail: an app assembled from
the same middleware as app.py's front (`DirectRoutes`, then `SecurityHeaders`), with routes made to
raise, served by uvicorn on a free loopback port and asked over real HTTP."""
import http.client
import logging
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from server.direct import FAILED_TEXT, DirectRoutes
from server.headers import SECURITY_HEADERS, SecurityHeaders
from tests.app_server import free_port

TOKEN = "path-secret"


class Fails:
    """An ASGI endpoint raising `RuntimeError(why)`, after reading the request and starting its answer
    when `after_start` (as a webhook route reads its body before answering: a request left unread when
    the server cuts the connection would make the client see a reset instead of a short body)."""

    def __init__(self, why: str, after_start: bool = False) -> None:
        self.why = why
        self.after_start = after_start

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.after_start:
            while (await receive()).get("more_body"):
                pass
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]})
            await send({"type": "http.response.body", "body": b"abc", "more_body": True})
        raise RuntimeError(self.why)


class Answers:
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("stored", headers=dict(SECURITY_HEADERS))(scope, receive, send)


DIRECT = [
    Route("/webhooks/exact", Fails("exact route broke"), methods=["POST"]),
    Route("/webhooks/patterned/{token}", Fails("patterned route broke"), methods=["POST"]),
    Route("/webhooks/midway", Fails("broke midway", after_start=True), methods=["POST"]),
    Route("/webhooks/fine", Answers(), methods=["POST"]),
]


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def served() -> Iterator[tuple[int, Records]]:
    """The app on a free port (uvicorn in a thread, its logging left as it is) and the records of
    this module's and uvicorn's error loggers."""
    app = Starlette(routes=DIRECT, middleware=[
        Middleware(DirectRoutes, routes=DIRECT, prefix="/webhooks/"), Middleware(SecurityHeaders)])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                                           lifespan="off"))
    records = Records()
    loggers = [logging.getLogger("server.direct"), logging.getLogger("uvicorn.error")]
    for logger in loggers:
        logger.addHandler(records)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            thread.join(0.05)
        assert server.started
        yield port, records
    finally:
        server.should_exit = True
        thread.join(10)
        for logger in loggers:
            logger.removeHandler(records)


def post(port: int, path: str) -> tuple[http.client.HTTPResponse, bytes]:
    """The answer and its body; `IncompleteRead` when the body ends short of its length."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, body=b"{}", headers={"Content-Type": "application/json"})
        answer = connection.getresponse()
        return answer, answer.read()
    finally:
        connection.close()


def tracebacks(records: Records) -> list[tuple[str, str, str]]:
    return [(r.name, r.getMessage(), str(r.exc_info[1])) for r in records.records if r.exc_info]


@pytest.mark.parametrize("path, pattern, why", [
    ("/webhooks/exact", "/webhooks/exact", "exact route broke"),
    (f"/webhooks/patterned/{TOKEN}", "/webhooks/patterned/{token}", "patterned route broke"),
])
def test_a_route_that_fails_before_answering_gets_500_with_the_security_headers(served, path, pattern, why):
    port, records = served
    answer, body = post(port, path)
    assert (answer.status, body) == (500, FAILED_TEXT)
    assert (answer.getheader("content-type"), answer.getheader("content-length")) == (
        "text/plain; charset=utf-8", str(len(FAILED_TEXT)))
    for name, value in SECURITY_HEADERS:
        assert answer.msg.get_all(name) == [value], name
    # the traceback once, under the route's pattern (the token in the path is a secret)
    assert tracebacks(records) == [("server.direct", f"POST {pattern} failed before it answered", why)]
    assert TOKEN not in "".join(r.getMessage() for r in records.records)
    fine, body = post(port, "/webhooks/fine")  # the server goes on serving
    assert (fine.status, body) == (200, b"stored")
    assert len(tracebacks(records)) == 1


def test_a_route_that_fails_midway_is_cut_and_logged_once_by_the_server(served):
    """Its answer started: nothing can be said any more; the connection ends short of the declared length."""
    port, records = served
    with pytest.raises(http.client.IncompleteRead) as cut:
        post(port, "/webhooks/midway")
    assert (cut.value.partial, cut.value.expected) == (b"abc", 7)
    assert tracebacks(records) == [("uvicorn.error", "Exception in ASGI application\n", "broke midway")]
