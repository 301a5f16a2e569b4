"""Every figure the report shows, as SQL aggregates over one view's table (SPEC section 3).

A page refresh is `mt_report()` / `mo_report()` (the figures) plus `detail.newest_page()` (one page of rows),
each on one connection. Results are small frozen values: cheap to cache, keyed by the filter value.
Rates are ratios of the counted figures; a rate with no denominator is None (shown as "–").
"""
from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Date, cast, func, select
from sqlalchemy.engine import Connection, Engine

from data_access.catalog import DELIVERED_STATUSES, FAILURE_STATUSES
from data_access import hourly
from data_access.filters import Filters, MoFilters, MtFilters, owned_by, scope_condition
from data_access.schema import business_number
from data_access.scope import Scope

PAGE_SIZES = (25, 50, 100, 250)
FAILURE_REASONS_SHOWN = 20
QUICK_REPLIES_SHOWN = 50


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _fixed_offset_s(filters: Filters) -> int | None:
    """The zone's UTC offset in seconds when it is the same on every day of the search, else None.

    Looked at noon of each day (and the first midnight); whole calendar years come from a per-process
    cache and the look stops at the second offset seen, so a search of a century costs about a
    thousand look-ups, not forty thousand."""
    zone = ZoneInfo(filters.tz)
    offsets = {_offset_s(datetime.combine(filters.date_from, time.min, tzinfo=zone))}
    day, last = filters.date_from, filters.date_to + timedelta(days=1)
    while day <= last and len(offsets) == 1:
        if (day.month, day.day) == (1, 1) and date(day.year, 12, 31) <= last:
            offsets |= _noon_offsets_of_year(filters.tz, day.year)
            day = date(day.year + 1, 1, 1)
        else:
            offsets.add(_offset_s(datetime.combine(day, time(12), tzinfo=zone)))
            day += timedelta(days=1)
    return offsets.pop() if len(offsets) == 1 else None


def _offset_s(moment: datetime) -> int:
    return int(moment.utcoffset().total_seconds())


@functools.lru_cache(maxsize=4096)
def _noon_offsets_of_year(tz: str, year: int) -> frozenset[int]:
    """The UTC offsets of `tz` at noon of every day of `year`."""
    zone, first = ZoneInfo(tz), date(year, 1, 1)
    days = (date(year + 1, 1, 1) - first).days
    return frozenset(_offset_s(datetime.combine(first + timedelta(days=n), time(12), tzinfo=zone)) for n in range(days))


_EPOCH = date(1970, 1, 1)


def _local_day(column, filters: Filters, dialect: str) -> tuple[sa.ColumnElement, Callable[[Any], date]]:
    """The calendar day of a UTC timestamp in the report's zone, as SQL plus a function that turns
    its values into dates. With a fixed offset over the search (most zones, always in Brazil) it is
    arithmetic, several times faster than converting every row through the zone database: on the
    epoch's seconds in DuckDB, on the timestamp shifted by the offset in PostgreSQL (where the epoch
    is a slow numeric; the session's zone is UTC, so the shifted timestamp's date is the local day)."""
    offset = _fixed_offset_s(filters)
    if offset is None:
        return cast(func.timezone(filters.tz, column), Date), lambda value: value
    if dialect == "postgresql":
        return cast(column + sa.literal(timedelta(seconds=offset)), Date), lambda value: value
    day_number = func.floor((sa.extract("epoch", column) + offset) / 86400)
    return cast(day_number, sa.Integer), lambda value: _EPOCH + timedelta(days=int(value))


# -- MT -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MtTotals:
    total: int
    pending: int  # still `sent`
    delivered: int  # delivered + read
    read: int
    failed: int
    replied: int  # MTs with at least one MO answering them

    @property
    def delivery_rate(self) -> float | None:
        return _ratio(self.delivered, self.total)

    @property
    def read_rate(self) -> float | None:
        return _ratio(self.read, self.delivered)

    @property
    def failure_rate(self) -> float | None:
        return _ratio(self.failed, self.total)

    @property
    def reply_rate(self) -> float | None:
        return _ratio(self.replied, self.delivered)


@dataclass(frozen=True)
class DailyDelivery:
    day: date
    total: int
    delivered: int

    @property
    def delivery_rate(self) -> float | None:
        return _ratio(self.delivered, self.total)


@dataclass(frozen=True)
class FailureReason:
    status: str
    error_code: str | None
    error_title: str | None
    count: int


