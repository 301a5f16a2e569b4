"""The Opt-out page driven with AppTest against a real database: the contacts of the test's own rows
in three languages, the period from the link and the picker, the stop words setting, a scoped account,
the blocked sends equal to the Sent page's opt-out total for the same period, and the download links,
served by the app server's route (server/download.py)."""
import csv
import io
import warnings
from collections.abc import Iterator
from datetime import date
from urllib.parse import unquote, urlsplit

import openpyxl
import pytest
import streamlit as st
from starlette.applications import Starlette
from streamlit.testing.v1 import AppTest

from data_access import accounts
from data_access.accounts import SYSTEM_ACTOR, audit_entries
from server.download import PATH, ROUTES, Ticket, export_engine, read_ticket, server_secret
from server.sign_in import auth_engine
from tests.test_opt_out import A, B, C, H, MAPPED_NUMBER, MOS, MTS
from tests.factories import insert
from tests.test_pages import APP, results, total_line
from tests.test_pages_saved_accounts import signed_in_on

with warnings.catch_warnings():  # Starlette asks for httpx2; httpx is what it supports today
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

OPT_OUT = "../pages/opt_out.py"
PERIOD = {"from": "2026-11-10", "to": "2026-11-15"}
HEADERS = {
    "pt-BR": ["Chat", "Telefone", "Opt-out em", "Como", "Detalhe", "Eventos", "Último evento", "Subconta",
              "Campanha anterior", "Template", "Último envio antes", "ID da última mensagem"],
    "en": ["Chat", "Phone", "Opted out", "How", "Detail", "Events", "Last event", "Subaccount", "Campaign before",
           "Template", "Last sent before", "Last message ID"],
    "es": ["Chat", "Teléfono", "Opt-out el", "Cómo", "Detalle", "Eventos", "Último evento", "Subcuenta",
           "Campaña anterior", "Plantilla", "Último envío antes", "ID del último mensaje"],
}
KINDS = {
    "pt-BR": ("Não entregue por opt-out", "Mensagem de saída"),
    "en": ("Not delivered (opt-out)", "Stop message"),
    "es": ("No entregado por opt-out", "Mensaje de baja"),
}
CARDS = {
    "pt-BR": ["Contatos com opt-out", "Por envio bloqueado", "Por mensagem", "Envios bloqueados", "Mensagens de saída"],
    "en": ["Opted-out contacts", "By blocked send", "By message", "Blocked sends", "Stop messages"],
    "es": ["Contactos con opt-out", "Por envío bloqueado", "Por mensaje", "Envíos bloqueados", "Mensajes de baja"],
}


def when(lang: str, day: int, clock: str) -> str:
    """A São Paulo wall-clock time of November 2026 written the language's way."""
    return f"2026-11-{day:02d} {clock}" if lang == "en" else f"{day:02d}/11/2026 {clock}"


def expected_rows(lang: str) -> list[list]:
    """The four contacts of tests/test_opt_out.py's period, latest first, as the page shows them."""
    failure, stop = KINDS[lang]
    link = lambda phone: f"chat?phone=%2B{phone[1:]}&lang={lang}&tz=America%2FSao_Paulo"  # noqa: E731
    return [
        [link(C), C, when(lang, 15, "23:30:00"), stop, "PARAR", 1, when(lang, 15, "23:30:00"), "", "", "", "", ""],
        [link(H), H, when(lang, 13, "05:00:00"), stop, "\u00a0Stop\u3000", 1, when(lang, 13, "05:00:00"), "Varejo",
         "", "", "", ""],
        [link(B), B, when(lang, 12, "12:00:00"), failure, "131050", 1, when(lang, 12, "12:00:00"), "Atacado",
         "Varejo secreto", "promo_bf", when(lang, 11, "07:00:00"), "wamid.B0"],
        [link(A), A, when(lang, 11, "09:00:00"), stop, "  Saír \n", 2, when(lang, 13, "09:00:00"), "Varejo",
         "Black Friday", "promo_bf", when(lang, 5, "09:00:00"), "wamid.A1"],
    ]


