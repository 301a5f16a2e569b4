"""The detail table's order and text search: the widgets above the table (sort column, direction, a
search box over the message text) make a `TableOrder`; the rows and their count come from
`data_access.detail`, sorted and searched in SQL over the whole search, cached like the report."""
from __future__ import annotations

from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine

from data_access.detail import MAX_SEARCH_CHARS, TableOrder, count_rows, sortable, sorted_page
from data_access.filters import Filters
from data_access.i18n import t
from data_access.report import with_connection
from data_access.views import View, view
from pages.data import CACHE_ENTRIES, CACHE_TTL_S, Db, caught, search_key
from pages.search_state import widget_key


# `search` and `ordered` (the `search_key`s of the filter value and the order) are the key; `_filters`
# and `_order` (not hashed) are the values they name.
@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _count(_engine: Engine, url: str, version: int, code: str, search: str, ordered: str, _filters: Filters,
           _order: TableOrder) -> int:
    return with_connection(_engine, count_rows, _filters, _order)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _page(
    _engine: Engine, url: str, version: int, code: str, search: str, ordered: str, _filters: Filters,
    _order: TableOrder, page: int, size: int, lang: str, total: int,
) -> list[dict[str, Any]]:
    return with_connection(_engine, sorted_page, _filters, view(code).columns, _order, page, size, lang, total)


def order_widgets(shown: View, lang: str) -> TableOrder:
    """Sort column and direction, and the message search box, in one row; their `TableOrder`."""
    code = shown.code
    sort_col, direction_col, search_col = st.columns([2, 1, 3], vertical_alignment="bottom")
    sort = sort_col.selectbox(
        t("table.sort_by", lang),
        [None, *sortable(shown.columns)],
        key=widget_key(code, "sort"),
        format_func=lambda key: t("table.newest_first", lang) if key is None else t(f"column.{code}.{key}", lang),
    )
    descending = direction_col.toggle(t("table.descending", lang), key=widget_key(code, "sort_desc"),
                                      disabled=sort is None)
    text = search_col.text_input(t("table.search", lang), key=widget_key(code, "search"),
                                 max_chars=MAX_SEARCH_CHARS, help=t("table.search_help", lang))
    return TableOrder(sort=sort, descending=descending or sort is None, text=text)


def rows_count(db: Db, filters: Filters, order: TableOrder, total: int, lang: str) -> int | None:
    """Rows the table holds: the search's total, or those whose message holds the text (None with a
    message when the database fails)."""
    if not order.text:
        return total
    return caught(lang, _count, _engine=db.engine, url=db.url, version=db.version, code=filters.view,
                  search=search_key(filters), ordered=search_key(order), _filters=filters, _order=order)


def sorted_rows(
    db: Db, filters: Filters, order: TableOrder, page: int, size: int, lang: str, total: int
) -> list[dict[str, Any]] | None:
    """One page of the table in `order`, or None (with a message) when the database fails."""
    return caught(lang, _page, _engine=db.engine, url=db.url, version=db.version, code=filters.view,
                  search=search_key(filters), ordered=search_key(order), _filters=filters, _order=order, page=page,
                  size=size, lang=lang, total=total)
