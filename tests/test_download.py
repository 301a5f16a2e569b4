"""`GET /download/{ticket}` (server/download.py): the files of the export panel served by the app server.

The route and the sign-in gate in front of it, as the app serves them, driven with Starlette's TestClient
(the client address is whatever the test says; 203.0.113.9 is a documentation address, nothing is
sent to it), and the whole app for real (`streamlit run app.py`) for the three formats. Each test runs
on a DuckDB file and on a PostgreSQL database holding the rows of tests/test_export_rows.py, but the
one with two app processes, which only PostgreSQL serves.
"""
import csv
import http.client
import io
import socket
import time
import warnings
from collections.abc import Iterator
from datetime import date
from urllib.parse import urlencode, urlsplit

import openpyxl
import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from starlette.applications import Starlette
from starlette.middleware import Middleware

from data_access import accounts
from data_access.accounts import SYSTEM_ACTOR, audit_entries
from data_access.i18n import t
from data_access.demo.loader import generate
from data_access.opt_out import OptOutFilters
from data_access.views import view
from server.download import (RETRY_AFTER_S, ROUTES, SLOTS, TICKET_TTL_S, download_path, download_time_limit_s,
                             downloads_at_once, export_engine, make_ticket, server_secret)
from server.sign_in import ROUTES as SIGN_IN_ROUTES
from server.sign_in import SESSION_COOKIE, SignInGate, auth_engine
from data_access.engine import open_database
from tests.app_server import serve_app, served_app
from tests.factories import insert
from tests.postgres import NO_SERVER, new_postgres_database
from tests.test_export_pdf import text_lines
from tests.test_export_rows import MO_NOV10_11, MOS, MTS, NEWEST_FIRST, NOV10_11, data  # noqa: F401 (fixture)
from tests.test_opt_out import B, opt_engine  # noqa: F401 (fixture)

with warnings.catch_warnings():  # Starlette asks for httpx2; httpx is what it supports today
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

OUTSIDE = ("203.0.113.9", 1234)
LOOPBACK = ("127.0.0.1", 1234)
PASSWORD = "correct horse battery"
PARAMS = {"from": ["2026-11-10"], "to": ["2026-11-11"], "tz": ["America/Sao_Paulo"]}
CSV_NAME = "relatorio-enviadas-2026-11-10_2026-11-11.csv"


