"""Signing in, as a person does: the app served by `streamlit run` on a PostgreSQL database with accounts
(the tests change accounts and sessions beside the running server; on the embedded file the server is
its only owner, and the commands reach it through the server: see tests/test_one_owner.py),
driven in headless Debian Chromium. The form's labels in each language, a wrong password, the wait
after 5 failures, two-step verification, signing out, a session unused for 12 hours, what an analyst
sees, the admin pages and no request to any host but the app.

Failed attempts count per address too (5 lock the address for 15 minutes), so the tests that fail on
purpose present their own client address in X-Forwarded-For, which the server trusts from loopback
(uvicorn's default); every request still goes to 127.0.0.1 only.
"""
import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pyotp
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from data_access import accounts
from data_access.engine import open_database
from data_access.schema import web_session
from data_access.scope import Scope
from tests.app_server import served_app
from tests.factories import at, insert, mo_row, mt_row
from tests.postgres import NO_SERVER, new_postgres_database

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TZ = ZoneInfo("America/Sao_Paulo")
WEEK = "from=2026-11-10&to=2026-11-16"
SHOWN_MS = 30_000
PASSWORD = "correct horse battery"
LABELS = {  # SPEC 9: the form's fields and button
    "pt-BR": ("E-mail", "Senha", "Entrar"),
    "en": ("Email", "Password", "Sign in"),
    "es": ("Correo electrónico", "Contraseña", "Iniciar sesión"),
}
RESULTS = {"pt-BR": "{n} resultados", "en": "{n} results", "es": "{n} resultados"}
WRONG = {"pt-BR": "E-mail ou senha incorretos.", "en": "Wrong email or password.",
         "es": "Correo electrónico o contraseña incorrectos."}

MTS = [
    mt_row(message_id=f"mt{i:03d}", sent_at=at(10 + i % 7, 9 + i % 9), status=("read", "delivered", "sent")[i % 3],
           subaccount=("Varejo", "Atacado", "Atacado", "Digital")[i % 4], user_name=f"user{i % 4}")
    for i in range(60)
]
MOS = [
    mo_row(message_id=f"mo{i:03d}", received_at=at(10 + i % 7, 14), content_type="text",
           subaccount=("Varejo", "Atacado", None)[i % 3])
    for i in range(30)
]


def in_week(when) -> bool:
    return "2026-11-10" <= when.astimezone(TZ).date().isoformat() <= "2026-11-16"


def count(rows: list[dict], time_field: str, subaccounts: tuple[str, ...] | None = None) -> int:
    return sum(1 for r in rows if in_week(r[time_field]) and (subaccounts is None or r["subaccount"] in subaccounts))


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """The app on a filled database with an admin and an analyst of Varejo; (base URL, database URL)."""
    folder = tmp_path_factory.mktemp("sign_in")
    try:
        url, drop = new_postgres_database()
    except RuntimeError:
        pytest.fail(NO_SERVER)
    engine = open_database(url)
    insert(engine, MTS, MOS)
    accounts.add_account(engine, "ana@example.com", "admin", "Ana", (), PASSWORD)
    accounts.add_account(engine, "bia@example.com", "analyst", "Bia", ("Varejo",), PASSWORD)
    engine.dispose()
    try:
        with served_app(url, folder / "streamlit.log") as base:
            yield base, url
    finally:
        drop()


@pytest.fixture
def base(server) -> str:
    return server[0]


@pytest.fixture
def database(server) -> Iterator:
    """The server's database, opened from the test beside the server."""
    engine = open_database(server[1])
    yield engine
    engine.dispose()




def fill_form(page: Page, email: str, password: str, lang: str = "pt-BR") -> None:
    email_label, password_label, button = LABELS[lang]
    page.get_by_label(email_label, exact=True).fill(email)
    page.get_by_label(password_label, exact=True).fill(password)
    page.get_by_role("button", name=button, exact=True).click()


def results_heading(page: Page, n: int, lang: str = "pt-BR"):
    return page.get_by_role("heading", name=RESULTS[lang].format(n=n), exact=True)


def sign_in(page: Page, base: str, email: str, path: str = f"/sent?{WEEK}", lang: str = "pt-BR") -> None:
    page.goto(f"{base}{path}")
    fill_form(page, email, PASSWORD, lang)


