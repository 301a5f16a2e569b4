"""The providers' webhooks served straight from the outermost user middleware, ahead of the rest.

A webhook request needs none of what Streamlit and the other middleware put in front of its routes
(path checks for files, the session cookie, gzip of a two-byte answer, the sign-in gate, the security
headers' wrapper of every answer): under load that stack cost about as much time per request as the
route itself (py-spy on the app server, BENCHMARKS.md). `DirectRoutes` hands a request that one of
its routes fully matches (path and method) to that route's ASGI app at once; any other request goes
on through the usual stack, where the same routes are registered too (so a wrong method still gets
its 405). Routes served here write their own security headers (server/webhooks.py).
"""
from collections.abc import Sequence

from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send


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
                await endpoint(scope, receive, send)
                return
            for route in self.patterned:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await self.app(scope, receive, send)
