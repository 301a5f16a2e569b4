"""The providers' webhooks served straight from the outermost user middleware, ahead of the rest.

A webhook request needs none of what Streamlit and the other middleware put in front of its routes
(path checks for files, the session cookie, gzip of a two-byte answer, the sign-in gate, the security
headers' wrapper of every answer): under load that stack cost about as much time per request as the
route itself (py-spy on the app server, BENCHMARKS.md). `DirectRoutes` hands a request that one of
its routes fully matches (path and method) to that route's ASGI app at once; any other request goes
on through the usual stack, where the same routes are registered too (so a wrong method still gets
its 405). Routes served here write their own security headers (server/webhooks.py).

A route that fails before it answers (an unexpected exception) is answered here, not by Starlette's
outermost error handler (whose plain 500 would leave out the security headers): 500 with the
security headers and a short plain-text body, the traceback logged once. One that fails after its
answer started is left to the server, which ends the connection and logs it.
"""
import logging
from collections.abc import Sequence
from typing import Any

from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.headers import ENCODED_SECURITY_HEADERS

LOG = logging.getLogger(__name__)
FAILED_TEXT = b"internal server error: try again"
_FAILED_START: dict[str, Any] = {
    "type": "http.response.start", "status": 500,
    "headers": [(b"content-length", str(len(FAILED_TEXT)).encode()), (b"content-type", b"text/plain; charset=utf-8"),
                *ENCODED_SECURITY_HEADERS],
}


class DirectRoutes:
    """ASGI middleware: serves `routes` (whose paths start with `prefix`) without the rest of the stack.
    A route without path parameters is found by its method and path in one dictionary look-up."""

    def __init__(self, app: ASGIApp, routes: Sequence[Route], prefix: str) -> None:
        self.app = app
        self.prefix = prefix
        self.exact: dict[tuple[str, str], ASGIApp] = {
            (method, route.path): route.app
            for route in routes if not route.param_convertors for method in route.methods or ()}
        self.patterned = [route for route in routes if route.param_convertors]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            endpoint = self.exact.get((scope["method"], scope["path"]))
            if endpoint is not None:
                await _served(endpoint, scope["path"], scope, receive, send)
                return
            for route in self.patterned:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    await _served(route.handle, route.path, scope, receive, send)
                    return
        await self.app(scope, receive, send)


async def _served(app: ASGIApp, path: str, scope: Scope, receive: Receive, send: Send) -> None:
    """`app` serving the request; an exception before its answer started is answered 500 here and
    logged under `path` (the route's pattern: a token in the path is a secret)."""
    started = False

    async def watched(message: Message) -> None:
        nonlocal started
        started = True
        await send(message)

    try:
        await app(scope, receive, watched)
    except Exception:
        if started:
            raise
        LOG.exception("%s %s failed before it answered", scope["method"], path)
        await send(_FAILED_START)
        await send({"type": "http.response.body", "body": FAILED_TEXT})