@pytest.mark.parametrize("lang", ["pt-BR", "en", "es"])
def test_sign_in_and_out_in_each_language(base, new_page, lang):
    page = new_page("198.51.100.1" if lang == "pt-BR" else "198.51.100.2" if lang == "en" else "198.51.100.3")
    page.goto(f"{base}/sent?{WEEK}&lang={lang}")
    expect(page).to_have_url(f"{base}/signin?next=%2Fsent%3F{WEEK.replace('=', '%3D').replace('&', '%26')}"
                             f"%26lang%3D{lang}&lang={lang}")
    fill_form(page, "ana@example.com", "not the password", lang)
    expect(page.get_by_role("alert")).to_have_text(WRONG[lang])
    fill_form(page, "nobody@example.com", PASSWORD, lang)  # an unknown email: the same answer
    expect(page.get_by_role("alert")).to_have_text(WRONG[lang])
    fill_form(page, "ana@example.com", PASSWORD, lang)
    expect(results_heading(page, count(MTS, "sent_at"), lang)).to_be_visible(timeout=SHOWN_MS)
    role = {"pt-BR": "Administrador", "en": "Administrator", "es": "Administrador"}[lang]
    expect(page.get_by_text(f"ana@example.com · {role}", exact=True)).to_be_visible()
    page.get_by_role("button", name={"pt-BR": "Sair", "en": "Sign out", "es": "Cerrar sesión"}[lang]).click()
    expect(page.get_by_role("button", name=LABELS[lang][2], exact=True)).to_be_visible(timeout=SHOWN_MS)
    page.goto(f"{base}/received?{WEEK}")  # signed out: back to the form
    expect(page.get_by_label(LABELS["pt-BR"][0], exact=True)).to_be_visible()


def test_five_failures_make_a_person_wait(base, new_page, database):
    accounts.add_account(database, "eva@example.com", "analyst", "Eva", ("Varejo",), PASSWORD)
    database.dispose()
    page = new_page("198.51.100.20")
    page.goto(f"{base}/sent")
    for _ in range(5):
        fill_form(page, "eva@example.com", "guess")
        expect(page.get_by_role("alert")).to_have_text(WRONG["pt-BR"])
    fill_form(page, "eva@example.com", PASSWORD)
    expect(page.get_by_role("alert")).to_have_text("Muitas tentativas sem sucesso. Aguarde 15 min e tente de novo.")
    assert page.url.startswith(f"{base}/signin")


def test_two_step_verification(base, new_page, database):
    accounts.add_account(database, "caio@example.com", "analyst", "Caio", ("Atacado",), PASSWORD)
    secret = accounts.set_totp(database, "caio@example.com", True)
    database.dispose()
    page = new_page("198.51.100.30")
    sign_in(page, base, "caio@example.com", lang="en", path=f"/sent?{WEEK}&lang=en")
    expect(page.get_by_text("Two-step verification: type the 6-digit code from your authenticator app.")).to_be_visible()
    page.get_by_label("Verification code", exact=True).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(results_heading(page, count(MTS, "sent_at", ("Atacado",)), "en")).to_be_visible(timeout=SHOWN_MS)


def test_a_session_unused_for_twelve_hours_ends(base, new_page, database):
    page = new_page()
    sign_in(page, base, "bia@example.com")
    expect(results_heading(page, count(MTS, "sent_at", ("Varejo",)))).to_be_visible(timeout=SHOWN_MS)
    with database.begin() as conn:
        conn.execute(sa.update(web_session).where(web_session.c.email == "bia@example.com", web_session.c.ended_at.is_(None))
                     .values(last_seen_at=web_session.c.last_seen_at - timedelta(hours=12)))
    database.dispose()
    page.reload()  # the next request after 12 hours unused goes to the sign-in form
    expect(page.get_by_label("Senha", exact=True)).to_be_visible(timeout=SHOWN_MS)
    assert page.url.startswith(f"{base}/signin?next=")


def test_an_analyst_sees_only_its_subaccounts(base, new_page):
    page = new_page()
    sign_in(page, base, "bia@example.com")
    expect(results_heading(page, count(MTS, "sent_at", ("Varejo",)))).to_be_visible(timeout=SHOWN_MS)
    assert count(MTS, "sent_at", ("Varejo",)) == 15 and count(MTS, "sent_at") == 60
    page.get_by_role("combobox", name="Subconta").click()
    expect(page.get_by_role("option")).to_have_text(["Varejo"])
    page.keyboard.press("Escape")
    page.goto(f"{base}/sent?{WEEK}&subaccount=Atacado")  # a link naming another subaccount shows nothing of it
    expect(results_heading(page, 0)).to_be_visible(timeout=SHOWN_MS)
    page.goto(f"{base}/received?{WEEK}")
    expect(results_heading(page, count(MOS, "received_at", ("Varejo",)))).to_be_visible(timeout=SHOWN_MS)
    assert count(MOS, "received_at", ("Varejo",)) == 10


