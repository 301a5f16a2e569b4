"""The detail table sorted by any column and narrowed to messages containing a text, in SQL over
the whole search (not the page on screen): a `TableOrder` goes with the filter value to `count_rows`
and `sorted_page`. The default order (newest first, no text) is `report.detail_page`'s fast path.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection

from data_access.columns import COLUMNS_OF_VIEW, detail_select
from data_access.filters import Filters
from data_access.i18n import labels
from data_access.report import count, detail_page

LABELLED_KINDS = ("status", "content_type", "conversation_type")
MAX_SEARCH_CHARS = 200


@dataclass(frozen=True)
class TableOrder:
    """How the detail table is ordered and narrowed: `sort` is a column key of the view (None: newest
    first), `text` a case-insensitive piece of the message (wildcards are plain characters)."""

    sort: str | None = None
    descending: bool = True
    text: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", self.text.strip()[:MAX_SEARCH_CHARS])

    @property
    def is_default(self) -> bool:
        return self.sort is None and not self.text


def sortable(view: str) -> tuple[str, ...]:
    """The column keys the table may be sorted by: every detail column of the view."""
    return tuple(c.key for c in COLUMNS_OF_VIEW[view])


def message_contains(filters: Filters, text: str) -> sa.ColumnElement[bool]:
    """Rows whose message contains `text`, ignoring case; `%`, `_` and the escape character match
    themselves (bound parameter, escaped wildcards)."""
    return filters.table.c.message.icontains(text, autoescape=True)


def _narrowed(filters: Filters, order: TableOrder) -> tuple[sa.ColumnElement[bool], ...]:
    return (message_contains(filters, order.text),) if order.text else ()


def count_rows(conn: Connection, filters: Filters, order: TableOrder) -> int:
    """Rows of the search the table holds (the search's count when no text is given)."""
    if not order.text:
        return count(conn, filters)
    query = select(func.count()).select_from(filters.table).where(filters.where(), *_narrowed(filters, order))
    return int(conn.execute(query).scalar_one())


def _sort_key(filters: Filters, key: str, query: sa.Select, lang: str) -> sa.ColumnElement:
    """What a column sorts by: codes by their words in the language (as the table shows them),
    everything else by its value."""
    kind = next(c.kind for c in COLUMNS_OF_VIEW[filters.view] if c.key == key)
    if kind in LABELLED_KINDS:
        column = filters.table.c[key]
        words = labels(kind, lang)
        return case(words, value=column, else_=column) if words else column
    return query.selected_columns[key]


def sorted_page(
    conn: Connection, filters: Filters, order: TableOrder, page: int, page_size: int, lang: str,
    total: int | None = None,
) -> list[dict[str, Any]]:
    """Rows `page` (1-based) of the table in `order`; empty values last either way, ties newest first."""
    if order.is_default:
        return detail_page(conn, filters, page, page_size, total)
    if order.sort is not None and order.sort not in sortable(filters.view):
        raise ValueError(f"unknown column {order.sort!r}: sortable are {', '.join(sortable(filters.view))}")
    query = detail_select(filters).where(*_narrowed(filters, order))
    if order.sort is not None:
        key = _sort_key(filters, order.sort, query, lang)
        when = filters.table.c[filters.time_column]
        first = key.desc() if order.descending else key.asc()
        query = query.order_by(None).order_by(first.nulls_last(), when.desc(), filters.table.c.message_id.desc())
    offset = max(page - 1, 0) * page_size
    return [dict(row) for row in conn.execute(query.limit(page_size).offset(offset)).mappings()]