@pytest.fixture
def client_from(data, db_url, monkeypatch) -> Iterator:
    """A TestClient factory for a client address: the sign-in routes and the download route behind
    the sign-in gate, on this test's database."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("REPORT_LANG", raising=False)
    app = Starlette(routes=[*SIGN_IN_ROUTES, *ROUTES], middleware=[Middleware(SignInGate)])

    def make(address: tuple[str, int] = LOOPBACK) -> TestClient:
        return TestClient(app, client=address, follow_redirects=False)

    yield make
    auth_engine().dispose()


def add(engine, email: str, role: str = "admin", subaccounts: tuple[str, ...] = ()) -> None:
    accounts.add_account(engine, email, role, email.split("@")[0], subaccounts, PASSWORD)


def signed_in(client: TestClient, email: str) -> str:
    """Signs `client` in as `email`; returns its session token."""
    answer = client.post("/signin", data={"email": email, "password": PASSWORD, "lang": "en", "next": "/sent"})
    assert answer.status_code == 303
    return client.cookies[SESSION_COOKIE]


def exports_audited(engine) -> list[tuple]:
    return [(e.actor, e.action, e.detail, e.address) for e in reversed(audit_entries(engine)) if e.action == "export"]


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


def audit_of(fmt: str, rows: int, view: str = "mt") -> dict:
    return {"view": view, "filters": PARAMS, "format": fmt, "rows": rows, "via": "page"}


# -- files --------------------------------------------------------------------------------------


def test_the_whole_search_as_csv_audited_before_it_goes_out(client_from, data):
    ticket = make_ticket(server_secret(), SYSTEM_ACTOR, NOV10_11, "csv", "pt-BR")
    answer = client_from().get(download_path(ticket, "pt-BR"))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == f"attachment; filename=\"{CSV_NAME}\"; filename*=UTF-8''{CSV_NAME}"
    assert answer.headers["cache-control"] == "no-store"
    header, *rows = csv_rows(answer.content)
    assert (header[0], header[-1]) == ("Enviado", "ID da mensagem")
    assert [row[-1] for row in rows] == NEWEST_FIRST
    assert exports_audited(data) == [(SYSTEM_ACTOR, "export", audit_of("csv", 4), "127.0.0.1")]


def test_a_received_xlsx_in_spanish_for_a_signed_in_admin(client_from, data):
    add(data, "root@example.com")
    client = client_from()
    token = signed_in(client, "root@example.com")
    answer = client.get(download_path(make_ticket(token, "root@example.com", MO_NOV10_11, "xlsx", "es"), "es"))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="informe-recibidos-2026-11-10_2026-11-11.xlsx"' in answer.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["Datos", "Filtros"]
    assert [row[-1] for row in book["Datos"].iter_rows(min_row=2, values_only=True)] == ["wamid.R2", "wamid.R1"]
    assert exports_audited(data) == [("root@example.com", "export", audit_of("xlsx", 2, "mo"), "127.0.0.1")]


def test_an_analyst_gets_only_the_rows_of_its_subaccounts(client_from, data):
    """The scope comes from the account signed in, whatever the ticket's search says."""
    add(data, "ana@example.com", "analyst", ("Varejo",))
    client = client_from()
    token = signed_in(client, "ana@example.com")
    everything = NOV10_11.replace(subaccount=("Varejo", "Atacado"))
    answer = client.get(download_path(make_ticket(token, "ana@example.com", everything, "csv", "en"), "en"))
    header, *rows = csv_rows(answer.content)
    assert [(row[-1], row[header.index("Subaccount")]) for row in rows] == [
        ("wamid.A3", "Varejo"), ("wamid.A4", "Varejo"), ("wamid.A1", "Varejo")]  # not A2, Atacado's
    answer = client.get(download_path(make_ticket(token, "ana@example.com", NOV10_11, "xlsx", "en"), "en"))
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert [row[-1] for row in book["Data"].iter_rows(min_row=2, values_only=True)] == ["wamid.A3", "wamid.A4", "wamid.A1"]
    scoped = PARAMS | {"subaccount": ["Varejo", "Atacado"]}
    assert exports_audited(data) == [
        ("ana@example.com", "export", audit_of("csv", 3) | {"filters": scoped}, "127.0.0.1"),
        ("ana@example.com", "export", audit_of("xlsx", 3), "127.0.0.1"),
    ]


