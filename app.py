"""The app server (`streamlit run app.py [-- --db URL]`): the dashboard (the router in `router/dashboard.py`
and its pages) and, on the same port, the live interface of SPEC 8 (webhooks, send log, health).

A short wiring file: add routes, middleware and startup/shutdown work to the lists below. Streamlit
finds the module-level `app` and serves it with uvicorn; user routes come before Streamlit's own and
user middleware wraps every request, pages and static files included.
"""
import streamlit as st
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from server import control, download, headers, health, live, preload, send_log, sign_in, static, webhooks
from server.direct import DirectRoutes
from server.lifespan import combined

routes: list[BaseRoute] = [*webhooks.ROUTES, *send_log.ROUTES, *health.ROUTES, *control.ROUTES, *sign_in.ROUTES,
                           *download.ROUTES]
# Outermost first: the webhooks served at once (they need nothing of the stack below and write
# their own security headers: server/direct.py), security headers on every other answer (refusals
# included), then the sign-in gate, then Streamlit's frontend files from memory (server/static.py),
# then the list of the elements' code for the browser to fetch early on each page (server/preload.py).
middleware: list[Middleware] = [
    Middleware(DirectRoutes, routes=webhooks.ROUTES, prefix="/webhooks/"),
    Middleware(headers.SecurityHeaders),
    Middleware(sign_in.SignInGate),
    Middleware(static.StaticCache),
    Middleware(preload.Preload),
]
# Entered in order at startup, left in reverse order at shutdown (each an async context manager
# factory taking the `st.App`; the dicts they yield are merged into `app.state`).
lifespans = [control.owning, live.running]

app = st.App("router/dashboard.py", routes=routes, middleware=middleware, lifespan=combined(lifespans))
