"""Chat (MT + MO): one contact's conversation as a timeline, the seed's "Chat (MT + MO)" report.

The messages the business sent to a phone (MT, with their status) and the ones that phone sent back
(MO), interleaved in time order, across ALL dates: a conversation is looked at whole, whatever period
the other reports show. Only what the viewer's `Scope` may see is included (the rule of every other
query, `filters.scope_condition`). Pages come from the database (`LIMIT`/`OFFSET` over one
`UNION ALL` ordered by time; PostgreSQL walks its (phone, time) indexes).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import String, func, literal, select
from sqlalchemy.engine import Connection

from data_access.columns import MT_COLUMNS
from data_access.filters import FilterError, normalise_phone, scope_condition
from data_access.schema import mo_message, mt_message
from data_access.scope import Scope

CHAT_PAGE_SIZE = 50
_ERROR = next(column.sql for column in MT_COLUMNS if column.key == "error")  # "131047: Re-engagement..."
DIRECTIONS = ("mt", "mo")  # sent by the business, received from the contact


@dataclass(frozen=True)
class ChatMessage:
    """One bubble of the timeline. MT-only fields are None on MOs and the other way round."""

    direction: str  # mt | mo
    message_id: str
    at: datetime  # sent_at (MT) or received_at (MO), UTC
    content_type: str
    message: str | None
    status: str | None  # MT: the status catalogue's code
    error: str | None  # MT: "131050: ..." from the provider's code and title
    campaign: str | None
    template_name: str | None
    subaccount: str | None
    user_name: str | None
    button_text: str | None  # MO: the quick reply clicked
    in_reply_to: str | None  # MO: the MT it answers


@dataclass(frozen=True)
class ChatSummary:
    """How long the conversation is, for the header and the pager."""

    sent: int  # MTs
    received: int  # MOs
    first_at: datetime | None
    last_at: datetime | None

    @property
    def total(self) -> int:
        return self.sent + self.received


def contact_phone(text: str) -> str:
    """The E.164 phone a chat is about ('+55 (11) 98765-4321' -> '+5511987654321'); a text without
    8 to 15 digits raises `FilterError` (param `phone`): a conversation is one whole number."""
    phone = normalise_phone(text)
    if not 8 <= len(phone) - 1 <= 15:
        raise FilterError(
            f"phone {text!r} is not a whole number: give 8 to 15 digits, e.g. +5511987654321", "phone", text
        )
    return phone


def _no_text() -> sa.ColumnElement:
    return sa.cast(sa.null(), String)


def _timeline(phone: str, scope: Scope) -> sa.Subquery:
    """Every MT to and MO from `phone` that `scope` may see, in the columns of `ChatMessage`."""
    mt, mo = mt_message, mo_message
    sent = select(
        literal("mt", String).label("direction"),
        mt.c.message_id,
        mt.c.sent_at.label("at"),
        mt.c.content_type,
        mt.c.message,
        mt.c.status,
        _ERROR(mt).label("error"),
        mt.c.campaign,
        mt.c.template_name,
        mt.c.subaccount,
        mt.c.user_name,
        _no_text().label("button_text"),
        _no_text().label("in_reply_to"),
    ).where(mt.c.phone == phone, scope_condition(scope, mt))
    received = select(
        literal("mo", String),
        mo.c.message_id,
        mo.c.received_at,
        mo.c.content_type,
        mo.c.message,
        _no_text(),
        _no_text(),
        mo.c.campaign,
        mo.c.template_name,
        mo.c.subaccount,
        mo.c.user_name,
        mo.c.button_text,
        mo.c.in_reply_to,
    ).where(mo.c.phone == phone, scope_condition(scope, mo))
    return sa.union_all(sent, received).subquery("timeline")


def chat_summary(conn: Connection, phone: str, scope: Scope = Scope.ALL) -> ChatSummary:
    """Counts and first/last instants of the conversation with `phone` (an E.164 number)."""
    timeline = _timeline(phone, scope)
    sent, received, first_at, last_at = conn.execute(
        select(
            func.count().filter(timeline.c.direction == "mt"),
            func.count().filter(timeline.c.direction == "mo"),
            func.min(timeline.c.at),
            func.max(timeline.c.at),
        )
    ).one()
    return ChatSummary(int(sent), int(received), first_at, last_at)


def chat_page(
    conn: Connection, phone: str, page: int, page_size: int = CHAT_PAGE_SIZE, scope: Scope = Scope.ALL
) -> tuple[ChatMessage, ...]:
    """Messages `page` (1-based, page 1 holds the oldest) of the conversation with `phone`, oldest
    first. At the same instant an MT comes before the MO; then message ids order them, so pages are stable."""
    timeline = _timeline(phone, scope)
    query = (
        select(timeline)
        .order_by(timeline.c.at, timeline.c.direction.desc(), timeline.c.message_id)
        .limit(page_size)
        .offset(max(page - 1, 0) * page_size)
    )
    return tuple(ChatMessage(**row) for row in conn.execute(query).mappings())
