"""What the report pages draw: the results line, KPI and count cards, charts in the language's
number and date formats, small tables and the paged detail table of any view."""
from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

from data_access.columns import DetailColumn
from data_access.detail import TableOrder
from data_access.filters import Filters
from data_access.i18n import format_datetime, format_int, format_pct, label, results_text, t
from data_access.report import PAGE_SIZES, page_count
from data_access.views import View, view, view_of
from pages.chat_view import link as chat_link
from pages.data import CACHE_ENTRIES, CACHE_TTL_S, Db, detail_rows, search_key
from pages.notices import code_span
from pages.search_state import widget_key
from pages.table_controls import order_widgets, rows_count, sorted_rows


# The numbers each run writes (the total, the cards, the table's counts), formatted once per value and
# language: babel takes about 80 us a number, and a run of a report page writes about fifteen.
_count_text = functools.lru_cache(maxsize=4096)(format_int)
_rate_text = functools.lru_cache(maxsize=4096)(format_pct)
_results_text = functools.lru_cache(maxsize=1024)(results_text)


def results_header(total: int, filters: Filters, lang: str) -> None:
    """"2.400 resultados" and the search it answers, each filter value shown literally."""
    st.header(_results_text(total, lang), anchor=False)
    st.caption(" · ".join(f"{name}: {code_span(value)}" for name, value in filters.describe(lang)))


def sidebar_title(text: str) -> None:
    """A section title in the sidebar, in bold but not a heading: the sidebar comes before the page in
    the document, and its titles would otherwise be headings read before the page's H1."""
    st.markdown(f"**{text}**")


def empty_state(lang: str) -> None:
    st.info(f"**{t('empty.title', lang)}**  \n{t('empty.hint', lang)}", icon=":material/search_off:")


# A metric's height (its label on one line, cut with an ellipsis, over its value), given to Streamlit so
# that the card keeps it from the first frame: a metric is drawn once Streamlit's code for it has
# arrived, in the meantime as a 40 px skeleton, and the card grew under the page's eyes.
METRIC_HEIGHT_PX = 76


def kpi(label_text: str, ratio: float | None, part: int, whole: int, help_text: str, lang: str,
        of_key: str = "kpi.of") -> None:
    """A rate card: the percentage, its fraction underneath naming what the whole counts (`of_key`:
    "52 de 99 entregues"), the definition as help."""
    with st.container(border=True, height="stretch"):
        st.metric(label_text, _rate_text(ratio, lang), help=help_text, height=METRIC_HEIGHT_PX)
        st.caption(t(of_key, lang, part=_count_text(part, lang), whole=_count_text(whole, lang)))


def count_card(label_text: str, n: int, lang: str, help_text: str | None = None) -> None:
    """A count card, the same height as the rate cards beside it."""
    with st.container(border=True, height="stretch"):
        st.metric(label_text, _count_text(n, lang), help=help_text, height=METRIC_HEIGHT_PX)


def section_title(text: str) -> None:
    """A plain title, like the charts' own, above a table."""
    st.markdown(text)


def chart(figure: go.Figure, key: str) -> None:
    """Draws a Plotly figure as it is (the page's styling is applied once, in `pages.shared_charts`)."""
    st.plotly_chart(figure, theme=None, config={"displayModeBar": False}, key=key)


def small_frame(rows: list[dict[str, Any]], lang: str) -> pa.Table:
    """A short table of already-labelled rows (at least one), read as "what, how many, details": the
    first column, then the counts (in the language's format), then the rest; as the Arrow table
    Streamlit sends (built once per search and language: `pages.shared_charts`)."""
    names = list(rows[0])
    counts = [name for name in names[1:] if isinstance(rows[0][name], int)]
    order = [names[0], *counts, *(name for name in names[1:] if name not in counts)]
    frame = pd.DataFrame(
        [{k: format_int(row[k], lang) if k in counts else row[k] for k in order} for row in rows], columns=order
    )
    return pa.Table.from_pandas(frame)


def small_table(table: pa.Table, wrap_last: bool = False) -> None:
    """A `small_frame`. `wrap_last` makes rows tall enough for long text in the last column to wrap
    (Streamlit wraps text in rows taller than 4rem)."""
    st.dataframe(table, hide_index=True, width="stretch", row_height=72 if wrap_last else None)


