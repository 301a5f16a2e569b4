"""Single sign-on against a real OpenID Connect provider run here (oidc-provider-mock, on loopback),
with the app served by `streamlit run` and a secrets.toml written for the test, in headless Chromium.
The identity's email must be an active account: it gives the role and the scope; anyone else is refused.
The provider's own page asks a CDN for a style sheet: that request (the only one to another host) is
aborted, so nothing leaves the machine.
"""
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer
from oidc_provider_mock import User, run_server_in_thread
from playwright.sync_api import Page, expect

from data_access import accounts
from data_access.engine import open_database
from server.sign_in import SESSION_COOKIE
from tests.app_server import free_port, served_app
from tests.factories import insert, mt_row

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOWN_MS = 30_000
# Two days ago (UTC): inside the page's default period (the last 7 days, in São Paulo) whatever the hour
TWO_DAYS_AGO = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
MTS = [mt_row(message_id=f"mt{i:02d}", sent_at=TWO_DAYS_AGO + timedelta(hours=10 + i % 8),
              subaccount=("Varejo", "Atacado", "Atacado")[i % 3])
       for i in range(12)]
IDENTITIES = [User(sub=email, claims={"email": email, "name": name}) for email, name in (
    ("bia@example.com", "Bia"), ("zoe@example.com", "Zoe"), ("old@example.com", "Old"))] + [
    User(sub="unv@example.com", claims={"email": "unv@example.com", "name": "Unv", "email_verified": False})]
COOKIE_SECRET = secrets.token_hex(16)
SESSIONS: dict[str, str] = {}  # email -> a session token made before the server starts


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The OpenID Connect provider; its base URL."""
    with run_server_in_thread(user_claims=IDENTITIES) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def server(tmp_path_factory, provider) -> Iterator[str]:
    """The app with `[auth]` pointing at the provider; Bia is an analyst of Atacado, Old is disabled,
    Zoe has no account, Unv's email is not verified by the provider. Its base URL."""
    folder = tmp_path_factory.mktemp("sso")
    url = f"duckdb:///{folder / 'report.duckdb'}"
    engine = open_database(url)
    insert(engine, MTS)
    accounts.add_account(engine, "bia@example.com", "analyst", "Bia", ("Atacado",))  # no password: SSO only
    accounts.add_account(engine, "old@example.com", "admin", "Old", ())
    accounts.disable(engine, "old@example.com")
    accounts.add_account(engine, "unv@example.com", "admin", "Unv", ())  # active, but the provider did not verify it
    accounts.add_account(engine, "ipa@example.com", "admin", "Ipa", (), "correct horse 9")
    accounts.allow_ip(engine, "ipa@example.com", ["203.0.113.0/24"])  # not the loopback the browser comes from
    SESSIONS["ipa@example.com"] = accounts.create_session(engine, "ipa@example.com")
    engine.dispose()
    port = free_port()
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{COOKIE_SECRET}"\n'
        'client_id = "detailed-report"\n'
        f'client_secret = "{secrets.token_hex(16)}"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    with served_app(url, folder / "streamlit.log", args=["--secrets.files", str(secrets_file)], port=port) as base:
        yield base



@pytest.fixture
def page(new_page) -> Page:
    """A page that reaches only this machine (the provider and the app server)."""
    page = new_page()
    page.context.route("**/*", lambda route: route.continue_()
                       if route.request.url.startswith(("http://127.0.0.1:", "http://localhost:")) else route.abort())
    return page


