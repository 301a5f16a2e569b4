"""The detail columns of the Sent and Received views, in the order of SPEC section 4 (main columns,
then the extra ones), and the query that selects a view's columns for a search.

Each view's declaration (`data_access.views`) names its columns; pages (the paged table) and exports
(CSV, XLSX, PDF) read them there, so a column is named, ordered and typed in exactly one place.
"""
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import ColumnElement, Select, Table, case, literal, select

from data_access.filters import Filters

Kind = Literal["datetime", "status", "content_type", "conversation_type", "bool", "text", "id", "phone"]


@dataclass(frozen=True)
class DetailColumn:
    key: str  # result column name; header key is f"column.{view}.{key}"
    kind: Kind  # how it is shown: datetime in the report's zone, codes as labels, bool as Yes/No
    extra: bool = False  # may be hidden on screen; always exported
    free_text: bool = False  # typed by people: subject to the CSV formula-injection rule
    # Computed from other columns of the table (None: the table's column `key`).
    sql: Callable[[Table], ColumnElement] | None = field(default=None, compare=False)


def _error_text(table: Table) -> ColumnElement[str]:
    """"131049: This message was not delivered..." from the provider's code and title."""
    code, title = table.c.error_code, table.c.error_title
    return case(
        (code.is_(None), title),
        (title.is_(None), code),
        else_=code + literal(": ") + title,
    )


MT_COLUMNS: tuple[DetailColumn, ...] = (
    DetailColumn("sent_at", "datetime"),
    DetailColumn("status", "status"),
    DetailColumn("phone", "phone"),
    DetailColumn("wa_user_id", "id"),
    DetailColumn("campaign", "text", free_text=True),
    DetailColumn("user_name", "text", free_text=True),
    DetailColumn("content_type", "content_type"),
    DetailColumn("message", "text", free_text=True),
    DetailColumn("sent_with_session", "bool"),
    DetailColumn("conversation_id", "id"),
    DetailColumn("conversation_type", "conversation_type"),
    DetailColumn("conversation_expires_at", "datetime"),
    DetailColumn("subaccount", "text", extra=True, free_text=True),
    DetailColumn("correlation_id", "text", extra=True, free_text=True),
    DetailColumn("error", "text", extra=True, free_text=True, sql=_error_text),
    DetailColumn("message_id", "id", extra=True),
)

MO_COLUMNS: tuple[DetailColumn, ...] = (
    DetailColumn("received_at", "datetime"),
    DetailColumn("phone", "phone"),
    DetailColumn("wa_user_id", "id"),
    DetailColumn("campaign", "text", free_text=True),
    DetailColumn("user_name", "text", free_text=True),
    DetailColumn("content_type", "content_type"),
    DetailColumn("message", "text", free_text=True),
    DetailColumn("button_payload", "text", extra=True, free_text=True),
    DetailColumn("profile_name", "text", extra=True, free_text=True),
    DetailColumn("in_reply_to", "id", extra=True),
    DetailColumn("subaccount", "text", extra=True, free_text=True),
    DetailColumn("message_id", "id", extra=True),
)


def detail_select(filters: Filters, columns: Sequence[DetailColumn]) -> Select:
    """`columns` of the view's table for the search, newest first (ties broken by message id, so
    pages are stable). Callers page it with `.limit()` / `.offset()` or stream it whole."""
    table = filters.table
    selected = [table.c[c.key] if c.sql is None else c.sql(table).label(c.key) for c in columns]
    when = table.c[filters.time_column]
    return (
        select(*selected)
        .where(filters.where(table))
        .order_by(when.desc(), table.c.message_id.desc())
    )


