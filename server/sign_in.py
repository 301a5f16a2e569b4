"""Sign-in in front of the app server (SPEC section 9).

`SignInGate` sees every request. The §8 routes (webhooks, send log, health) and the sign-in routes
pass untouched. While no account exists, only loopback clients are served (the demo of `make run`);
anyone else gets a 403 page saying how to create the first admin. Once an account exists, a request
needs the session cookie set by `POST /signin`; a page request without one is sent to the sign-in
form, anything else (static files, media, downloads, the websocket) is refused.

A session counts only from an address of its account's IP allow-list (when it has one), checked on
every request: from elsewhere the request is treated as not signed in, and the session is left as it is.
The one exception is Streamlit's own frontend files (`/static/`: its code, styles and fonts, the same
for everyone): a browser let in for one of them is let in for the others for `FRONTEND_PASS_S` without
the database being asked again (the same session cookie from the same address).

With single sign-on configured (`[auth]` in secrets.toml), `st.login` runs in the page script, so the
app shell (static files, `/_stcore/` but uploads, the websocket) is served without a session, and
pages to a browser that asked for single sign-on (`/?sso=1`) or carries Streamlit's identity cookie;
the script shows data only to an identity whose email is an active account (pages/session.py).
Media, downloads (`/download/`, server/download.py), uploads and components need the session or a verified identity: Streamlit's
identity cookie with a valid signature, a verified email of an active account, and the address
allowed. A download refused here is answered as the download route answers its own refusals: plain
text in the link's language (else the browser's Accept-Language, `REPORT_LANG`, pt-BR).
"""
from __future__ import annotations

import functools
import html
import ipaddress
import json
import time
from collections.abc import Callable, Mapping
from urllib.parse import quote, urlencode

import streamlit as st
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from data_access import accounts
from data_access.config import LANGUAGES
from data_access.engine import DATABASE_ERRORS, open_database
from data_access.i18n import request_lang, t
from server.settings import server_database_url

SESSION_COOKIE = "report_session"
STREAMLIT_USER_COOKIE = "_streamlit_user"  # set by Streamlit's OpenID Connect callback
FIRST_ADMIN_COMMAND = "python -m data_access.users add EMAIL --role admin --password-stdin"
# Answered without a session: SPEC §8's routes, the sign-in routes, the liveness probe.
OPEN_PATHS = ("/healthz", "/api/send-log", "/signin", "/signout", "/_stcore/health")
# `/_owner/` is the commands' way in (server/control.py): loopback only, with the presence file's token.
OPEN_PREFIXES = ("/webhooks/", "/_owner/")
# Streamlit's OpenID Connect routes, open when single sign-on is configured.
SSO_PATHS = ("/auth/login", "/auth/logout", "/oauth2callback")
# Streamlit's own frontend files (its code, styles and fonts: the same for everyone, no data): a
# browser that was let in for one is let in again for a few seconds without asking the database,
# since a fresh page asks for about a hundred of them at once.
FRONTEND_PREFIX = "/static/"
FRONTEND_PASS_S = 5.0
_FRONTEND_PASSES_MAX = 10_000
# What the browser needs to run the page script that calls `st.login` (no data: the script shows
# none until the identity is checked); media, downloads, uploads and components are not part of it.
_APP_SHELL_PREFIXES = (FRONTEND_PREFIX, "/_stcore/")
_NOT_APP_SHELL = ("/_stcore/upload_file",)
IDENTITY_MAX_AGE_S = 31 * 86400  # Streamlit's identity cookie lasts 30 days
DOWNLOADS_PREFIX = "/download/"  # the files of a search (server/download.py)
# Paths that are not pages: refused (401) rather than sent to the sign-in form.
_NOT_PAGES = ("/_stcore/", "/media/", "/component/", FRONTEND_PREFIX, "/app/static/", DOWNLOADS_PREFIX)


def auth_engine() -> Engine:
    """The engine the sign-in routes and the gate use: the app's database (`--db`, DATABASE_URL)."""
    return _engine(server_database_url())


@functools.cache
def _engine(url: str) -> Engine:
    return open_database(url)