def through_the_provider(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/sent")
    expect(page.get_by_label("Senha", exact=True)).to_be_visible()  # the password form, with the SSO link
    page.get_by_role("link", name="Entrar com login único (SSO)").click()
    page.get_by_role("button", name=email, exact=True).click(timeout=SHOWN_MS)  # the provider's page


def test_an_identity_with_an_active_account_signs_in_with_its_scope(server, page):
    through_the_provider(page, server, "bia@example.com")
    n = sum(1 for r in MTS if r["subaccount"] == "Atacado")
    assert n == 8
    expect(page.get_by_role("heading", name=f"{n} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page.get_by_text("bia@example.com · Analista", exact=True)).to_be_visible()
    page.get_by_role("combobox", name="Subconta").click()
    expect(page.get_by_role("option")).to_have_text(["Atacado"])
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Sair", exact=True).click()
    page.get_by_role("button", name="End session", exact=True).click(timeout=SHOWN_MS)  # the provider's page
    expect(page.get_by_label("Senha", exact=True)).to_be_visible(timeout=SHOWN_MS)  # signed out, at the form
    page.goto(f"{server}/sent")
    expect(page).to_have_url(f"{server}/signin?next=%2Fsent")


@pytest.mark.parametrize("email", ["zoe@example.com", "old@example.com", "unv@example.com"])
def test_an_identity_without_an_active_account_is_refused(server, page, email):
    through_the_provider(page, server, email)
    expect(page.get_by_text(
        f"A identidade {email} não corresponde a uma conta ativa deste relatório. Peça acesso a um administrador.",
        exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page.get_by_role("heading", name="resultados")).to_have_count(0)
    expect(page.get_by_text("Filtros", exact=True)).to_have_count(0)


def identity_cookie(claims: dict, secret: str = COOKIE_SECRET) -> str:
    """Streamlit's identity cookie as its OpenID Connect callback writes it: the JSON of the claims,
    signed with `[auth]`'s cookie secret (itsdangerous, the cookie's name as salt)."""
    return URLSafeTimedSerializer(secret, salt="_streamlit_user").dumps(json.dumps(claims))


def test_without_a_session_sso_opens_the_app_shell_and_pages_only(server):
    """`?sso=1` or any identity cookie lets pages and the app shell through (the page script checks
    the identity); media, downloads, uploads and components need a session or a verified identity."""
    guarded = ("/media/0123456789abcdef.png", "/_stcore/upload_file/x/y", "/component/x/index.html")
    with httpx.Client(base_url=server, follow_redirects=False) as client:
        assert client.get("/sent?sso=1").status_code == 200
        assert client.get("/_stcore/host-config").status_code == 200
        assert client.get("/sent").headers["location"] == "/signin?next=%2Fsent"
        for path in guarded:
            for params, cookies in (({"sso": "1"}, {}), ({}, {"_streamlit_user": "anything"})):
                answer = client.get(path, params=params, cookies=cookies)
                assert (answer.status_code, answer.text) == (401, "sign-in required"), (path, params, cookies)
    origin = server.replace("localhost", "127.0.0.1")
    bia = {"email": "bia@example.com", "is_logged_in": True, "origin": origin}
    refused = [
        identity_cookie(bia, secret="another secret"),  # not signed by this app
        identity_cookie(bia | {"is_logged_in": False}),
        identity_cookie(bia | {"email_verified": False}),
        identity_cookie(bia | {"email": "zoe@example.com"}),  # no account
        identity_cookie(bia | {"email": "old@example.com"}),  # disabled
    ]
    for cookie in refused:
        with httpx.Client(base_url=server, cookies={"_streamlit_user": cookie}) as client:
            assert client.get(guarded[0]).status_code == 401
    with httpx.Client(base_url=server, cookies={"_streamlit_user": identity_cookie(bia)}) as client:
        assert client.get(guarded[0]).status_code == 404  # through the gate: Streamlit has no such file


def test_a_session_cookie_outside_its_allow_list_shows_nothing(server, page):
    """The websocket is part of the app shell under single sign-on, so the page script checks the
    allow-list too: a session cookie used from another address counts as no session (here a page let
    through by an identity cookie, not a valid one, says the session is over)."""
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": SESSIONS["ipa@example.com"], "url": server},
                              {"name": "_streamlit_user", "value": "not signed", "url": server}])
    page.goto(f"{server}/sent")
    expect(page.get_by_text("Sua sessão terminou. Entre de novo para ver o relatório.", exact=True)).to_be_visible(
        timeout=SHOWN_MS)
    expect(page.get_by_text("ipa@example.com · Administrador")).to_have_count(0)
    expect(page.get_by_role("heading", name="resultados")).to_have_count(0)