def test_the_opt_out_files_hold_the_account_s_contacts_for_the_server_s_stop_words(opt_engine, db_url, monkeypatch):
    """An analyst of Atacado: of the period's opt-outs, only Atacado's; with the server's stop word
    "sair" only (whatever words the ticket's search carried), C's "PARAR" is none, which leaves B's
    blocked send (after Atacado's own last MT)."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("OPT_OUT_STOP_WORDS", "sair")
    add(opt_engine, "caio@example.com", "analyst", ("Atacado",))
    client = TestClient(Starlette(routes=[*SIGN_IN_ROUTES, *ROUTES], middleware=[Middleware(SignInGate)]),
                        client=LOOPBACK, follow_redirects=False)
    search = OptOutFilters(date(2026, 11, 10), date(2026, 11, 15), "America/Sao_Paulo", stop_words=("parar", "sair"))
    try:
        token = signed_in(client, "caio@example.com")
        answers = {fmt: client.get(download_path(make_ticket(token, "caio@example.com", search, fmt, "en"), "en"))
                   for fmt in ("csv", "xlsx")}
        refused = client.get(download_path(make_ticket(token, "caio@example.com", search, "pdf", "en"), "en"))
    finally:
        auth_engine().dispose()
        export_engine().dispose()
    assert (refused.status_code, refused.text) == (400, t("download.malformed", "en"))  # the report has no PDF
    assert answers["csv"].headers["content-type"] == "text/csv; charset=utf-8"
    assert answers["csv"].headers["content-disposition"] == (
        "attachment; filename=\"opt-out-report_2026-11-10_2026-11-15.csv\"; "
        "filename*=UTF-8''opt-out-report_2026-11-10_2026-11-15.csv")
    assert csv_rows(answers["csv"].content)[1:] == [
        [B, "2026-11-12T12:00:00-03:00", "Not delivered (opt-out)", "131050", "1", "2026-11-12T12:00:00-03:00",
         "Atacado", "Boas-vindas", "welcome", "2026-11-09T17:00:00-03:00", "wamid.B1"]]
    sheet = openpyxl.load_workbook(io.BytesIO(answers["xlsx"].content)).worksheets[0]
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == ["Phone", B]
    searched = {"view": "opt_out", "filters": {"from": ["2026-11-10"], "to": ["2026-11-15"], "tz": ["America/Sao_Paulo"]},
                "rows": 1, "via": "page"}
    assert exports_audited(opt_engine) == [("caio@example.com", "export", searched | {"format": fmt}, "127.0.0.1")
                                           for fmt in ("csv", "xlsx")]


# -- refusals -----------------------------------------------------------------------------------


def one_byte_changed(ticket: str, at: int) -> str:
    return ticket[:at] + ("A" if ticket[at] != "A" else "B") + ticket[at + 1:]


def test_a_changed_or_expired_ticket_is_refused_and_nothing_is_written(client_from, data):
    ticket = make_ticket(server_secret(), SYSTEM_ACTOR, NOV10_11, "csv", "en")
    client = client_from()
    for at in (1, len(ticket) // 2, len(ticket) - 3):  # the search, the middle, the signature (whose last
        # character carries 2 bits of padding that a change may leave alone)
        answer = client.get(download_path(one_byte_changed(ticket, at), "en"))
        assert (answer.status_code, answer.text) == (403, t("download.refused", "en")), at
    expired = make_ticket(server_secret(), SYSTEM_ACTOR, NOV10_11, "csv", "pt-BR", now=time.time() - TICKET_TTL_S)
    answer = client.get(download_path(expired, "pt-BR"))
    assert (answer.status_code, answer.text) == (
        410, "Este link de download expirou: recarregue a página e baixe o arquivo novamente.")
    assert exports_audited(data) == []


def test_a_ticket_is_worth_nothing_with_another_accounts_cookie_or_without_one(client_from, data):
    add(data, "ana@example.com", "analyst", ("Varejo",))
    add(data, "bia@example.com", "analyst", ("Atacado",))
    ana, bia = client_from(), client_from()
    token = signed_in(ana, "ana@example.com")
    signed_in(bia, "bia@example.com")
    path = download_path(make_ticket(token, "ana@example.com", NOV10_11, "csv", "en"), "en")
    assert (bia.get(path).status_code, bia.get(path).text) == (403, t("download.refused", "en"))
    # bia's own credential signing a ticket in ana's name: still ana's ticket, refused to bia
    forged = download_path(make_ticket(bia.cookies[SESSION_COOKIE], "ana@example.com", NOV10_11, "csv", "en"), "en")
    assert bia.get(forged).status_code == 403
    nobody = client_from()
    answer = nobody.get(path)  # the gate's refusal, in the route's words
    assert (answer.status_code, answer.text) == (401, "Sign in to download this file.")
    nobody.cookies.set(SESSION_COOKIE, "forged-token")
    assert nobody.get(path).status_code == 401
    ana.post("/signout")
    ana.cookies.set(SESSION_COOKIE, token)  # a session that ended
    assert ana.get(path).status_code == 401
    assert exports_audited(data) == []


def test_while_no_account_exists_only_loopback_is_served(client_from, data):
    path = download_path(make_ticket(server_secret(), SYSTEM_ACTOR, NOV10_11, "csv", "en"), "en")
    answer = client_from(OUTSIDE).get(path)
    assert answer.status_code == 403 and "<h1>No account yet</h1>" in answer.text
    answer = client_from(OUTSIDE).get("/download/not-a-ticket", headers={"Accept-Language": "es-MX, en;q=0.9"})
    assert answer.status_code == 403 and "<h1>Aún no hay cuentas</h1>" in answer.text  # the browser's language
    assert client_from(("::ffff:127.0.0.1", 1)).get(path).status_code == 200
    assert exports_audited(data) == [(SYSTEM_ACTOR, "export", audit_of("csv", 4), "::ffff:127.0.0.1")]


def test_the_route_checks_who_asks_without_the_gate_too(data, db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    alone = Starlette(routes=ROUTES)
    path = download_path(make_ticket(server_secret(), SYSTEM_ACTOR, NOV10_11, "csv", "en"), "en")
    try:
        answer = TestClient(alone, client=OUTSIDE).get(path)
        assert (answer.status_code, answer.text) == (
            403, "This report has no accounts yet, so it is served on this computer (localhost) only.")
        add(data, "ana@example.com")
        answer = TestClient(alone, client=LOOPBACK).get(path)
        assert (answer.status_code, answer.text) == (401, "Sign in to download this file.")
    finally:
        auth_engine().dispose()
    assert exports_audited(data) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_a_file_whose_audit_entry_cannot_be_written_is_not_handed_out(client_from, data, fmt):
    with data.begin() as conn:
        conn.execute(sa.text("DROP TABLE audit_log"))
    answer = client_from().get(download_path(make_ticket(server_secret(), SYSTEM_ACTOR, NOV10_11, fmt, "en"), "en"))
    assert answer.status_code == 503
    assert answer.text.startswith("The file could not be built: ") and "audit_log" in answer.text
    assert "content-disposition" not in answer.headers
    assert SLOTS.taken == 0  # the download that failed gave its place back


def test_refusals_speak_the_link_s_language_else_the_browser_s(client_from, data):
    """The link's `lang` (the ticket's language, written beside it: a ticket is never read before it is
    checked), else Accept-Language, else pt-BR."""
    client = client_from()
    expired = make_ticket(server_secret(), SYSTEM_ACTOR, NOV10_11, "csv", "es", now=time.time() - TICKET_TTL_S)
    answer = client.get(download_path(expired, "es"), headers={"Accept-Language": "en"})
    assert (answer.status_code, answer.text) == (
        410, "Este enlace de descarga ha caducado: recargue la página y descargue el archivo de nuevo.")
    unknown_format = make_ticket(server_secret(), SYSTEM_ACTOR, NOV10_11, "docx", "en")
    answer = client.get(download_path(unknown_format, "en"))
    assert (answer.status_code, answer.text) == (
        400, "This download link names no file of the report: download the file from the page.")
    assert client.get("/download/not-a-ticket?lang=en").text == t("download.refused", "en")
    for accepted, lang in (("fr-FR, es;q=0.9, en;q=0.8", "es"), ("de, en-GB;q=0.5", "en"), ("", "pt-BR"),
                           ("fr", "pt-BR")):
        answer = client.get("/download/not-a-ticket", headers={"Accept-Language": accepted})
        assert (answer.status_code, answer.text) == (403, t("download.refused", lang)), accepted
    add(data, "ana@example.com")
    alone = TestClient(Starlette(routes=ROUTES), client=LOOPBACK)
    for refuser in (client, alone):  # the gate refuses a download in the route's words
        answer = refuser.get("/download/not-a-ticket", headers={"Accept-Language": "es-AR"})
        assert (answer.status_code, answer.text) == (401, "Inicie sesión para descargar este archivo.")
        assert answer.headers["cache-control"] == "no-store"
        ticket = make_ticket("any", "ana@example.com", NOV10_11, "csv", "pt-BR")
        answer = refuser.get(download_path(ticket, "pt-BR"), headers={"Accept-Language": "en"})
        assert (answer.status_code, answer.text) == (401, "Entre para baixar este arquivo.")
    forged = client_from()
    forged.cookies.set(SESSION_COOKIE, "forged-token")
    answer = forged.get("/download/not-a-ticket", headers={"Accept-Language": "en;q=0.2, es;q=0.1"})
    assert (answer.status_code, answer.text) == (401, "Sign in to download this file.")
    answer = client_from(OUTSIDE).get("/download/not-a-ticket", headers={"Accept-Language": "es"})
    assert (answer.status_code, answer.text) == (401, "Inicie sesión para descargar este archivo.")
    assert exports_audited(data) == []


def test_a_download_nobody_can_check_is_refused_in_the_link_s_language(monkeypatch):
    """The database does not answer: the gate refuses a download from outside, the route one from
    loopback (which the gate lets through), both 503 in the link's language, else the browser's."""
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody:x@127.0.0.1:1/none")
    monkeypatch.delenv("REPORT_LANG", raising=False)
    app = Starlette(routes=[*SIGN_IN_ROUTES, *ROUTES], middleware=[Middleware(SignInGate)])
    path = download_path(make_ticket("any", "ana@example.com", NOV10_11, "csv", "es"), "es")
    for address in (OUTSIDE, LOOPBACK):  # no engine is kept: opening one fails
        client = TestClient(app, client=address)
        answer = client.get(path, headers={"Accept-Language": "en"})
        assert (answer.status_code, answer.text) == (
            503, "La base de datos no responde ahora: intente de nuevo en unos instantes."), address
        answer = client.get("/download/not-a-ticket", headers={"Accept-Language": "en-US"})
        assert (answer.status_code, answer.text) == (
            503, "The database does not answer right now: try again in a moment."), address


@pytest.mark.parametrize("name, value", [("DOWNLOADS_AT_ONCE", "0"), ("DOWNLOAD_TIME_LIMIT_S", "1h")])
def test_a_malformed_limit_is_named_in_the_answer(client_from, data, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    downloads_at_once.cache_clear(), download_time_limit_s.cache_clear()
    try:
        answer = client_from().get(download_path(make_ticket(server_secret(), SYSTEM_ACTOR, NOV10_11, "csv", "en"), "en"))
    finally:
        monkeypatch.delenv(name)
        downloads_at_once.cache_clear(), download_time_limit_s.cache_clear()
    default = {"DOWNLOADS_AT_ONCE": 4, "DOWNLOAD_TIME_LIMIT_S": 3600}[name]
    assert (answer.status_code, answer.text) == (
        503, f"{name}={value!r} is not a whole number of at least 1: use a number such as {default}")
    assert exports_audited(data) == []


# -- through the app server ---------------------------------------------------------------------


def get(base: str, path: str, cookie: str | None = None) -> tuple[int, dict[str, str], bytes]:
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
    try:
        connection.request("GET", path, headers={"Cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else {})
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


def sign_in_over_http(base: str, email: str) -> str:
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    try:
        body = urlencode({"email": email, "password": PASSWORD, "lang": "en", "next": "/"})
        connection.request("POST", "/signin", body, {"Content-Type": "application/x-www-form-urlencoded"})
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 303
        cookie = answer.getheader("Set-Cookie")
    finally:
        connection.close()
    return cookie.split(";", 1)[0].split("=", 1)[1]


def test_the_three_files_from_a_running_app_server(data, db_url, tmp_path):
    add(data, "root@example.com")
    data.dispose()  # the app server owns the embedded file while it runs
    with serve_app(db_url, tmp_path / "streamlit.log") as base:
        token = sign_in_over_http(base, "root@example.com")
        files = {}
        for fmt in ("csv", "xlsx", "pdf"):
            path = download_path(make_ticket(token, "root@example.com", NOV10_11, fmt, "pt-BR"), "pt-BR")
            status, headers, files[fmt] = get(base, path, token)
            assert status == 200, files[fmt][:300]
            assert headers["content-disposition"].startswith(f'attachment; filename="{CSV_NAME[:-3]}{fmt}"')
        assert get(base, path)[0] == 401  # no cookie
    assert [row[-1] for row in csv_rows(files["csv"])[1:]] == NEWEST_FIRST
    book = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))
    assert [row[-1] for row in book["Dados"].iter_rows(min_row=2, values_only=True)] == NEWEST_FIRST
    assert len(PdfReader(io.BytesIO(files["pdf"])).pages) >= 1
    lines = text_lines(files["pdf"])
    assert lines[:2] == ["Relatório Detalhado – Enviado (MT)", "4 resultados"]
    assert "4 1 2 1 1 1 50,0% 50,0% 25,0% 50,0% 4" in lines  # the figures of test_export_pdf's search
    assert exports_audited(data) == [("root@example.com", "export", audit_of(fmt, 4), "127.0.0.1")
                                     for fmt in ("csv", "xlsx", "pdf")]


def test_any_process_behind_a_balancer_serves_a_ticket_made_by_another(tmp_path):
    """Two app processes on one PostgreSQL database, as a team runs the report behind a balancer:
    the ticket made where the page runs is served by the other process, with the same session."""
    try:
        url, drop = new_postgres_database()
    except RuntimeError:
        pytest.fail(NO_SERVER)
    try:
        engine = open_database(url)
        insert(engine, MTS, MOS)
        add(engine, "ana@example.com", "analyst", ("Varejo",))
        engine.dispose()
        with serve_app(url, tmp_path / "one.log") as one, serve_app(url, tmp_path / "two.log") as two:
            token = sign_in_over_http(one, "ana@example.com")
            path = download_path(make_ticket(token, "ana@example.com", NOV10_11, "csv", "en"), "en")
            status, _, content = get(two, path, token)
            assert status == 200
            assert [row[-1] for row in csv_rows(content)[1:]] == ["wamid.A3", "wamid.A4", "wamid.A1"]
            assert get(two, download_path(one_byte_changed(path.split("?")[0][len("/download/"):], 5), "en"),
                       token)[0] == 403
        engine = open_database(url)
        assert exports_audited(engine) == [("ana@example.com", "export", audit_of("csv", 3), "127.0.0.1")]
        engine.dispose()
    finally:
        drop()


DAY = date(2026, 11, 16)
DAY_PARAMS = {"from": ["2026-11-16"], "to": ["2026-11-16"], "tz": ["America/Sao_Paulo"]}
DAY_MTS = 30_000  # a CSV of about 11 MB: more than the stream's channel and the sockets' buffers hold
TIME_LIMIT_S = 10  # the refused download must come within it, on a busy machine too
COOKIE_SECRET = "a secret of this test's app server only"


def test_a_process_serves_its_downloads_at_once_and_cuts_a_stream_at_its_time_limit(db_url, tmp_path):
    """One download at a time and 10 s a stream: a browser that stops reading holds the only place
    (another download is told to come back later, in the ticket's language) until its stream is cut
    without its last chunk; then the next one gets the whole file. Both are audited, the refusal not."""
    engine = open_database(db_url)
    generate(engine, DAY_MTS, 1, 7, DAY)
    engine.dispose()
    day = view("mt").filters.from_params(DAY_PARAMS)
    path = download_path(make_ticket(COOKIE_SECRET, SYSTEM_ACTOR, day, "csv", "es"), "es")
    env = {"DOWNLOADS_AT_ONCE": "1", "DOWNLOAD_TIME_LIMIT_S": str(TIME_LIMIT_S),
           "STREAMLIT_SERVER_COOKIE_SECRET": COOKIE_SECRET}
    with served_app(db_url, tmp_path / "streamlit.log", env=env) as base:
        address = urlsplit(base)
        reader = socket.socket()
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a browser that reads slowly
        reader.connect((address.hostname, address.port))
        slow = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        slow.sock = reader
        try:
            slow.request("GET", path)
            stalled = slow.getresponse()
            started = time.monotonic()
            assert stalled.status == 200
            status, headers, body = get(base, path)
            assert (status, headers["retry-after"], body.decode()) == (503, str(RETRY_AFTER_S), t("download.busy", "es"))
            time.sleep(max(0.0, started + TIME_LIMIT_S + 1 - time.monotonic()))
            with pytest.raises(http.client.IncompleteRead) as cut:
                stalled.read()
        finally:
            slow.close()
        status, _, whole = get(base, path)
    assert status == 200
    assert len(csv_rows(whole)) == DAY_MTS + 1  # the header and every MT of the day
    assert 0 < len(cut.value.partial) < len(whole)
    engine = open_database(db_url)
    try:
        audited = {"view": "mt", "filters": DAY_PARAMS, "format": "csv", "rows": DAY_MTS, "via": "page"}
        assert exports_audited(engine) == [(SYSTEM_ACTOR, "export", audited, "127.0.0.1")] * 2
    finally:
        engine.dispose()