@st.fragment
def detail_table(db: Db, filters: Filters, total: int, lang: str) -> None:
    """One page of the detail table, paged by the database: newest first, or sorted by any column and
    narrowed to messages holding a text, over every row of the search (`pages.table_controls`). A
    fragment: turning a page, sorting or searching reruns the table alone, not the page's figures."""
    shown = view_of(filters)
    code = shown.code
    st.subheader(t("table.details", lang), anchor=False)
    order = order_widgets(shown, lang)
    total = rows_count(db, filters, order, total, lang)
    if total is None:
        return
    extra_col, size_col = st.columns([4, 1], vertical_alignment="bottom")
    show_extra = extra_col.toggle(t("table.show_extra", lang), key=widget_key(code, "extra"))
    size = size_col.selectbox(t("table.page_size", lang), PAGE_SIZES, key=widget_key(code, "page_size"))
    table_area = st.container()
    shown_col, pager_col = st.columns([3, 2], vertical_alignment="center")
    with pager_col.container(horizontal_alignment="right"):
        page = st.pagination(page_count(total, size), key=_page_key(filters, size, order))
    if order.is_default:
        rows = detail_rows(db, shown, filters, page, size, total, lang)
    else:
        rows = sorted_rows(db, filters, order, page, size, lang, total)
    if rows is None:
        return
    first = (page - 1) * size + 1
    if order.text:
        shown_col.caption(t("table.search_matches", lang, n=_count_text(total, lang), text=code_span(order.text)))
    if rows:
        shown_col.caption(
            t("table.rows_shown", lang, first=_count_text(first, lang),
              last=_count_text(first + len(rows) - 1, lang), total=_count_text(total, lang))
        )
    with table_area:
        drawn = _drawn_page(url=db.url, version=db.version, code=code, search=search_key(filters),
                            ordered=search_key(order), page=page, size=size, show_extra=show_extra, lang=lang,
                            tz=filters.tz, _rows=rows)
        st.dataframe(
            drawn.table,
            hide_index=True,
            width="stretch",
            height=35 * (min(len(rows), 25) + 1) + 3,
            column_config=drawn.config,  # Streamlit copies it
            column_order=drawn.order,
        )


@dataclass(frozen=True)
class DrawnPage:
    """One page of the detail table as drawn, shared by every session showing it: read it, never change it."""

    table: pa.Table  # display text, the chat links first when the view has a phone
    order: list[str]  # the message (the longest text) last
    config: dict[str, Any]  # each column's `st.column_config`: widths, the time and status pinned, the chat links


# `url`, `version`, `code`, `search` and `ordered` (the filter value's and the order's `search_key`),
# `page`, `size` name the rows (not hashed), with what is shown.
@st.cache_resource(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _drawn_page(url: str, version: int, code: str, search: str, ordered: str, page: int, size: int,
                show_extra: bool, lang: str, tz: str, _rows: list[dict[str, Any]]) -> DrawnPage:
    return drawn_page(_rows, view(code), lang, tz, show_extra)


def drawn_page(rows: list[dict[str, Any]], shown: View, lang: str, tz: str, include_extra: bool) -> DrawnPage:
    """The table of one page of rows: display text (`display_value`), column widths from it, the pinned
    columns and, for a view with a phone, each row's chat link."""
    columns = shown.shown_columns(include_extra)
    names = shown.headers(lang, include_extra)
    cells = {name: [display_value(c, row[c.key], lang, tz) for row in rows] for name, c in zip(names, columns)}
    message = t(f"column.{shown.code}.message", lang)
    widths = {name: column_width(name, values, MESSAGE_WIDTH_PX if name == message else CELL_WIDTH_PX)
              for name, values in cells.items()}
    pinned = frozenset({names[0], *(name for name, c in zip(names, columns) if c.kind == "status")})  # time, status
    config: dict[str, Any] = {name: st.column_config.TextColumn(width=width, pinned=name in pinned)
                              for name, width in widths.items()}
    phone = next((c for c in columns if c.kind == "phone"), None)
    if phone is not None:  # each phone's conversation (Chat MT + MO), the first column, pinned
        chat = t("chat.open", lang)
        cells = {chat: [chat_link(row[phone.key], lang, tz) for row in rows], **cells}
        config[chat] = st.column_config.LinkColumn(chat, display_text="💬", width="small", pinned=True,
                                                   help=t("chat.open_help", lang))
    table = pa.table({name: pa.array(values, pa.string()) for name, values in cells.items()})
    # the message (the longest text) last: the seed's session and conversation columns before it
    return DrawnPage(table, [*(name for name in cells if name != message), message], config)


# Column widths from the page's own text (Streamlit's automatic width reads only the first rows and cut
# "Erro interno do provedor" to "Erro interr"): about 6.8 px a character of the table's font, room
# for the cell's padding and the header's menu, at most the given width (longer text wraps or scrolls).
CHAR_PX, CELL_PADDING_PX, HEADER_PADDING_PX = 6.8, 24, 44
CELL_WIDTH_PX, MESSAGE_WIDTH_PX = 320, 360


def column_width(header: str, cells: Any, widest: int) -> int:
    """Pixels for a column showing `header` over `cells` (display strings)."""
    longest_cell = max((len(str(cell)) for cell in cells), default=0)
    needed = max(len(header) * CHAR_PX + HEADER_PADDING_PX, longest_cell * CHAR_PX + CELL_PADDING_PX)
    return min(widest, math.ceil(needed))


def _page_key(filters: Filters, size: int, order: TableOrder) -> str:
    """A new key (so page 1) whenever the search, the page size or the table's order changes."""
    digest = hashlib.sha1(
        json.dumps([filters.to_params(), size, order.sort, order.descending, order.text], sort_keys=True).encode()
    ).hexdigest()[:12]
    return f"{filters.view}.page.{digest}"


def display_value(column: DetailColumn, value: Any, lang: str, tz: str) -> str:
    """A detail cell as people read it in `lang`."""
    if value is None:
        return ""
    if column.kind == "datetime":
        return format_datetime(value, lang, tz)
    if column.kind in ("status", "content_type", "conversation_type"):
        return label(column.kind, value, lang)
    if column.kind == "bool":
        return t("bool.true" if value else "bool.false", lang)
    return str(value)