def test_admin_pages_are_for_admins_only(base, new_page):
    page = new_page()
    sign_in(page, base, "bia@example.com")
    expect(results_heading(page, 15)).to_be_visible(timeout=SHOWN_MS)
    expect(page.get_by_role("link", name="Usuários")).to_have_count(0)
    for path in ("/users", "/audit"):
        page.goto(f"{base}{path}")
        expect(page.get_by_role("heading", name=re.compile(r"^\d+ resultados$"))).to_be_visible(timeout=SHOWN_MS)
        expect(page.get_by_role("heading", name="Usuários", exact=True)).to_have_count(0)
        expect(page.get_by_role("heading", name="Registro de auditoria", exact=True)).to_have_count(0)
        expect(page.get_by_text("ana@example.com")).to_have_count(0)

    admin = new_page()
    sign_in(admin, base, "ana@example.com", path="/users")
    expect(admin.get_by_role("heading", name="Usuários", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(admin.get_by_role("link", name="Registro de auditoria")).to_be_visible()


def test_an_admin_manages_accounts_and_tokens_and_reads_the_audit_log(base, new_page, database):
    page = new_page()
    sign_in(page, base, "ana@example.com", path="/users")
    expect(page.get_by_role("heading", name="Usuários", exact=True)).to_be_visible(timeout=SHOWN_MS)
    page.get_by_text("Adicionar usuário", exact=True).first.click()
    form = page.get_by_test_id("stForm").first
    form.get_by_label("E-mail", exact=True).fill("davi@example.com")
    form.get_by_label("Subcontas", exact=True).fill("Digital, Varejo")
    form.get_by_label("Senha", exact=True).fill("another good password")
    form.get_by_role("button", name="Adicionar usuário").click()
    expect(page.get_by_text("Usuário davi@example.com adicionado.")).to_be_visible(timeout=SHOWN_MS)
    page.get_by_label("Nome do token", exact=True).fill("crm")
    page.get_by_role("button", name="Criar token").click()
    expect(page.get_by_text("Copie o token agora: ele não será mostrado de novo.")).to_be_visible(timeout=SHOWN_MS)
    token = page.get_by_test_id("stCode").last.inner_text().strip()
    assert token.startswith("wdr_")
    davi = accounts.get_account(database, "davi@example.com")
    assert (davi.role, davi.subaccounts, davi.active) == ("analyst", ("Digital", "Varejo"), True)
    assert [(t.name, t.revoked_at) for t in accounts.list_tokens(database)] == [("crm", None)]
    assert accounts.token_scope(database, token) == Scope.ALL

    pick = page.get_by_role("combobox", name="Usuário", exact=True)  # manage Davi: two-step verification on
    pick.click()
    pick.fill("davi@example.com")
    page.get_by_role("option", name="davi@example.com", exact=True).click()
    expect(page.get_by_role("combobox", name="Nível de permissão").last).to_have_value("Analista")
    page.get_by_role("switch", name="Verificação em duas etapas").click(force=True)
    expect(page.get_by_text("Leia este QR code no aplicativo autenticador (ou digite o código abaixo). "
                            "Ele aparece só agora.")).to_be_visible(timeout=SHOWN_MS)
    qr = page.get_by_test_id("stImage").locator("img")
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    secret = page.get_by_test_id("stCode").last.inner_text().strip()
    assert accounts.get_account(database, "davi@example.com").totp_enabled
    assert accounts.sign_in(database, "davi@example.com", "another good password", "198.51.100.40").reason == "needs_totp"
    enrolled = accounts.sign_in(database, "davi@example.com", "another good password", "198.51.100.40",
                                pyotp.TOTP(secret).now())
    assert enrolled.ok
    total = accounts.audit_count(database)
    database.dispose()

    page.goto(f"{base}/audit")
    expect(page.get_by_role("heading", name="Registro de auditoria", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page.get_by_text(f"{total} registros", exact=True)).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Exportar CSV").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["Data", "Quem", "Ação", "Detalhes", "Endereço IP"]
    assert len(rows) == 1 + total
    actions = [row[2] for row in rows[1:]]
    assert actions[:4] == ["sign_in", "account.totp", "token.create", "account.add"]  # newest first
    assert rows[2][1] == "ana@example.com"


def test_a_page_load_asks_no_other_host(base, new_page):
    page = new_page()
    elsewhere: list[str] = []

    def only_the_app(route) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_the_app)
    sign_in(page, base, "ana@example.com")
    expect(results_heading(page, 60)).to_be_visible(timeout=SHOWN_MS)
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=SHOWN_MS)
    page.wait_for_load_state("networkidle")
    page.goto(f"{base}/received?{WEEK}")
    expect(results_heading(page, count(MOS, "received_at"))).to_be_visible(timeout=SHOWN_MS)
    page.wait_for_load_state("networkidle")
    assert elsewhere == []
    assert page.evaluate("document.querySelector(\"link[rel='shortcut icon']\").href").startswith("data:image/svg+xml")
