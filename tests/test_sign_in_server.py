"""The sign-in gate and routes of the real ASGI app (`app.app`, the `st.App` that `streamlit run app.py`
serves), driven with Starlette's TestClient: no socket is opened, and the client address is whatever
the test says (203.0.113.9 is a documentation address; nothing is sent to it). Each test runs on a
fresh DuckDB file and a fresh PostgreSQL database, which the app opens through DATABASE_URL.
"""
import time
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
import streamlit
from sqlalchemy.engine import Engine

with warnings.catch_warnings():  # Starlette asks for httpx2; httpx is what it supports today
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from data_access import accounts
from data_access.schema import web_session
import server.sign_in
from server.sign_in import FIRST_ADMIN_COMMAND, FRONTEND_PASS_S, SESSION_COOKIE, auth_engine
from server.headers import SECURITY_HEADERS

OUTSIDE = ("203.0.113.9", 1234)
LOOPBACK = ("127.0.0.1", 1234)
PASSWORD = "correct horse battery"
STATIC = "/" + next(
    p.relative_to(Path(streamlit.__file__).parent).as_posix()
    for p in sorted((Path(streamlit.__file__).parent / "static" / "static" / "js").glob("index.*.js"))
)[len("static/"):]


@pytest.fixture(scope="module")
def running_app(tmp_path_factory) -> Iterator[object]:
    """The app with its Streamlit runtime and live interface started (once per process: the runtime
    cannot restart); its live interface on a database of its own, each test's gate on the test's."""
    import app

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", f"duckdb:///{tmp_path_factory.mktemp('live') / 'live.duckdb'}")
        with TestClient(app.app):
            yield app.app


