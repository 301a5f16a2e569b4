"""The pages' export panel driven with AppTest: the row count and three links to the app server's
download route, each with a ticket for its file, served by the route (server/download.py)."""
import csv
import io
import warnings
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from streamlit.testing.v1 import AppTest

from data_access.accounts import SYSTEM_ACTOR, audit_entries
from pages.export_panel import LINKS_EVERY_S
from server.download import PATH, ROUTES, TICKET_TTL_S, Ticket, export_engine, read_ticket, server_secret
from server.sign_in import auth_engine
from tests.test_export_rows import data  # noqa: F401 (fixture)

with warnings.catch_warnings():  # Starlette asks for httpx2; httpx is what it supports today
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
PARAMS = {"from": ["2026-11-10"], "to": ["2026-11-11"], "tz": ["America/Sao_Paulo"]}

SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from data_access.engine import make_engine
from data_access.views import view
from pages.export_panel import render_export_panel

filters = view({view!r}).filters.from_params({{"from": "2026-11-10", "to": "2026-11-11"}})
render_export_panel(make_engine({url!r}), filters, {lang!r}, **{options!r})
"""


def panel(url: str, view: str = "mt", lang: str = "pt-BR", **options) -> AppTest:
    script = SCRIPT.format(root=str(ROOT), url=url, view=view, lang=lang, options=options)
    return AppTest.from_string(script, default_timeout=60).run()


def links(app: AppTest) -> list[tuple[str, str]]:
    """(label, URL) of the panel's link buttons."""
    return [(link.proto.label, link.proto.url) for link in app.get("link_button")]


def ticket_of(url: str) -> Ticket:
    parts = urlsplit(url)
    assert parts.path.startswith(PATH)
    return read_ticket(server_secret(), unquote(parts.path[len(PATH):]))


def test_row_count_and_three_links_with_a_ticket_each(data, db_url):
    app = panel(db_url)
    assert not app.exception
    assert [s.value for s in app.subheader] == ["Exportar"]
    assert [c.value for c in app.caption] == ["4 linhas serão exportadas"]
    assert [label for label, _ in links(app)] == ["CSV", "XLSX", "PDF"]
    assert [ticket_of(url) for _, url in links(app)] == [
        Ticket(SYSTEM_ACTOR, "mt", PARAMS, fmt, "pt-BR") for fmt in ("csv", "xlsx", "pdf")]
    assert [parse_qs(urlsplit(url).query) for _, url in links(app)] == [{"lang": ["pt-BR"]}] * 3
    assert [e for e in audit_entries(data) if e.action == "export"] == []  # drawing the links builds nothing
    assert LINKS_EVERY_S < TICKET_TTL_S  # a link on screen is redrawn before its ticket expires


def downloaded(app: AppTest, index: int, db_url: str, monkeypatch) -> httpx.Response:
    """The route's answer to the panel's link `index` (0 CSV, 1 XLSX, 2 PDF), asked from the loopback
    in this process (where Streamlit is loaded, as in the app server)."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    try:
        return TestClient(Starlette(routes=ROUTES), client=("127.0.0.1", 1)).get(links(app)[index][1])
    finally:
        auth_engine().dispose()
        export_engine().dispose()


def test_the_received_pages_links_in_spanish_are_served_by_the_route(data, db_url, monkeypatch):
    app = panel(db_url, view="mo", lang="es")
    assert [c.value for c in app.caption] == ["Se exportarán 2 filas"]
    assert [ticket_of(url).lang for _, url in links(app)] == ["es"] * 3
    answer = downloaded(app, 0, db_url, monkeypatch)
    assert 'filename="informe-recibidos-2026-11-10_2026-11-11.csv"' in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8"), newline="")))
    assert [row[-1] for row in rows[1:]] == ["wamid.R2", "wamid.R1"]


def test_a_total_given_by_the_page_is_shown_without_a_query(tmp_path):
    unmigrated = f"duckdb:///{tmp_path / 'empty.duckdb'}"  # no tables: a count query would fail
    app = panel(unmigrated, total=61_234)
    assert not app.exception
    assert [c.value for c in app.caption] == [
        "CSV: 61.234 linhas · XLSX: 61.234 linhas · PDF: as primeiras 10.000 linhas (o limite do PDF)"]
    assert len(links(app)) == 3


@pytest.mark.parametrize(
    "lang, total, caption",
    [
        ("pt-BR", 10_000, "10.000 linhas serão exportadas"),
        ("pt-BR", 10_001, "CSV: 10.001 linhas · XLSX: 10.001 linhas · PDF: as primeiras 10.000 linhas (o limite do PDF)"),
        ("en", 43_383, "CSV: 43,383 rows · XLSX: 43,383 rows · PDF: the first 10,000 rows (the PDF's limit)"),
        ("es", 2_500_000, "CSV: 2.500.000 filas · XLSX: 2.500.000 filas en 3 hojas · PDF: las primeras 10.000 filas "
                          "(el límite del PDF)"),
    ],
)
def test_the_caption_says_what_each_format_holds(tmp_path, lang, total, caption):
    assert -(-total // 1_048_575) == (3 if total == 2_500_000 else 1)  # Excel: 1,048,576 rows, one the header's
    app = panel(f"duckdb:///{tmp_path / 'r.duckdb'}", lang=lang, total=total)
    assert [c.value for c in app.caption] == [caption]