def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8 or ::1, also written as an IPv4-mapped IPv6 address (a server on `::` sees those)."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def sso_configured() -> bool:
    """True when Streamlit's `[auth]` section (OpenID Connect) is in the secrets."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return False


def answer_lang(request: HTTPConnection) -> str:
    """The language of a refused download: the link's `lang` parameter (the ticket's own language,
    written beside it by `download.download_path`; the ticket itself is not read before it is
    checked), else the browser's Accept-Language, else the server's (`REPORT_LANG`, pt-BR)."""
    return request_lang(request.query_params.get("lang"), request.headers.get("accept-language"))


def download_refusal(text: str, status: int, headers: Mapping[str, str] | None = None) -> PlainTextResponse:
    """A refused download's answer: `text` (in `answer_lang`), never cached."""
    return PlainTextResponse(text, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


class _AccountsKnown:
    """Whether any account exists in a database: once true it stays true (accounts are disabled,
    never removed), so the question is asked only until the first account is made."""

    def __init__(self) -> None:
        self._known: set[str] = set()

    def __call__(self, engine: Engine) -> bool:
        key = str(engine.url)
        if key in self._known:
            return True
        exists = accounts.any_account(engine)
        if exists:
            self._known.add(key)
        return exists


class SignInGate:
    """ASGI middleware in front of everything the app serves (see the module's docstring)."""

    def __init__(self, app: ASGIApp, engine: Callable[[], Engine] = auth_engine) -> None:
        self.app = app
        self.engine = engine
        self.accounts_exist = _AccountsKnown()
        self.frontend_passes: dict[tuple[str | None, str | None], float] = {}  # (session, address): until

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or _is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = HTTPConnection(scope)
        frontend = scope["type"] == "http" and scope["path"].startswith(FRONTEND_PREFIX)
        visitor = (request.cookies.get(SESSION_COOKIE), request.client.host if request.client else None)
        if frontend and self.frontend_passes.get(visitor, 0.0) > time.monotonic():
            await self.app(scope, receive, send)
            return
        verdict = await run_in_threadpool(self._verdict, request)
        if verdict is None:
            if frontend:
                if len(self.frontend_passes) >= _FRONTEND_PASSES_MAX:
                    self.frontend_passes.clear()
                self.frontend_passes[visitor] = time.monotonic() + FRONTEND_PASS_S
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await verdict(scope, receive, send)

    def _verdict(self, request: HTTPConnection) -> Response | None:
        """None to serve the request, else the answer that refuses it. When the database cannot say
        who may come in, loopback is served (the page script says what is wrong and shows no data)
        and anyone else gets 503."""
        client = request.client.host if request.client else None
        try:
            return self._check(request, client)
        except DATABASE_ERRORS:
            if is_loopback(client):
                return None
            if request.url.path.startswith(DOWNLOADS_PREFIX):
                return download_refusal(t("signin.unavailable", answer_lang(request)), 503)
            return PlainTextResponse("the database does not answer: try again later", status_code=503)

    def _check(self, request: HTTPConnection, client: str | None) -> Response | None:
        engine = self.engine()
        if not self.accounts_exist(engine):
            if is_loopback(client):
                return None
            downloads = request.url.path.startswith(DOWNLOADS_PREFIX)
            lang = answer_lang(request) if downloads else request_lang(request.query_params.get("lang"))
            return first_admin_page(lang)
        token = request.cookies.get(SESSION_COOKIE)
        account = accounts.session_account(engine, token) if token else None
        if account is not None and accounts.address_allowed(client, account.ip_allow):
            return None
        path = request.url.path
        is_page = request.scope.get("method") == "GET" and not path.startswith(_NOT_PAGES)
        if sso_configured():
            if path in SSO_PATHS or (path.startswith(_APP_SHELL_PREFIXES) and not path.startswith(_NOT_APP_SHELL)):
                return None  # no data: the page script checks the identity (pages/session.py)
            if is_page and (STREAMLIT_USER_COOKIE in request.cookies or request.query_params.get("sso") == "1"):
                return None
            if verified_identity(engine, request.cookies.get(STREAMLIT_USER_COOKIE), client):
                return None
        if is_page:
            target = path + (f"?{request.url.query}" if request.url.query else "")
            query = {"next": target, **({"lang": request.query_params["lang"]} if "lang" in request.query_params else {})}
            return RedirectResponse(f"/signin?{urlencode(query)}", status_code=303)
        if path.startswith(DOWNLOADS_PREFIX):
            return download_refusal(t("download.sign_in", answer_lang(request)), 401)
        return PlainTextResponse("sign-in required", status_code=401)


def verified_identity(engine: Engine, cookie: str | None, client: str | None) -> bool:
    """Whether Streamlit's identity cookie is signed with the `[auth]` cookie secret, says signed in,
    and names a verified email of an active account whose IP allow-list lets `client` in."""
    return identity_account(engine, cookie, client) is not None


def identity_account(engine: Engine, cookie: str | None, client: str | None) -> accounts.Account | None:
    """The account of a verified identity cookie (see `verified_identity`), else None."""
    if not cookie:
        return None
    try:
        secret = str(st.secrets["auth"]["cookie_secret"])
        claims = json.loads(URLSafeTimedSerializer(secret, salt=STREAMLIT_USER_COOKIE).loads(
            cookie, max_age=IDENTITY_MAX_AGE_S))
    except (BadData, KeyError, ValueError, TypeError, FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return None
    if not isinstance(claims, dict) or claims.get("is_logged_in") is not True:
        return None
    email = accounts.verified_sso_email(claims)
    account = accounts.get_account(engine, email) if email else None
    if account is None or not account.active or not accounts.address_allowed(client, account.ip_allow):
        return None
    return account


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


# -- pages --------------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f2f6f4;color:#1c2b25;margin:0}
main{max-width:24rem;margin:10vh auto;background:#fff;padding:2rem;border-radius:.75rem;
box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin:0 0 1.2rem}label{display:block;margin:.8rem 0 .3rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.55rem;border:1px solid #b9c7c0;border-radius:.4rem;font-size:1rem}
button{margin-top:1.2rem;width:100%;padding:.6rem;background:#0a7c5a;color:#fff;border:0;border-radius:.4rem;
font-size:1rem;cursor:pointer}p.error{color:#a3261b}code{background:#f2f6f4;padding:.15rem .3rem;word-break:break-all}
a{color:#0a7c5a}nav{margin-top:1rem;font-size:.9rem}
"""


def _page(lang: str, title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        f'<!DOCTYPE html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status, headers={"Cache-Control": "no-store"})


def first_admin_page(lang: str) -> HTMLResponse:
    """403 for a client other than loopback while no account exists."""
    body = (
        f"<h1>{html.escape(t('signin.no_account_title', lang))}</h1>"
        f"<p>{html.escape(t('signin.no_account_text', lang))}</p><p><code>{html.escape(FIRST_ADMIN_COMMAND)}</code></p>"
    )
    return _page(lang, t("app.title", lang), body, status=403)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no `//host`): else the root."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def sign_in_form(lang: str, target: str, error: str | None = None, email: str = "",
                 totp_for: tuple[str, str] | None = None, status: int = 200) -> HTMLResponse:
    """The sign-in form; with `totp_for` (email, password) the two-step verification code step."""
    e = html.escape
    hidden = f'<input type="hidden" name="lang" value="{e(lang)}"><input type="hidden" name="next" value="{e(target)}">'
    if totp_for is None:
        fields = (
            f'<label for="email">{e(t("signin.email", lang))}</label>'
            f'<input id="email" name="email" type="email" autocomplete="username" required value="{e(email)}" autofocus>'
            f'<label for="password">{e(t("signin.password", lang))}</label>'
            f'<input id="password" name="password" type="password" autocomplete="current-password" required>'
        )
    else:
        fields = (
            f'<input type="hidden" name="email" value="{e(totp_for[0])}">'
            f'<input type="hidden" name="password" value="{e(totp_for[1])}">'
            f'<p>{e(t("signin.totp_text", lang))}</p>'
            f'<label for="totp">{e(t("signin.totp_code", lang))}</label>'
            f'<input id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{{6}}" '
            f"required autofocus>"
        )
    message = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    sso = ""
    if sso_configured() and totp_for is None:
        sso = f'<nav><a href="/?sso=1&amp;lang={quote(lang)}">{e(t("signin.sso", lang))}</a></nav>'
    languages = " · ".join(
        f'<a href="/signin?{e(urlencode({"lang": code, "next": target}))}">{e(t(f"lang.{code}", code))}</a>'
        for code in LANGUAGES if code != lang
    )
    body = (
        f"<h1>{e(t('app.title', lang))}</h1>{message}"
        f'<form method="post" action="/signin">{hidden}{fields}'
        f'<button type="submit">{e(t("signin.submit", lang))}</button></form>{sso}<nav>{languages}</nav>'
    )
    return _page(lang, t("signin.submit", lang), body, status=status)


def _unavailable(lang: str) -> HTMLResponse:
    return _page(lang, t("app.title", lang), f"<p class=\"error\">{html.escape(t('signin.unavailable', lang))}</p>",
                 status=503)


async def sign_in_page(request: Request) -> Response:
    """GET /signin: the form (or, while no account exists, the demo for loopback and 403 for others)."""
    try:
        return await _sign_in_page(request)
    except DATABASE_ERRORS:
        return _unavailable(request_lang(request.query_params.get("lang")))


async def _sign_in_page(request: Request) -> Response:
    lang = request_lang(request.query_params.get("lang"))
    target = _safe_next(request.query_params.get("next"))
    engine = await run_in_threadpool(auth_engine)
    if not await run_in_threadpool(accounts.any_account, engine):
        client = request.client.host if request.client else None
        return RedirectResponse(target, status_code=303) if is_loopback(client) else first_admin_page(lang)
    return sign_in_form(lang, target)


async def sign_in_post(request: Request) -> Response:
    """POST /signin: checks the credentials; on success sets the session cookie and goes on."""
    form = await request.form()
    lang = request_lang(str(form.get("lang") or ""))
    try:
        return await _sign_in_post(request, form, lang)
    except DATABASE_ERRORS:
        return _unavailable(lang)


async def _sign_in_post(request: Request, form: FormData, lang: str) -> Response:
    target = _safe_next(str(form.get("next") or ""))
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    code = str(form.get("totp") or "").strip() or None
    address = request.client.host if request.client else ""
    engine = await run_in_threadpool(auth_engine)
    result = await run_in_threadpool(accounts.sign_in, engine, email, password, address, code)
    if result.reason == "locked":
        minutes = max(1, -(-int(result.wait.total_seconds()) // 60)) if result.wait else 15
        return sign_in_form(lang, target, t("signin.locked", lang, minutes=minutes), email, status=429)
    if result.reason == "needs_totp":
        return sign_in_form(lang, target, None, email, totp_for=(email, password))
    if not result.ok:  # an unknown email, a wrong password or code, an address not allowed: one answer
        return sign_in_form(lang, target, t("signin.failed", lang), email, status=401)
    token = await run_in_threadpool(accounts.create_session, engine, result.account.email)
    response = RedirectResponse(target, status_code=303)
    # A browser-session cookie, without Max-Age: the server ends the session after 12 hours unused.
    response.set_cookie(SESSION_COOKIE, token, path="/", httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
    return response


async def sign_out_page(request: Request) -> Response:
    """GET /signout: a page with the sign-out button (a link or an image elsewhere signs nobody out)."""
    lang = request_lang(request.query_params.get("lang"))
    e = html.escape
    body = (
        f"<h1>{e(t('app.title', lang))}</h1>"
        f'<form method="post" action="{e("/signout?" + urlencode({"lang": lang}))}">'
        f'<button type="submit">{e(t("signin.sign_out", lang))}</button></form>'
    )
    return _page(lang, t("signin.sign_out", lang), body)


async def sign_out(request: Request) -> Response:
    """POST /signout: ends the session and clears the cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    lang = request_lang(request.query_params.get("lang"))
    if token:
        engine = await run_in_threadpool(auth_engine)
        await run_in_threadpool(accounts.end_session, engine, token)
    response = RedirectResponse(f"/signin?{urlencode({'lang': lang})}", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


ROUTES = [
    Route("/signin", sign_in_page, methods=["GET"]),
    Route("/signin", sign_in_post, methods=["POST"]),
    Route("/signout", sign_out_page, methods=["GET"]),
    Route("/signout", sign_out, methods=["POST"]),
]