@dataclass(frozen=True)
class MtReport:
    totals: MtTotals
    status_counts: tuple[tuple[str, int], ...]  # (status, count), largest first
    failure_reasons: tuple[FailureReason, ...]  # largest first, at most FAILURE_REASONS_SHOWN
    daily: tuple[DailyDelivery, ...]  # by local day, ascending


def _totals(status_counts: dict[str, int], replied: int) -> MtTotals:
    """The totals are sums of the status breakdown's counts (one scan for both)."""
    return MtTotals(
        total=sum(status_counts.values()),
        pending=status_counts.get("sent", 0),
        delivered=sum(status_counts.get(s, 0) for s in DELIVERED_STATUSES),
        read=status_counts.get("read", 0),
        failed=sum(status_counts.get(s, 0) for s in FAILURE_STATUSES),
        replied=replied,
    )


def counted_from(conn: Connection, filters: Filters, source: sa.Table | None = None) -> sa.Table:
    """The table the search's figures are counted from: `source` when given (the view's table or its
    hourly counts), else the hourly counts when they answer the search exactly (kept by the
    database: `data_access.hourly`), else the view's messages."""
    if source is not None:
        return source
    hourly_table = hourly.answers(filters, _fixed_offset_s(filters))
    return filters.table if hourly_table is None or not hourly.kept(conn) else hourly_table


def mt_totals(conn: Connection, filters: MtFilters, source: sa.Table | None = None) -> MtTotals:
    """The totals alone (the export summary and the command line need no charts)."""
    table = counted_from(conn, filters, source)
    status = table.c.status
    counts = conn.execute(
        select(status, hourly.messages(table), hourly.replied(table)).where(filters.where(table)).group_by(status)
    ).all()
    return _totals({s: int(n) for s, n, _ in counts}, sum(int(r) for _, _, r in counts))


def mt_report(conn: Connection, filters: MtFilters, source: sa.Table | None = None) -> MtReport:
    """Totals, status breakdown, failure reasons and the daily delivery rate of one search.

    One scan groups the search by (status, error code, local day): a few hundred groups, whose counts
    (of MTs, and of MTs that got a reply) add up to each figure exactly.
    """
    table = counted_from(conn, filters, source)
    status, code = table.c.status, table.c.error_code
    day, to_date = _local_day(table.c.sent_at, filters, conn.dialect.name)
    groups = conn.execute(
        select(status, code, day.label("day"), hourly.messages(table), hourly.replied(table),
               func.min(table.c.error_title))
        .where(filters.where(table))
        .group_by(status, code, day)
    ).all()
    by_status: dict[str, int] = defaultdict(int)
    by_reason: dict[tuple[str, str | None], tuple[int, list[str]]] = {}
    by_day: dict[date, list[int]] = {}
    replied = 0
    for row_status, row_code, row_day, n, row_replied, title in groups:
        n = int(n)
        replied += int(row_replied)
        by_status[row_status] += n
        if row_status in FAILURE_STATUSES:
            count_so_far, titles = by_reason.get((row_status, row_code), (0, []))
            by_reason[(row_status, row_code)] = (count_so_far + n, titles + [title] * (title is not None))
        totals_of_day = by_day.setdefault(to_date(row_day), [0, 0])
        totals_of_day[0] += n
        totals_of_day[1] += n if row_status in DELIVERED_STATUSES else 0
    status_counts = tuple(sorted(by_status.items(), key=lambda item: (-item[1], item[0])))
    reasons = sorted(by_reason.items(), key=lambda item: (-item[1][0], item[0][0], item[0][1] or ""))
    return MtReport(
        totals=_totals(dict(status_counts), replied),
        status_counts=status_counts,
        failure_reasons=tuple(
            FailureReason(s, c, min(titles, default=None), n) for (s, c), (n, titles) in reasons[:FAILURE_REASONS_SHOWN]
        ),
        daily=tuple(DailyDelivery(d, n, ok) for d, (n, ok) in sorted(by_day.items())),
    )


# -- MO -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuickReplyClicks:
    button_text: str | None
    campaign: str | None
    template_name: str | None
    clicks: int


@dataclass(frozen=True)
class MoReport:
    total: int
    quick_reply_clicks: int  # MOs with a button payload
    quick_replies: tuple[QuickReplyClicks, ...]  # by (button, campaign, template), largest first
    daily: tuple[tuple[date, int], ...]  # replies per local day, ascending
    content_mix: tuple[tuple[str, int], ...]  # (content_type, count), largest first


