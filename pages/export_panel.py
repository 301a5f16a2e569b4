"""The export panel at the bottom of the Sent and Received pages: how many rows the search exports,
then CSV, XLSX and PDF download buttons that build their file only when clicked.

Streamlit runs a `download_button`'s callable `data` in a worker thread when the button is clicked
(`on_click="ignore"`: no rerun), where Streamlit commands are ignored; meanwhile the button shows a
spinner. For large searches the panel also shows a progress bar: the worker thread records its
progress in a plain object kept in the session, which a fragment re-reads every second.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
from sqlalchemy.engine import Engine

from data_access.engine import DatabaseError
from data_access.filters import Filters
from data_access.i18n import format_int, t
from data_access.report import count, with_connection
from exports.chart_images import ChartError
from exports.export import FORMATS, MIME_TYPES, export, file_name

PROGRESS_MIN_ROWS = 50_000  # below this a file builds in about a second: the button's spinner is enough
PROGRESS_EVERY_S = 1.0


@dataclass
class ExportBuild:
    """The file this session last built for one view; written by the download worker thread."""

    fmt: str = ""
    done: int = 0
    total: int = 0
    running: bool = False
    error: str | None = None

    def advance(self, done: int, total: int) -> None:
        self.done, self.total = done, total


def render_export_panel(engine: Engine, filters: Filters, lang: str, total: int | None = None) -> None:
    """The row count and the three download buttons of the search; `total` saves a count query when
    the page already has it."""
    if total is None:
        total = with_connection(engine, count, filters)
    st.subheader(t("export.header", lang))
    st.caption(t("export.rows", lang, n=format_int(total, lang)))
    build = st.session_state.setdefault(f"export_build_{filters.view}", ExportBuild())
    for column, fmt in zip(st.columns(len(FORMATS)), FORMATS):
        with column:
            st.download_button(
                t(f"export.{fmt}", lang),
                data=_builder(engine, filters, fmt, lang, build),
                file_name=file_name(filters, fmt, lang),
                mime=MIME_TYPES[fmt],
                on_click="ignore",
                key=f"export_{filters.view}_{fmt}",
                icon=":material/download:",
                width="stretch",
            )
    every = PROGRESS_EVERY_S if total >= PROGRESS_MIN_ROWS else None
    st.fragment(_build_state, run_every=every)(build, lang)


def _builder(engine: Engine, filters: Filters, fmt: str, lang: str, build: ExportBuild) -> Callable[[], io.BytesIO]:
    """The zero-argument callable the download button runs when clicked."""

    def build_file() -> io.BytesIO:
        build.fmt, build.done, build.total, build.running, build.error = fmt, 0, 0, True, None
        buffer = io.BytesIO()
        try:
            export(engine, filters, fmt, lang, buffer, build.advance)
        except (DatabaseError, ChartError) as exc:
            build.error = str(exc)
            raise
        finally:
            build.running = False
        return buffer

    return build_file


def _build_state(build: ExportBuild, lang: str) -> None:
    """The progress of a file being built, or why the last one failed."""
    if build.running and not build.total:  # still reading the database
        st.progress(0.0, text=t("export.building", lang))
    elif build.running:
        text = t("export.progress", lang, fmt=build.fmt.upper(), done=format_int(build.done, lang),
                 total=format_int(build.total, lang))
        st.progress(min(build.done / build.total, 1.0), text=text)
    elif build.error:
        st.error(t("export.failed", lang, detail=build.error))