@pytest.fixture(autouse=True)
def _clean(monkeypatch) -> Iterator[None]:
    monkeypatch.delenv("REPORT_LANG", raising=False)
    monkeypatch.delenv("REPORT_TZ", raising=False)
    monkeypatch.delenv("OPT_OUT_STOP_WORDS", raising=False)
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def opt_db(engine, db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    insert(engine, MTS, MOS)
    accounts.set_business_number(engine, MAPPED_NUMBER, "Atacado")
    return engine


def open_opt_out(params: dict) -> AppTest:
    """The router's first run (the Sent page), then the Opt-out page with the link's parameters."""
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update({"lang": params.get("lang", "pt-BR")})
    app.run()
    app.switch_page(OPT_OUT)
    app.query_params.clear()
    app.query_params.update(params)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


SEARCH_PARAMS = {"from": ["2026-11-10"], "to": ["2026-11-15"], "tz": ["America/Sao_Paulo"]}


def ticket_of(link) -> Ticket:
    parts = urlsplit(link.proto.url)
    assert parts.path.startswith(PATH)
    return read_ticket(server_secret(), unquote(parts.path[len(PATH):]))


def downloaded(link, db_url: str) -> tuple[str, bytes]:
    """The route's file for a link of the page (its name, its bytes), asked from the loopback in this
    process (where Streamlit is loaded, as in the app server)."""
    try:
        answer = TestClient(Starlette(routes=ROUTES), client=("127.0.0.1", 1)).get(link.proto.url)
    finally:
        auth_engine().dispose()
        export_engine().dispose()
    assert answer.status_code == 200, answer.text
    return answer.headers["content-disposition"], answer.content


def table(app: AppTest) -> list[list]:
    frame = app.main.dataframe[-1].value
    return [list(row) for row in frame.itertuples(index=False)]


@pytest.mark.parametrize("lang", ["pt-BR", "en", "es"])
def test_contacts_in_three_languages(opt_db, lang):
    app = open_opt_out({**PERIOD, "lang": lang})
    assert total_line(app) == results(4, lang)
    assert [(m.label, m.value) for m in app.main.metric] == list(zip(CARDS[lang], ["4", "1", "3", "2", "3"]))
    assert list(app.main.dataframe[-1].value.columns) == HEADERS[lang]
    assert table(app) == expected_rows(lang)
    assert [ticket_of(link) for link in app.get("link_button")] == [
        Ticket(SYSTEM_ACTOR, "opt_out", SEARCH_PARAMS, fmt, lang)
        for fmt in ("csv", "xlsx")]
    assert [link.proto.label for link in app.get("link_button")] == ["CSV", "XLSX"]
    assert app.query_params == {**PERIOD, "tz": "America/Sao_Paulo", "lang": lang}


def test_the_picker_changes_the_period_and_the_url(opt_db):
    app = open_opt_out({**PERIOD, "lang": "en"})
    app.sidebar.date_input[0].set_value((date(2026, 11, 12), date(2026, 11, 13))).run()
    assert total_line(app) == results(3, "en")
    # A's first opt-out in these days is its blocked send of the 13th.
    assert [row[1] for row in table(app)] == [A, H, B]
    assert table(app)[0][2:6] == ["2026-11-13 09:00:00", "Not delivered (opt-out)", "131050", 1]
    assert app.query_params == {"from": "2026-11-12", "to": "2026-11-13", "tz": "America/Sao_Paulo", "lang": "en"}


def test_blocked_sends_equal_the_sent_pages_opt_out_total(opt_db):
    app = open_opt_out({**PERIOD, "lang": "en"})
    blocked = dict((m.label, m.value) for m in app.main.metric)["Blocked sends"]
    sent = AppTest.from_file(APP, default_timeout=60)
    sent.query_params.update({**PERIOD, "status": "opt_out", "lang": "en"})
    sent.run()
    assert blocked == "2" and total_line(sent) == results(2, "en")


def test_stop_words_come_from_the_setting(opt_db, db_url, monkeypatch):
    monkeypatch.setenv("OPT_OUT_STOP_WORDS", "🛑, Sair ,'; DROP TABLE mo_message; --")
    app = open_opt_out({**PERIOD, "lang": "en"})
    assert [row[1] for row in table(app)] == ["+5511900000106", B, A]
    assert table(app)[0][3:5] == ["Stop message", "🛑"]
    assert app.main.caption[1].value == (
        "Period: `2026-11-10 – 2026-11-15` · Stop words: `🛑, Sair, '; DROP TABLE mo_message; --`"
        " · Time zone: `America/Sao_Paulo`"
    )
    # The files use the stop words the server reads, as the page did.
    csv_link, xlsx_link = app.get("link_button")
    disposition, content = downloaded(csv_link, db_url)
    assert 'filename="opt-out-report_2026-11-10_2026-11-15.csv"' in disposition
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
    assert [row[:4] for row in rows] == [
        ["Phone", "Opted out", "How", "Detail"],
        ["+5511900000106", "2026-11-14T10:00:00-03:00", "Stop message", "🛑"],
        [B, "2026-11-12T12:00:00-03:00", "Not delivered (opt-out)", "131050"],
        [A, "2026-11-11T09:00:00-03:00", "Stop message", "  Saír \n"],
    ]
    disposition, content = downloaded(xlsx_link, db_url)
    assert 'filename="opt-out-report_2026-11-10_2026-11-15.xlsx"' in disposition
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == ["Phone", "+5511900000106", B, A]
    assert [(e.actor, e.detail) for e in reversed(audit_entries(opt_db)) if e.action == "export"] == [
        (SYSTEM_ACTOR, {"view": "opt_out", "filters": SEARCH_PARAMS, "format": fmt, "rows": 3, "via": "page"})
        for fmt in ("csv", "xlsx")]


def test_a_scoped_account_sees_only_its_opt_outs(opt_db):
    accounts.add_account(opt_db, "caio@example.com", "analyst", subaccounts=("Atacado",), password="a long password")
    app = signed_in_on(OPT_OUT, "opt-out", "caio@example.com", {**PERIOD, "lang": "en"})
    assert total_line(app) == results(2, "en")
    assert [row[1:3] + row[8:12] for row in table(app)] == [
        [C, "2026-11-15 23:30:00", "", "", "", ""],
        [B, "2026-11-12 12:00:00", "Boas-vindas", "welcome", "2026-11-09 17:00:00", "wamid.B1"],
    ]


def test_a_period_without_opt_outs_shows_the_empty_state(opt_db):
    app = open_opt_out({"from": "2026-10-01", "to": "2026-10-31", "lang": "en"})
    assert total_line(app) == results(0, "en")
    assert not app.main.dataframe and not app.get("link_button")
    assert len(app.main.info) == 1


def test_stop_words_from_secrets_toml_as_a_list(opt_db):
    app = AppTest.from_file(APP, default_timeout=60)
    app.secrets["OPT_OUT_STOP_WORDS"] = ["🛑", "NÃO, OBRIGADO", "Sair"]
    app.query_params.update({"lang": "en"})
    app.run()
    app.switch_page(OPT_OUT)
    app.query_params.update({**PERIOD, "lang": "en"})
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert [row[1] for row in table(app)] == ["+5511900000106", B, A]
    assert "Stop words: `🛑, NÃO, OBRIGADO, Sair`" in app.main.caption[1].value