def mo_report(conn: Connection, filters: MoFilters, source: sa.Table | None = None) -> MoReport:
    """Totals, daily replies and the content mix of one search from one scan grouped by (local day,
    content type); a second statement ranks the quick-reply buttons."""
    table = counted_from(conn, filters, source)
    where = filters.where(table)
    clicked = table.c.clicked if hourly.is_hourly(table) else table.c.button_payload.is_not(None)
    kind = table.c.content_type
    day, to_date = _local_day(table.c.received_at, filters, conn.dialect.name)
    groups = conn.execute(
        select(day.label("day"), kind, hourly.messages(table), hourly.messages(table, clicked))
        .where(where)
        .group_by(day, kind)
    ).all()
    group = (table.c.button_text, table.c.campaign, table.c.template_name)
    quick = conn.execute(
        select(*group, hourly.messages(table).label("n"))
        .where(where)
        .where(clicked)
        .group_by(*group)
        .order_by(sa.desc("n"), *(g.asc().nulls_last() for g in group))
        .limit(QUICK_REPLIES_SHOWN)
    ).all()
    by_day: dict[date, int] = defaultdict(int)
    by_kind: dict[str, int] = defaultdict(int)
    for row_day, row_kind, n, _ in groups:
        by_day[to_date(row_day)] += int(n)
        by_kind[row_kind] += int(n)
    return MoReport(
        total=sum(by_kind.values()),
        quick_reply_clicks=sum(int(clicks) for *_, clicks in groups),
        quick_replies=tuple(QuickReplyClicks(b, c, t, int(n)) for b, c, t, n in quick),
        daily=tuple(sorted(by_day.items())),
        content_mix=tuple(sorted(by_kind.items(), key=lambda item: (-item[1], item[0]))),
    )


# -- shared -------------------------------------------------------------------------------------


def count(conn: Connection, filters: Filters, source: sa.Table | None = None) -> int:
    """Rows matching the search: the "8 results" figure and the export's row count."""
    table = counted_from(conn, filters, source)
    return int(conn.execute(select(hourly.messages(table)).select_from(table).where(filters.where(table))).scalar_one())


def page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


@dataclass(frozen=True)
class FilterOptions:
    """Values offered by the sidebar lists, from the data itself (a field's `options` names its list)."""

    subaccounts: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    buttons: tuple[str, ...] = ()
    content_types: tuple[str, ...] = ()  # codes present in the view's table


def _distinct(conn: Connection, column, *conditions) -> tuple[str, ...]:
    query = select(column).where(column.is_not(None), *conditions).group_by(column).order_by(column)
    return tuple(conn.execute(query).scalars())


def filter_options(
    conn: Connection, search: type[Filters], subaccounts: tuple[str, ...] = (), scope: Scope = Scope.ALL
) -> FilterOptions:
    """The option lists of a view's fields (those that declare `options`). Choosing subaccounts narrows
    the free values (users, campaigns, buttons); catalogue codes are those present in the view. Only
    values of rows the `scope` may see are offered (a subaccount, user or campaign of another never is)."""
    table = search.table
    visible = () if scope.all else (scope_condition(scope, table),)
    narrow = (*visible, owned_by(table, subaccounts)) if subaccounts else visible
    offered: dict[str, tuple[str, ...]] = {}
    for field in search.FIELDS.values():
        if field.options is None:
            continue
        column = table.c[field.column]
        if field.op == "owner":
            offered[field.options] = _owners(conn, table, visible)
        else:
            offered[field.options] = _distinct(conn, column, *(visible if field.choices else narrow))
    return FilterOptions(**offered)


def _owners(conn: Connection, table: sa.Table, visible: tuple) -> tuple[str, ...]:
    """The subaccounts of the rows: attributed ones, and the owners of the business numbers that rows
    with no attributed subaccount were sent to (MOs)."""
    offered = _distinct(conn, table.c.subaccount, *visible)
    if "business_number" not in table.c:
        return offered
    numbers = sa.select(table.c.business_number).where(table.c.subaccount.is_(None), *visible)
    owners = _distinct(conn, business_number.c.subaccount, business_number.c.number.in_(numbers))
    return tuple(sorted(set(offered) | set(owners))) if set(owners) - set(offered) else offered


def with_connection(engine: Engine, work, *args):
    """Runs `work(conn, *args)` on one short-lived connection (the embedded file is held only then)."""
    with engine.connect() as conn:
        return work(conn, *args)


