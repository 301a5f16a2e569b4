"""The Consolidado page's own parts: the layout widgets (grouping, order, comparison), the cached
report call, the table with its totals row and definitions, and the three download buttons.

Shared parts (the run, the database, the sidebar built from the Sent search's fields, the results
header) are every view's, so the totals row equals the Sent page's figures for the same search.
"""
from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from data_access.accounts import SYSTEM_ACTOR, Account, audit
from data_access.consolidated import DIMENSIONS, Consolidated, consolidated
from data_access.filters import MtFilters
from data_access.i18n import date_format, format_int, t
from data_access.report import with_connection
from exports.consolidated_export import Layout, file_name, write
from exports.consolidated_table import METRIC_KEYS, SORT_KEYS, build_table, rate_definitions
from exports.export import FORMATS, MIME_TYPES
from pages.data import CACHE_ENTRIES, CACHE_TTL_S, Db, guarded
from pages.export_panel import client_address
from pages.run import Run

KEY = "consolidated"


def starting_layout(run: Run) -> Layout:
    """The layout the widgets hold; the link's when the URL changed outside them (a new link, the back
    button), its unknown values left at their defaults. Called before the widgets are drawn."""
    state = st.session_state
    if run.url_changed or f"{KEY}.group_by" not in state:
        chosen = Layout.from_params(run.url)
        state[f"{KEY}.group_by"], state[f"{KEY}.sort"] = chosen.dimension, chosen.sort
        state[f"{KEY}.descending"], state[f"{KEY}.compare"] = chosen.descending, chosen.compare
    return Layout(state[f"{KEY}.group_by"], state[f"{KEY}.sort"], state[f"{KEY}.descending"], state[f"{KEY}.compare"])


def layout_widgets(lang: str) -> Layout:
    """Group by, sort by, largest first, compare: a row of widgets above the table."""
    group_col, sort_col, order_col, compare_col = st.columns([2, 2, 1.3, 2], vertical_alignment="bottom")
    dimension = group_col.selectbox(t("consolidated.group_by", lang), DIMENSIONS, key=f"{KEY}.group_by",
                                    format_func=lambda code: t(f"dimension.{code}", lang))
    sort = sort_col.selectbox(
        t("consolidated.sort", lang), SORT_KEYS, key=f"{KEY}.sort",
        format_func=lambda code: t(f"dimension.{dimension}" if code == "group" else METRIC_KEYS[code], lang),
    )
    descending = order_col.toggle(t("consolidated.descending", lang), key=f"{KEY}.descending")
    compare = compare_col.toggle(t("consolidated.compare", lang), key=f"{KEY}.compare")
    return Layout(dimension, sort, descending, compare)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _consolidated(_engine: Engine, url: str, version: int, filters: MtFilters, dimension: str) -> Consolidated:
    return with_connection(_engine, consolidated, filters, dimension)


def report_of(db: Db | None, filters: MtFilters, dimension: str, lang: str) -> Consolidated | None:
    """The grouped figures, or None (with a message) when the database fails."""
    if db is None:
        return None
    return guarded(lang, _consolidated, db.engine, db.url, db.version, filters, dimension)


def render(report: Consolidated, layout: Layout, lang: str) -> None:
    """The groups and the previous period they are compared with, the table, then what each figure is."""
    fmt = date_format(lang)
    n = len(report.groups)
    groups = t("consolidated.groups_one", lang) if n == 1 else t("consolidated.groups_many", lang, n=format_int(n, lang))
    if report.previous_from is None:
        period = t("consolidated.no_previous", lang)
    else:
        period = t("consolidated.previous", lang, start=report.previous_from.strftime(fmt),
                   end=report.previous_to.strftime(fmt))
    st.caption(f"{groups} · {period}")
    table = build_table(report, lang, layout.sort, layout.descending, layout.compare)
    headers = table.headers(lang)
    texts = table.texts(lang)
    frame = pd.DataFrame([row[1:] for row in texts], columns=headers[1:],
                         index=pd.Index([row[0] for row in texts], name=headers[0]))
    st.table(frame)
    st.caption(t("consolidated.rates_help", lang) + "  \n"
               + "  \n".join(f"**{name}**: {text}" for name, text in rate_definitions(lang)))


def export_buttons(engine: Engine, report: Consolidated, filters: MtFilters, layout: Layout, lang: str,
                   account: Account | None) -> None:
    """CSV, XLSX and PDF of the table on screen (the same groups, order and columns), each audited."""
    st.subheader(t("export.header", lang))
    actor = account.email if account is not None else SYSTEM_ACTOR
    address = client_address()
    for column, fmt in zip(st.columns(len(FORMATS)), FORMATS):
        column.download_button(
            t(f"export.{fmt}", lang),
            data=_builder(engine, report, filters, layout, fmt, lang, actor, address),
            file_name=file_name(filters, layout, fmt, lang),
            mime=MIME_TYPES[fmt],
            on_click="ignore",
            key=f"{KEY}.export.{fmt}",
            icon=":material/download:",
            width="stretch",
        )


def _builder(engine: Engine, report: Consolidated, filters: MtFilters, layout: Layout, fmt: str, lang: str,
             actor: str, address: str | None) -> Callable[[], io.BytesIO]:
    """The zero-argument callable a download button runs when clicked: writes the file, audits it."""

    def build_file() -> io.BytesIO:
        buffer = io.BytesIO()
        groups = write(report, filters, layout, fmt, lang, buffer)
        detail = {"view": filters.view, "dimension": layout.dimension, "filters": filters.to_params(), "format": fmt,
                  "rows": groups, "via": "page"}
        audit(engine, actor, "export", detail, address)
        buffer.seek(0)
        return buffer

    return build_file
