"""The Opt-out page's parts: the period in the sidebar (from the link, written back to it), the stop
words setting, the cached report calls, the contacts table (paged by the database) and the CSV / XLSX
links to the app server's download route (which writes, audits and streams the file: any number of
contacts, never held in the page's memory)."""
from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from data_access.filters import FIRST_DAY, LAST_DAY, FilterError, default_range
from data_access.i18n import date_format, format_int, results_text, t
from data_access.opt_out import OptOutContact, OptOutFilters, OptOutSummary, opt_out_page, opt_out_summary
from data_access.report import page_count, with_connection
from exports import opt_out_export
from pages import chat_view, widgets
from pages.data import CACHE_ENTRIES, CACHE_TTL_S, Db, guarded
from pages.notices import code_span
from pages.export_panel import render_download_links
from pages.run import Run
from server.settings import opt_out_stop_words

PAGE_SIZE = 50
_DATES = "opt_out.dates"


def sidebar(run: Run) -> OptOutFilters:
    """The period picker (seeded from the link when it changed); returns the search, written to the URL."""
    state = st.session_state
    words = opt_out_stop_words()
    if run.url_changed or _DATES not in state:
        try:
            search = OptOutFilters.from_params({**run.url, "tz": [run.tz]}, stop_words=words)
        except FilterError as exc:
            st.warning(t("notice.bad_link", run.lang, detail=code_span(str(exc))), icon=":material/link_off:")
            search = OptOutFilters.default(run.tz, stop_words=words)
        state[_DATES] = (search.date_from, search.date_to)
    picker_format = date_format(run.lang).replace("%d", "DD").replace("%m", "MM").replace("%Y", "YYYY")
    with st.sidebar:
        st.header(t("filter.header", run.lang), anchor=False)
        chosen = st.date_input(t("filter.date", run.lang), min_value=FIRST_DAY, max_value=LAST_DAY,
                               format=picker_format, key=_DATES)
    start, end = (chosen[0], chosen[-1]) if chosen else default_range(run.tz)
    search = OptOutFilters(date_from=start, date_to=end, tz=run.tz, stop_words=words, scope=run.scope)
    params = {**search.to_params(), "lang": [run.lang]}
    if params != run.url:
        st.query_params.from_dict(params)
    state["_url"] = params
    return search


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _summary(_engine: Engine, url: str, version: int, search: OptOutFilters) -> OptOutSummary:
    return with_connection(_engine, opt_out_summary, search)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _page(_engine: Engine, url: str, version: int, search: OptOutFilters, page: int) -> tuple[OptOutContact, ...]:
    return with_connection(_engine, opt_out_page, search, page, PAGE_SIZE)


def summary_of(db: Db, search: OptOutFilters, lang: str) -> OptOutSummary | None:
    return guarded(lang, _summary, db.engine, db.url, db.version, search)


def figures(summary: OptOutSummary, search: OptOutFilters, lang: str) -> None:
    """"4 resultados", the search, what counts as an opt-out, and the counts."""
    st.header(results_text(summary.contacts, lang), anchor=False)
    st.caption(" · ".join(f"{name}: {code_span(value)}" for name, value in search.describe(lang)))
    st.caption(t("opt_out.help", lang, words=", ".join(search.stop_words) or "–"))
    cards = (("opt_out.contacts", summary.contacts), ("opt_out.by_failure", summary.by_failure),
             ("opt_out.by_stop_word", summary.by_stop_word), ("opt_out.blocked_sends", summary.blocked_sends),
             ("opt_out.stop_messages", summary.stop_messages))
    for column, (key, n) in zip(st.columns(len(cards)), cards):
        with column:
            widgets.count_card(t(key, lang), n, lang)


def contacts_table(db: Db, search: OptOutFilters, total: int, lang: str) -> None:
    """One page of contacts, latest opt-out first; each phone links to its chat."""
    table_area = st.container()
    shown_col, pager_col = st.columns([3, 2], vertical_alignment="center")
    with pager_col.container(horizontal_alignment="right"):
        page = st.pagination(page_count(total, PAGE_SIZE), key=f"opt_out.page.{search.date_from}.{search.date_to}")
    rows = guarded(lang, _page, db.engine, db.url, db.version, search, page)
    if rows is None:
        return
    first = (page - 1) * PAGE_SIZE + 1
    shown_col.caption(t("table.rows_shown", lang, first=format_int(first, lang),
                        last=format_int(first + len(rows) - 1, lang), total=format_int(total, lang)))
    names = opt_out_export.headers(lang)
    chat = t("chat.open", lang)
    frame = pd.DataFrame(
        [{chat: chat_view.link(row.phone, lang, search.tz),
          **dict(zip(names, opt_out_export.display_row(row, lang, search.tz).values()))} for row in rows],
        columns=[chat, *names],
    )
    with table_area:
        st.dataframe(frame, hide_index=True, width="stretch", column_config={
            chat: st.column_config.LinkColumn(chat, display_text="💬", help=t("chat.open_help", lang), width="small"),
            t("column.opt_out.detail", lang): st.column_config.TextColumn(width="large"),
        })


def downloads(search: OptOutFilters, lang: str, run: Run) -> None:
    """CSV and XLSX links of every contact of the search (the route writes, audits and streams them)."""
    st.subheader(t("export.header", lang), anchor=False)
    render_download_links(search, lang, run.account, opt_out_export.FORMATS)
