"""The providers' webhooks served straight from the user middleware, ahead of the dashboard's stack.

A webhook request needs none of what Streamlit puts in front of its routes (path checks for files,
the session cookie, gzip of a two-byte answer, exception pages): under load that stack cost about as
much time per request as the route itself (py-spy on the app server, BENCHMARKS.md). `DirectRoutes`
hands a request that one of its routes fully matches (path and method) to that route at once; any
other request goes on through the usual stack, where the same routes are registered too (so a wrong
method still gets its 405). Middleware placed before it (the security headers) still applies.
"""
from collections.abc import Sequence

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send


class DirectRoutes:
    """ASGI middleware: serves `routes` (whose paths start with `prefix`) without the rest of the stack."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute], prefix: str) -> None:
        self.app = app
        self.routes = list(routes)
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            for route in self.routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await self.app(scope, receive, send)
