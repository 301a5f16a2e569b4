"""The app server (`streamlit run app.py [-- --db URL]`): the dashboard (the router in `dashboard.py`
and its pages) behind the sign-in gate, with security headers on every answer."""
import streamlit as st
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from server import auth, headers

routes: list[BaseRoute] = [*auth.ROUTES]
middleware: list[Middleware] = [Middleware(headers.SecurityHeaders), Middleware(auth.SignInGate)]

app = st.App("dashboard.py", routes=routes, middleware=middleware)
