"""Rows made by hand for tests, so expected figures can be computed independently of the product."""
from datetime import date, datetime, timedelta, timezone
from itertools import count

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data_access import accounts, data_version, hourly
from data_access import filters as clock
from data_access.replies import refresh_replied
from data_access.schema import mo_message, mt_message

_ids = count(1)
UTC = timezone.utc


def mt_row(**fields) -> dict:
    """An MT row with every column present; `fields` override the defaults."""
    n = next(_ids)
    row = {
        "message_id": f"wamid.test{n:08d}",
        "sent_at": datetime(2026, 11, 10, 15, 0, tzinfo=UTC),
        "status": "delivered",
        "status_raw": None,
        "status_at": None,
        "delivered_at": None,
        "read_at": None,
        "failed_at": None,
        "error_code": None,
        "error_title": None,
        "error_detail": None,
        "phone": f"+55119{n:08d}",
        "wa_user_id": f"55119{n:08d}",
        "subaccount": "Varejo",
        "user_name": "ana.souza",
        "campaign": "Black Friday",
        "content_type": "template",
        "template_name": "promo_bf",
        "message": "Olá João! Ofertas de até 70% 🎉",
        "sent_with_session": False,
        "correlation_id": None,
        "conversation_id": None,
        "conversation_type": None,
        "conversation_type_raw": None,
        "conversation_expires_at": None,
        "pricing_category": None,
        "pricing_type": None,
        "source": "send_log",
        "has_send_log": True,
        "replied": False,  # `insert` sets it from the MOs, as the product's writers do
        "clicks": 0,  # likewise
    }
    row.update(fields)
    return row


def mo_row(**fields) -> dict:
    n = next(_ids)
    row = {
        "message_id": f"wamid.mo{n:08d}",
        "received_at": datetime(2026, 11, 10, 16, 0, tzinfo=UTC),
        "phone": f"+55119{n:08d}",
        "wa_user_id": f"55119{n:08d}",
        "profile_name": "Conceição",
        "subaccount": None,
        "user_name": None,
        "campaign": None,
        "template_name": None,
        "in_reply_to": None,
        "content_type": "text",
        "message": "Quero saber mais 😀",
        "button_payload": None,
        "button_text": None,
        "referral": None,
        "source": "meta",
        "context_id": None,
        "attribution": None,
        "record_id": None,
        "business_number": None,
    }
    row.update(fields)
    return row


def insert(engine: Engine, mts: list[dict] = (), mos: list[dict] = ()) -> None:
    """Stores the rows as a writer of the product does: `replied` follows the MOs' `in_reply_to`, the
    hourly counts follow the rows."""
    with engine.begin() as conn:
        if mts:
            conn.execute(mt_message.insert(), list(mts))
            hourly.count_rows(conn, mt_message, _stored(mt_message, mts), +1)
        if mos:
            conn.execute(mo_message.insert(), list(mos))
            hourly.count_rows(conn, mo_message, _stored(mo_message, mos), +1)
        refresh_replied(conn)
        hourly.settle(conn)
        data_version.bump(conn)


def _stored(table: sa.Table, rows: list[dict]) -> sa.Select:
    return sa.select(table).where(table.c.message_id.in_([row["message_id"] for row in rows]))


def at(day: int, hour: int = 12, minute: int = 0, month: int = 11) -> datetime:
    """A UTC instant in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def later(when: datetime, **delta) -> datetime:
    return when + timedelta(**delta)


def open_shop(engine: Engine, db_url: str, monkeypatch, mts: list[dict],
         analysts: dict[str, tuple[str, tuple[str, ...]]] | None = None) -> None:
    """The pages' test shop: the app on this test's database, in its default language and time zone,
    on 2026-11-25, with `mts` stored and the accounts `analysts` (email: role, subaccounts) made."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("REPORT_LANG", raising=False)
    monkeypatch.delenv("REPORT_TZ", raising=False)
    monkeypatch.setattr(clock, "today_in", lambda tz: date(2026, 11, 25))
    insert(engine, mts)
    for email, (role, subaccounts) in (analysts or {}).items():
        accounts.add_account(engine, email, role, subaccounts=subaccounts, password="a long password")
