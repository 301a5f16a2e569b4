"""The pages' export panel driven with AppTest: the row count, three deferred download buttons, and
the file a click builds (executed the way the Streamlit server does on a click)."""
import csv
import io
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from streamlit.runtime.media_file_storage import MediaFileStorageError
from streamlit.testing.v1 import AppTest

from data_access.accounts import SYSTEM_ACTOR, add_account, audit_entries
from pages.export_panel import ExportBuild
from tests.test_export_rows import data  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import sys
sys.path.insert(0, {root!r})
import streamlit as st
from streamlit.runtime import Runtime
from data_access.engine import make_engine
from data_access.views import view
from pages.export_panel import render_export_panel

st.session_state["media"] = Runtime.instance().media_file_mgr  # lets the test play the server's part
filters = view({view!r}).filters.from_params({{"from": "2026-11-10", "to": "2026-11-11"}})
render_export_panel(make_engine({url!r}), filters, {lang!r}, **{options!r})
"""


def panel(url: str, view: str = "mt", lang: str = "pt-BR", **options) -> AppTest:
    script = SCRIPT.format(root=str(ROOT), url=url, view=view, lang=lang, options=options)
    return AppTest.from_string(script, default_timeout=60).run()


def click(app: AppTest, index: int):
    """What the server does when the browser asks for a deferred download: run the callable, store
    the file; returns the stored file."""
    media = app.session_state["media"]
    url = media.execute_deferred(app.get("download_button")[index].proto.deferred_file_id)
    return media.read_file(url.rsplit("/", 1)[-1].split(".")[0])


def test_row_count_and_three_buttons_that_build_on_click(data, db_url):
    app = panel(db_url)
    assert not app.exception
    assert [s.value for s in app.subheader] == ["Exportar"]
    assert [c.value for c in app.caption] == ["4 linhas serão exportadas"]
    buttons = app.get("download_button")
    assert [b.proto.label for b in buttons] == ["CSV", "XLSX", "PDF"]
    assert all(b.proto.ignore_rerun and b.proto.deferred_file_id and not b.proto.url for b in buttons)


def test_clicking_csv_builds_the_whole_search(data, db_url):
    app = panel(db_url)
    stored = click(app, 0)
    assert (stored.filename, stored.mimetype) == ("relatorio-enviadas-2026-11-10_2026-11-11.csv", "text/csv")
    header, *rows = list(csv.reader(io.StringIO(stored.content.decode("utf-8"), newline="")))
    assert header[0] == "Enviado"
    assert [row[-1] for row in rows] == ["wamid.A3", "wamid.A4", "wamid.A2", "wamid.A1"]
    build = app.session_state["export_build_mt"]
    assert (build.fmt, build.done, build.total, build.running, build.error) == ("csv", 4, 4, False, None)


def test_clicking_xlsx_on_the_received_page_in_spanish(data, db_url):
    app = panel(db_url, view="mo", lang="es")
    assert [c.value for c in app.caption] == ["Se exportarán 2 filas"]
    stored = click(app, 1)
    assert stored.filename == "informe-recibidos-2026-11-10_2026-11-11.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(stored.content))
    assert book.sheetnames == ["Datos", "Filtros"]
    assert [row[-1] for row in book["Datos"].iter_rows(min_row=2, values_only=True)] == ["wamid.R2", "wamid.R1"]


def test_a_total_given_by_the_page_is_shown_and_a_failed_build_says_why(tmp_path):
    unmigrated = f"duckdb:///{tmp_path / 'empty.duckdb'}"  # no tables: the build fails
    app = panel(unmigrated, total=61_234)  # large enough for the progress bar that polls every second
    assert [c.value for c in app.caption] == [
        "CSV: 61.234 linhas · XLSX: 61.234 linhas · PDF: as primeiras 10.000 linhas (o limite do PDF)"]
    # a large search's click reruns the page, which polls for the file's progress until it is built
    assert not any(b.proto.ignore_rerun for b in app.get("download_button"))
    with pytest.raises(MediaFileStorageError, match="^Callable execution failed: the database could not be read"):
        click(app, 0)  # the browser shows a failed download
    app.run()
    [error] = app.error
    assert error.value.startswith("Não foi possível gerar o arquivo: `the database could not be read: ")


def test_a_large_build_in_progress_shows_its_rows(data, db_url):
    script = SCRIPT.format(root=str(ROOT), url=db_url, view="mt", lang="pt-BR", options={"total": 200_000})
    app = AppTest.from_string(script, default_timeout=60)
    app.session_state["export_build_mt"] = ExportBuild(fmt="xlsx", done=50_000, total=200_000, running=True)
    app.run()
    [bar] = app.get("progress")
    assert (bar.proto.value, bar.proto.text) == (25, "Gerando XLSX: 50.000 de 200.000 linhas")
    app.session_state["export_build_mt"] = ExportBuild(fmt="xlsx", running=True)  # still reading the database
    app.run()
    [bar] = app.get("progress")
    assert (bar.proto.value, bar.proto.text) == (0, "Gerando arquivo...")


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


def test_a_failed_build_shows_its_reason_literally(tmp_path):
    script = SCRIPT.format(root=str(ROOT), url=f"duckdb:///{tmp_path / 'r.duckdb'}", view="mo", lang="en",
                           options={"total": 3})
    app = AppTest.from_string(script, default_timeout=60)
    reason = "the database could not be read: <a href=https://evil.example>clique</a> **now** :red[x]"
    app.session_state["export_build_mo"] = ExportBuild(fmt="csv", error=reason)
    app.run()
    assert [e.value for e in app.error] == [f"The file could not be built: `{reason}`"]


ACCOUNT_SCRIPT = SCRIPT.replace(
    "render_export_panel(make_engine({url!r}), filters, {lang!r}, **{options!r})",
    "from data_access.accounts import get_account\n"
    "engine = make_engine({url!r})\n"
    "render_export_panel(engine, filters, {lang!r}, account=get_account(engine, {email!r}) if {email!r} else None)",
)


def exports_audited(engine) -> list[tuple]:
    return [(e.actor, e.action, e.detail, e.address) for e in reversed(audit_entries(engine)) if e.action == "export"]


@pytest.mark.parametrize("email, actor", [("ana@example.com", "ana@example.com"), ("", SYSTEM_ACTOR)])
def test_every_file_built_is_audited_with_who_view_format_and_rows(data, db_url, email, actor):
    add_account(data, "ana@example.com", "analyst", "Ana", ("Varejo",), "a long password")
    app = AppTest.from_string(ACCOUNT_SCRIPT.format(root=str(ROOT), url=db_url, view="mt", lang="pt-BR", email=email),
                              default_timeout=60).run()
    assert not app.exception
    assert exports_audited(data) == []  # drawing the buttons builds nothing
    click(app, 0)
    click(app, 2)
    params = {"from": ["2026-11-10"], "to": ["2026-11-11"], "tz": ["America/Sao_Paulo"]}
    assert exports_audited(data) == [
        (actor, "export", {"view": "mt", "filters": params, "format": "csv", "rows": 4, "via": "page"}, None),
        (actor, "export", {"view": "mt", "filters": params, "format": "pdf", "rows": 4, "via": "page"}, None),
    ]


def test_a_file_whose_audit_entry_cannot_be_written_is_not_handed_out(data, db_url):
    app = AppTest.from_string(ACCOUNT_SCRIPT.format(root=str(ROOT), url=db_url, view="mt", lang="pt-BR", email=""),
                              default_timeout=60).run()
    with data.begin() as conn:
        conn.execute(sa.text("DROP TABLE audit_log"))
    with pytest.raises(MediaFileStorageError, match="^Callable execution failed: .*audit_log"):
        click(app, 0)
    build = app.session_state["export_build_mt"]
    assert (build.fmt, build.done, build.total, build.running) == ("csv", 4, 4, False)
    app.run()
    [error] = app.error
    assert error.value.startswith("Não foi possível gerar o arquivo: `") and "audit_log" in error.value
