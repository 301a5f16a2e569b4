"""The export panel at the bottom of the Sent and Received pages: what each format will hold, then
CSV, XLSX and PDF download buttons that build their file only when clicked.

Streamlit runs a `download_button`'s callable `data` in a worker thread when the button is clicked,
where Streamlit commands are ignored; meanwhile the button shows a spinner. For large searches the
panel also shows a progress bar: the worker thread records its progress in a plain object kept in the
session, which a fragment re-reads every second while a file is being built, and only then. So a
large search's click also reruns the page (to start that polling); the fragment's last run, once the
file is done, reruns the page again to stop it. Small searches' clicks rerun nothing.

Every file built is audited (SPEC 9): who (the signed-in account, or the system actor while no
account exists), the view, its filters, the format, the rows written and the client's address. A
file whose audit entry cannot be written is not handed out.
"""
from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from data_access.accounts import SYSTEM_ACTOR, Account, audit_export
from data_access.engine import DatabaseError, first_line
from data_access.filters import Filters
from data_access.i18n import format_int, t
from data_access.report import count, with_connection
from exports.chart_images import ChartError
from exports.export import FORMATS, MIME_TYPES, export, file_name
from exports.pdf_export import PDF_ROWS
from exports.xlsx_export import SHEET_ROWS
from pages.notices import code_span

PROGRESS_MIN_ROWS = 50_000  # below this a file builds in about a second: the button's spinner is enough
PROGRESS_EVERY_S = 1.0
START_WAIT_S = 15.0  # after a click, how long the panel waits for the browser's file request to start the build


@dataclass
class ExportBuild:
    """The file this session last built for one view; written by the download worker thread."""

    fmt: str = ""
    done: int = 0
    total: int = 0
    running: bool = False
    error: str | None = None
    clicked_at: float = float("-inf")  # time.monotonic() of the last click on a large search's button

    def advance(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def click(self) -> None:
        """A large search's button was clicked: poll until its build starts (unless it already has)."""
        if not self.running:
            self.clicked_at = time.monotonic()

    def start(self, fmt: str) -> None:
        self.fmt, self.done, self.total, self.running, self.error = fmt, 0, 0, True, None
        self.clicked_at = float("-inf")

    def in_progress(self) -> bool:
        """A file is being built, or was just asked for and its build has not started yet."""
        return self.running or time.monotonic() - self.clicked_at < START_WAIT_S


def rows_caption(total: int, lang: str) -> str:
    """What each format will hold: every row in CSV and XLSX (in several sheets past Excel's limit),
    at most PDF_ROWS in the PDF."""
    if total <= PDF_ROWS:
        return t("export.rows", lang, n=format_int(total, lang))
    sheets = -(-total // (SHEET_ROWS - 1))  # each sheet keeps a row for its header
    values = {"n": format_int(total, lang), "shown": format_int(PDF_ROWS, lang), "sheets": format_int(sheets, lang)}
    return t("export.rows_each_sheets" if sheets > 1 else "export.rows_each", lang, **values)


def render_export_panel(
    engine: Engine, filters: Filters, lang: str, total: int | None = None, account: Account | None = None
) -> None:
    """The row counts and the three download buttons of the search; `total` saves a count query when
    the page already has it; `account` is who is signed in (None while no account exists)."""
    if total is None:
        total = with_connection(engine, count, filters)
    st.subheader(t("export.header", lang))
    st.caption(rows_caption(total, lang))
    build = st.session_state.setdefault(f"export_build_{filters.view}", ExportBuild())
    large = total >= PROGRESS_MIN_ROWS
    who = Downloader(account.email if account is not None else SYSTEM_ACTOR, client_address())
    for column, fmt in zip(st.columns(len(FORMATS)), FORMATS):
        with column:
            st.download_button(
                t(f"export.{fmt}", lang),
                data=_builder(engine, filters, fmt, lang, build, who),
                file_name=file_name(filters, fmt, lang),
                mime=MIME_TYPES[fmt],
                on_click=build.click if large else "ignore",
                key=f"export_{filters.view}_{fmt}",
                icon=":material/download:",
                width="stretch",
            )
    polling = large and build.in_progress()
    st.fragment(_build_state, run_every=PROGRESS_EVERY_S if polling else None)(build, lang, polling)


def client_address() -> str | None:
    """The browser's address as the server saw it, when known (a script run without a browser has none)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else None


@dataclass(frozen=True)
class Downloader:
    """Who asks for the files, read in the script run (the worker thread cannot read `st.context`)."""

    actor: str
    address: str | None


def _builder(
    engine: Engine, filters: Filters, fmt: str, lang: str, build: ExportBuild, who: Downloader
) -> Callable[[], io.BytesIO]:
    """The zero-argument callable the download button runs when clicked: builds the file, audits it."""

    def build_file() -> io.BytesIO:
        build.start(fmt)
        buffer = io.BytesIO()
        try:
            rows = export(engine, filters, fmt, lang, buffer, build.advance)
            audit_export(engine, who.actor, filters, fmt, rows, who.address, via="page")
        except (DatabaseError, SQLAlchemyError, ChartError) as exc:
            build.error = first_line(exc)
            raise
        finally:
            build.running = False
        return buffer

    return build_file


def _build_state(build: ExportBuild, lang: str, polling: bool) -> None:
    """The progress of a file being built, or why the last one failed (its text shown literally).
    When the build it polls for is over, the page reruns: that run draws this part without polling."""
    if polling and not build.in_progress():
        st.rerun()
    if build.running and not build.total:  # still reading the database
        st.progress(0.0, text=t("export.building", lang))
    elif build.running:
        text = t("export.progress", lang, fmt=build.fmt.upper(), done=format_int(build.done, lang),
                 total=format_int(build.total, lang))
        st.progress(min(build.done / build.total, 1.0), text=text)
    elif build.error:
        st.error(t("export.failed", lang, detail=code_span(build.error)))
