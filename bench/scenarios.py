"""The fixed set of filter changes every engine and every approach is timed on."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data_access.filters import Filters, MoFilters, MtFilters
from data_access.schema import mt_message

TZ = "America/Sao_Paulo"
PAGE_SIZE = 50


@dataclass(frozen=True)
class Scenario:
    name: str
    filters: Filters


def _pick(conn, column, where) -> list:
    return list(conn.execute(sa.select(column).where(where).group_by(column).order_by(sa.func.count().desc()).limit(50)).scalars())


def scenarios(engine: Engine, end: date) -> list[Scenario]:
    """A broad month; 3 campaigns x 5 statuses; one phone; one correlation id; MO quick replies."""
    month = MtFilters(date_from=end - timedelta(days=29), date_to=end, tz=TZ)
    start_utc, end_utc = month.utc_bounds()
    in_month = sa.and_(mt_message.c.sent_at >= start_utc, mt_message.c.sent_at < end_utc)
    with engine.connect() as conn:
        campaigns = _pick(conn, mt_message.c.campaign, in_month & mt_message.c.campaign.is_not(None))
        phone = conn.execute(sa.select(mt_message.c.phone).where(in_month, mt_message.c.phone.is_not(None)).limit(1)).scalar_one()
        correlation = conn.execute(
            sa.select(mt_message.c.correlation_id).where(in_month, mt_message.c.correlation_id.is_not(None)).limit(1)
        ).scalar_one()
    return [
        Scenario("month", month),
        Scenario("month_3_campaigns_5_statuses", month.replace(
            campaign=tuple(campaigns[:3]),
            status=("delivered", "read", "undelivered", "opt_out", "invalid_session"),
        )),
        Scenario("month_one_phone", month.replace(phone=phone)),
        Scenario("month_one_correlation_id", month.replace(correlation_id=correlation)),
        Scenario("mo_quick_replies_month", MoFilters(
            date_from=month.date_from, date_to=month.date_to, tz=TZ, content_type=("button",),
        )),
    ]
