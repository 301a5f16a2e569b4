"""The detail columns of each view, in the order of SPEC section 4 (main columns, then the extra ones).

Pages (the paged table) and exports (CSV, XLSX, PDF) both read these definitions, so a column is
named, ordered and typed in exactly one place. Header words come from `data_access.i18n`.
"""
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, Select, case, literal, select

from data_access.filters import Filters
from data_access.i18n import t
from data_access.schema import mt_message

Kind = Literal["datetime", "status", "content_type", "conversation_type", "bool", "text", "id", "phone"]


@dataclass(frozen=True)
class DetailColumn:
    key: str  # result column name; header key is f"column.{view}.{key}"
    kind: Kind  # how it is shown: datetime in the report's zone, codes as labels, bool as Yes/No
    extra: bool = False  # may be hidden on screen; always exported
    free_text: bool = False  # typed by people: subject to the CSV formula-injection rule


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
    DetailColumn("error", "text", extra=True, free_text=True),
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

COLUMNS_OF_VIEW: dict[str, tuple[DetailColumn, ...]] = {"mt": MT_COLUMNS, "mo": MO_COLUMNS}


def headers(view: str, lang: str, include_extra: bool = True) -> list[str]:
    return [t(f"column.{view}.{c.key}", lang) for c in COLUMNS_OF_VIEW[view] if include_extra or not c.extra]


def _mt_error() -> ColumnElement[str]:
    """"131049: This message was not delivered..." from the provider's code and title."""
    code, title = mt_message.c.error_code, mt_message.c.error_title
    return case(
        (code.is_(None), title),
        (title.is_(None), code),
        else_=code + literal(": ") + title,
    )


def detail_select(filters: Filters) -> Select:
    """Every column of the view for the search, newest first (ties broken by message id, so
    pages are stable). Callers page it with `.limit()` / `.offset()` or stream it whole."""
    table = filters.table
    computed = {"error": _mt_error()} if filters.view == "mt" else {}
    selected = [
        computed[c.key].label(c.key) if c.key in computed else table.c[c.key]
        for c in COLUMNS_OF_VIEW[filters.view]
    ]
    when = table.c[filters.time_column]
    return (
        select(*selected)
        .where(filters.where(table))
        .order_by(when.desc(), table.c.message_id.desc())
    )


