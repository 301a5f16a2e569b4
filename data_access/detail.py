"""The detail table sorted by any column and narrowed to messages containing a text, in SQL over
the whole search (not the page on screen): a `TableOrder` goes with the filter value to `count_rows`
and `sorted_page`. The default order (newest first, no text) is `newest_page`: the page looked for
among the search's newest rows first, in a window of time sized by the search's total.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection

from data_access.columns import DetailColumn, detail_select
from data_access.filters import Filters
from data_access.i18n import labels
from data_access.report import count

LABELLED_KINDS = ("status", "content_type", "conversation_type")
MAX_SEARCH_CHARS = 200
# The newest page's first window: expected to hold this many times the rows needed, and at least
# MIN_WINDOW wide; each miss makes it WIDEN times wider, until it is the whole search.
EXPECTED_SHARE, MIN_WINDOW, WIDEN = 4, timedelta(hours=1), 8


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


def sortable(columns: Sequence[DetailColumn]) -> tuple[str, ...]:
    """The column keys the table may be sorted by: every detail column of the view."""
    return tuple(c.key for c in columns)


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


def _sort_key(filters: Filters, column: DetailColumn, query: sa.Select, lang: str) -> sa.ColumnElement:
    """What a column sorts by: codes by their words in the language (as the table shows them),
    everything else by its value (a computed column by its label in the query)."""
    if column.kind in LABELLED_KINDS and column.sql is None:
        stored = filters.table.c[column.key]
        words = labels(column.kind, lang)
        return case(words, value=stored, else_=stored) if words else stored
    return query.selected_columns[column.key]


def sorted_page(
    conn: Connection, filters: Filters, columns: Sequence[DetailColumn], order: TableOrder, page: int,
    page_size: int, lang: str, total: int | None = None,
) -> list[dict[str, Any]]:
    """Rows `page` (1-based) of the table (the view's `columns`) in `order`; empty values last either
    way, ties newest first."""
    if order.is_default:
        return newest_page(conn, filters, columns, page, page_size, total)
    by_key = {c.key: c for c in columns}
    if order.sort is not None and order.sort not in by_key:
        raise ValueError(f"unknown column {order.sort!r}: sortable are {', '.join(by_key)}")
    query = detail_select(filters, columns).where(*_narrowed(filters, order))
    if order.sort is not None:
        key = _sort_key(filters, by_key[order.sort], query, lang)
        when = filters.table.c[filters.time_column]
        first = key.desc() if order.descending else key.asc()
        query = query.order_by(None).order_by(first.nulls_last(), when.desc(), filters.table.c.message_id.desc())
    offset = max(page - 1, 0) * page_size
    return [dict(row) for row in conn.execute(query.limit(page_size).offset(offset)).mappings()]


def newest_page(
    conn: Connection, filters: Filters, columns: Sequence[DetailColumn], page: int, page_size: int,
    total: int | None = None,
) -> list[dict[str, Any]]:
    """Rows `page` (1-based) of the table (the view's `columns`), newest first: the same rows as one
    query over the whole search (`detail_select`'s order, LIMIT/OFFSET).

    Rows are stored in time order, so the newest rows of a search sit in its last row groups (its
    last partition on PostgreSQL). The page is looked for among the rows of a window of time ending
    where the search ends, as wide as the search's `total` (its count, when known) says holds
    `EXPECTED_SHARE` times the rows up to the page's end (at least `MIN_WINDOW`), widened `WIDEN`
    times while it holds fewer, then in the whole search. A full page from a window is the page: every
    row outside the window is older than every row in it.
    """
    offset = max(page - 1, 0) * page_size
    needed = offset + page_size
    start, end = filters.utc_bounds()
    span = end - start
    when = filters.table.c[filters.time_column]
    width = MIN_WINDOW if not total else max(MIN_WINDOW, span * min(1.0, EXPECTED_SHARE * needed / total))
    while width < span:
        rows = _page_rows(conn, detail_select(filters, columns).where(when >= end - width), offset, page_size)
        if len(rows) == page_size:
            return rows
        width *= WIDEN
    return _page_rows(conn, detail_select(filters, columns), offset, page_size)


def _page_rows(conn: Connection, query: sa.Select, offset: int, page_size: int) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(query.limit(page_size).offset(offset)).mappings()]