@pytest.fixture
def client_from(running_app, engine, db_url, monkeypatch):
    """A TestClient factory for a client address, on this test's database."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("REPORT_LANG", raising=False)

    def make(address: tuple[str, int] = LOOPBACK) -> TestClient:
        return TestClient(running_app, client=address, follow_redirects=False)

    return make


def add(engine: Engine, email: str = "ana@example.com", role: str = "admin", subaccounts=()) -> None:
    accounts.add_account(engine, email, role, "Ana", subaccounts, PASSWORD)


def sign_in(client: TestClient, email: str = "ana@example.com", password: str = PASSWORD, **more):
    return client.post("/signin", data={"email": email, "password": password, "lang": "en", "next": "/sent", **more})


def test_only_loopback_is_served_while_no_account_exists(client_from, engine):
    outside = client_from(OUTSIDE)
    for path, title in (("/", "Nenhuma conta criada"), ("/sent?lang=en", "No account yet"), (STATIC, "Nenhuma conta criada"),
                        ("/signin?lang=es", "Aún no hay cuentas")):
        answer = outside.get(path)
        assert answer.status_code == 403, path
        assert f"<h1>{title}</h1>" in answer.text
        assert f"<code>{FIRST_ADMIN_COMMAND}</code>" in answer.text
    assert FIRST_ADMIN_COMMAND == "python -m data_access.users add EMAIL --role admin --password-stdin"
    with pytest.raises(WebSocketDisconnect) as refused:
        with outside.websocket_connect("/_stcore/stream"):
            pass
    assert refused.value.code == 1008

    home = client_from(LOOPBACK)
    answer = home.get("/sent")
    assert answer.status_code == 200
    assert '<div id="root"></div>' in answer.text  # Streamlit's page
    assert home.get(STATIC).status_code == 200
    assert home.get("/signin?next=/received").headers["location"] == "/received"  # nothing to sign in to

    add(engine)  # the first admin: now everyone signs in, loopback included
    for client in (outside, home):
        answer = client.get("/sent?lang=en")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/signin?next=%2Fsent%3Flang%3Den&lang=en"


def test_without_a_session_nothing_but_the_sign_in_form_is_served(client_from, engine):
    add(engine)
    client = client_from(OUTSIDE)
    assert client.get("/").headers["location"] == "/signin?next=%2F"
    for path in (STATIC, "/media/0123456789abcdef.png", "/_stcore/host-config", "/_stcore/upload_file/x/y"):
        answer = client.get(path)
        assert (answer.status_code, answer.text) == (401, "sign-in required"), path
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/_stcore/stream"):
            pass
    assert refused.value.code == 1008
    client.cookies.set(SESSION_COOKIE, "forged-token")
    assert client.get(STATIC).status_code == 401
    form = client.get("/signin?lang=es")
    assert form.status_code == 200
    assert '<label for="email">Correo electrónico</label>' in form.text
    assert '<label for="password">Contraseña</label>' in form.text
    assert '<button type="submit">Iniciar sesión</button>' in form.text
    assert client.get("/_stcore/health").status_code == 200  # a liveness probe, no data


def test_the_live_interface_stays_open_to_every_address(client_from, engine):
    """SPEC §8: providers and monitors call from outside, with their own authentication."""
    for exists in (False, True):
        if exists:
            add(engine)
        client = client_from(OUTSIDE)
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/webhooks/meta", params={"hub.mode": "subscribe"}).status_code == 404  # not configured
        assert client.post("/webhooks/sinch/any-token", content=b"{}").status_code == 404
        assert client.post("/api/send-log", content=b"[]").status_code == 404


def test_the_commands_route_is_left_to_its_own_token_check(client_from, engine):
    """`python -m exports` / `ingest` reach the owner of the embedded file through /_owner/ with the
    presence file's token (server/control.py), also once accounts exist: the gate does not stand in
    their way, and without the token the route answers 404 as if it did not exist."""
    add(engine)
    answer = client_from(LOOPBACK).post("/_owner/ping", headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 404


def test_a_session_cookie_opens_everything_until_sign_out(client_from, engine):
    add(engine)
    client = client_from(OUTSIDE)
    answer = sign_in(client)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sent"
    cookie = answer.headers["set-cookie"]
    token = client.cookies[SESSION_COOKIE]
    assert cookie.startswith(f"{SESSION_COOKIE}={token}; ")
    # A browser-session cookie (no Max-Age, no Expires): the server ends it after 12 h unused, not
    # 12 h after sign-in.
    assert sorted(part.strip() for part in cookie.split(";")[1:]) == ["HttpOnly", "Path=/", "SameSite=lax"]
    assert client.get("/sent").status_code == 200
    assert client.get(STATIC).status_code == 200
    with client.websocket_connect("/_stcore/stream") as socket:
        socket.close()
    out = client.post("/signout?lang=en")
    assert (out.status_code, out.headers["location"]) == (303, "/signin?lang=en")
    assert f'{SESSION_COOKIE}=""' in out.headers["set-cookie"]
    client.cookies.set(SESSION_COOKIE, token)  # the old cookie is worth nothing now
    assert client.get("/sent").status_code == 303
    assert accounts.session_account(engine, token) is None


def test_unknown_email_and_wrong_password_get_the_same_answer(client_from, engine):
    add(engine)
    client = client_from(OUTSIDE)
    wrong_password = sign_in(client, "ana@example.com", "not the password")
    unknown_email = sign_in(client, "bia@example.com", PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert '<p class="error" role="alert">Wrong email or password.</p>' in wrong_password.text
    assert wrong_password.text.replace("ana@example.com", "X") == unknown_email.text.replace("bia@example.com", "X")
    assert SESSION_COOKIE not in client.cookies


def test_five_failures_make_the_next_attempt_wait(client_from, engine):
    add(engine)
    client = client_from(OUTSIDE)
    for _ in range(5):
        assert sign_in(client, password="guess").status_code == 401
    locked = sign_in(client)  # the right password, too late
    assert locked.status_code == 429
    assert '<p class="error" role="alert">Too many failed attempts. Wait 15 min and try again.</p>' in locked.text
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/sent").status_code == 303


def test_two_step_verification_asks_for_the_code(client_from, engine):
    add(engine)
    secret = accounts.set_totp(engine, "ana@example.com", True)
    client = client_from(OUTSIDE)
    step = sign_in(client)
    assert step.status_code == 200
    assert '<label for="totp">Verification code</label>' in step.text
    assert '<input type="hidden" name="email" value="ana@example.com">' in step.text
    assert SESSION_COOKIE not in client.cookies
    code = pyotp.TOTP(secret).now()
    wrong = f"{(int(code) + 500000) % 1000000:06d}"
    assert sign_in(client, totp=wrong).status_code == 401
    assert SESSION_COOKIE not in client.cookies
    done = sign_in(client, totp=code)
    assert (done.status_code, done.headers["location"]) == (303, "/sent")
    assert client.get("/sent").status_code == 200


def test_a_session_unused_for_twelve_hours_is_over(client_from, engine):
    add(engine)
    client = client_from(OUTSIDE)
    sign_in(client)
    with engine.begin() as conn:
        conn.execute(sa.update(web_session).values(last_seen_at=web_session.c.last_seen_at - timedelta(hours=11, minutes=58)))
    assert client.get("/sent").status_code == 200  # 11 h 58 min: still on (and now used again)
    with engine.begin() as conn:
        conn.execute(sa.update(web_session).values(last_seen_at=web_session.c.last_seen_at - timedelta(hours=12)))
    answer = client.get("/sent")
    assert (answer.status_code, answer.headers["location"]) == (303, "/signin?next=%2Fsent")


def test_sign_in_goes_back_only_to_this_site(client_from, engine):
    add(engine)
    for target, location in (("//evil.example/x", "/"), ("https://evil.example/", "/"), ("/received?lang=es", "/received?lang=es"),
                             ("/\\evil.example", "/")):
        client = client_from(OUTSIDE)
        assert sign_in(client, next=target).headers["location"] == location


def test_security_headers_on_pages_static_files_routes_and_refusals(client_from, engine):
    home = client_from(LOOPBACK)
    answers = {"page": home.get("/sent"), "static file": home.get(STATIC), "route": home.get("/signin"),
               "health": home.get("/_stcore/health"), "refusal": client_from(OUTSIDE).get("/")}
    add(engine)
    answers["redirect"] = home.get("/sent")
    answers["form"] = home.get("/signin")
    for name, answer in answers.items():
        for header, value in SECURITY_HEADERS:
            assert answer.headers.get(header) == value, (name, header)
    assert dict(SECURITY_HEADERS) == {
        "x-frame-options": "DENY", "content-security-policy": "frame-ancestors 'none'",
        "x-content-type-options": "nosniff", "referrer-policy": "same-origin"}


@pytest.mark.parametrize("report_lang, query, labels", [
    (None, "", ("E-mail", "Senha", "Entrar")),
    ("en", "", ("Email", "Password", "Sign in")),
    ("es", "", ("Correo electrónico", "Contraseña", "Iniciar sesión")),
    ("es", "?lang=en", ("Email", "Password", "Sign in")),  # the link over REPORT_LANG
    ("en", "?lang=xx", ("Email", "Password", "Sign in")),  # an unknown language is ignored
])
def test_the_form_speaks_the_report_language(client_from, engine, monkeypatch, report_lang, query, labels):
    add(engine)
    if report_lang:
        monkeypatch.setenv("REPORT_LANG", report_lang)
    form = client_from(OUTSIDE).get(f"/signin{query}").text
    email, password, button = labels
    assert f'<label for="email">{email}</label>' in form
    assert f'<label for="password">{password}</label>' in form
    assert f'<button type="submit">{button}</button>' in form


def test_a_database_that_does_not_answer_lets_in_loopback_only(running_app, monkeypatch):
    """Nobody can be checked: loopback gets the page (which says why and shows no data), others 503."""
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody:x@127.0.0.1:1/none")
    monkeypatch.delenv("REPORT_LANG", raising=False)
    outside = TestClient(running_app, client=OUTSIDE, follow_redirects=False)
    home = TestClient(running_app, client=LOOPBACK, follow_redirects=False)
    answer = outside.get("/sent")
    assert (answer.status_code, answer.text) == (503, "the database does not answer: try again later")
    assert home.get("/sent").status_code == 200
    for client in (outside, home):
        form = client.get("/signin?lang=en")
        assert form.status_code == 503
        assert '<p class="error">The database does not answer right now: try again in a moment.</p>' in form.text
        posted = client.post("/signin", data={"email": "ana@example.com", "password": PASSWORD, "lang": "es"})
        assert posted.status_code == 503
        assert "La base de datos no responde ahora: intente de nuevo en unos instantes." in posted.text


@pytest.mark.parametrize("query, label", [("", "Sair"), ("?lang=en", "Sign out"), ("?lang=es", "Cerrar sesión")])
def test_only_a_post_signs_out(client_from, engine, query, label):
    """A link or an image on another site (a GET) signs nobody out: GET shows the sign-out button."""
    add(engine)
    client = client_from(OUTSIDE)
    sign_in(client)
    token = client.cookies[SESSION_COOKIE]
    page = client.get(f"/signout{query}")
    assert page.status_code == 200
    assert "set-cookie" not in page.headers
    lang = query.removeprefix("?lang=") or "pt-BR"
    assert (f'<form method="post" action="/signout?lang={lang}"><button type="submit">{label}</button></form>'
            in page.text)
    assert accounts.session_account(engine, token).email == "ana@example.com"
    assert client.get("/sent").status_code == 200
    assert client.post(f"/signout{query}").status_code == 303
    assert accounts.session_account(engine, token) is None


def test_the_ip_allow_list_is_checked_on_every_request(client_from, engine):
    """A session cookie taken elsewhere does not open the app from an address outside the account's
    allow-list; the session goes on from an allowed address."""
    add(engine)
    accounts.allow_ip(engine, "ana@example.com", ["203.0.113.0/24"])
    inside = client_from(OUTSIDE)
    assert sign_in(inside).status_code == 303
    token = inside.cookies[SESSION_COOKIE]
    elsewhere = client_from(("198.51.100.7", 4321))
    elsewhere.cookies.set(SESSION_COOKIE, token)
    answer = elsewhere.get("/sent")
    assert (answer.status_code, answer.headers["location"]) == (303, "/signin?next=%2Fsent")
    assert (elsewhere.get(STATIC).status_code, elsewhere.get(STATIC).text) == (401, "sign-in required")
    with pytest.raises(WebSocketDisconnect) as refused:
        with elsewhere.websocket_connect("/_stcore/stream"):
            pass
    assert refused.value.code == 1008
    assert inside.get("/sent").status_code == 200  # the session was not ended
    assert accounts.session_account(engine, token).email == "ana@example.com"
    accounts.allow_ip(engine, "ana@example.com", [])
    assert elsewhere.get("/sent").status_code == 200


def test_streamlit_s_own_files_ask_the_database_once_per_browser_for_a_few_seconds(client_from, engine, monkeypatch):
    """A fresh page asks for about a hundred of Streamlit's frontend files: the gate looks the session
    up once, then lets that browser (its session, its address) fetch them for `FRONTEND_PASS_S`
    without asking again. Nothing else rides on the pass: pages ask every time, another browser is
    asked for its own session, and a signed-out session loses the frontend's files once it runs out."""
    assert FRONTEND_PASS_S == 5.0
    monkeypatch.setattr(server.sign_in, "FRONTEND_PASS_S", 60.0)  # the fetches below fit in it on a busy machine
    add(engine)
    client = client_from(OUTSIDE)
    sign_in(client)
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    gate_engine = auth_engine()
    sa.event.listen(gate_engine, "before_cursor_execute", record)
    try:
        first = client.get(STATIC)
        asked_first = len(statements)
        again = [client.get(STATIC).status_code for _ in range(20)]
        asked_again = len(statements) - asked_first
        page = client.get("/sent")
        asked_for_page = len(statements) - asked_first - asked_again
    finally:
        sa.event.remove(gate_engine, "before_cursor_execute", record)
    assert (first.status_code, asked_first > 0, again, asked_again) == (200, True, [200] * 20, 0)
    assert (page.status_code, asked_for_page > 0) == (200, True)
    assert client_from(("203.0.113.10", 1234)).get(STATIC).status_code == 401  # no session of its own
    monkeypatch.setattr(server.sign_in, "FRONTEND_PASS_S", 1.0)
    leaving = client_from(("203.0.113.11", 1234))
    sign_in(leaving)
    assert leaving.get(STATIC).status_code == 200  # its pass, for a second
    token = leaving.cookies[SESSION_COOKIE]
    assert leaving.post("/signout?lang=en").status_code == 303
    leaving.cookies.set(SESSION_COOKIE, token)
    assert leaving.get("/sent").status_code == 303
    time.sleep(1.0)
    assert (leaving.get(STATIC).status_code, leaving.get(STATIC).text) == (401, "sign-in required")
