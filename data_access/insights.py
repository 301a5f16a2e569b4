"""What analysts reach for after the totals, as SQL aggregates over one view's table: how many distinct
people a search reached (or heard from), how long messages took to be read, and the weekday x hour at
which reads (Sent) and replies (Received) happen in the report's time zone.

Each view's figures come from a few statements on one connection (`mt_insights`, `mo_insights`) and are
small frozen values, cheap to cache under the filter value like `data_access.report`'s. The statements
are shaped for PostgreSQL's parallel workers (no DISTINCT aggregate; the medians, which are never
parallel, over the read messages alone) and the replies' heatmap is summed from the hourly counts when
they answer the search.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.engine import Connection

from data_access import hourly, report
from data_access.filters import Filters, MoFilters, MtFilters
from data_access.report import _fixed_offset_s
from data_access.schema import mt_message, mt_read_hourly

# Upper bounds (seconds, exclusive) of the time-to-read buckets; the last bucket has none.
READ_BUCKET_BOUNDS_S: tuple[int, ...] = (60, 5 * 60, 15 * 60, 60 * 60, 6 * 3600, 24 * 3600)
READ_BUCKETS = ("lt_1m", "1m_5m", "5m_15m", "15m_1h", "1h_6h", "6h_24h", "gt_24h")
WEEKDAYS = 7  # 0 = Monday ... 6 = Sunday
HOURS = 24


@dataclass(frozen=True)
class ReadDelay:
    """How long one kind of wait (delivered -> read, or sent -> read) took for the read messages."""

    measured: int  # messages with both timestamps
    median_s: float | None  # None when nothing was measured
    buckets: tuple[int, ...]  # counts per READ_BUCKETS, in order


@dataclass(frozen=True)
class MtInsights:
    recipients: int  # distinct recipients (phone, else the raw WhatsApp id)
    delivered_to_read: ReadDelay
    sent_to_read: ReadDelay
    reads_by_hour: tuple[tuple[int, ...], ...]  # [weekday][hour] reads, local time of the read


@dataclass(frozen=True)
class MoInsights:
    senders: int  # distinct senders (phone, else the raw WhatsApp id)
    replies_by_hour: tuple[tuple[int, ...], ...]  # [weekday][hour] replies, local time received


def contact(table: sa.Table) -> sa.ColumnElement:
    """Who a row is with: the E.164 phone, else the raw WhatsApp id kept when the number was not one
    (SPEC 1), so a contact without a phone is still counted once."""
    return func.coalesce(table.c.phone, table.c.wa_user_id)


def median(value: sa.ColumnElement, dialect: str) -> sa.ColumnElement:
    """The continuous median of `value` (NULLs ignored): `quantile_cont` in DuckDB, the SQL-standard
    ordered-set `percentile_cont(0.5) WITHIN GROUP (ORDER BY ...)` elsewhere (PostgreSQL)."""
    if dialect == "duckdb":
        return func.quantile_cont(value, 0.5)
    return func.percentile_cont(0.5).within_group(value)


def _seconds_between(start: sa.ColumnElement, end: sa.ColumnElement) -> sa.ColumnElement:
    """Seconds from `start` to `end`, NULL when either is missing; a read stamped a moment before its
    delivery (providers' clocks differ) counts as immediate, never negative. In double precision: a
    FLOAT is 4 bytes in DuckDB, which would round 86399.999 s up into the next bucket."""
    seconds = cast(sa.extract("epoch", end) - sa.extract("epoch", start), sa.Double)
    return case((seconds < 0, 0.0), else_=seconds)


def _bucket(seconds: sa.ColumnElement) -> sa.ColumnElement:
    """The READ_BUCKETS index of a duration; NULL stays NULL."""
    whens = [(seconds < bound, index) for index, bound in enumerate(READ_BUCKET_BOUNDS_S)]
    return case((seconds.is_(None), None), *whens, else_=len(READ_BUCKET_BOUNDS_S))


def _weekday_hour(column, filters: Filters, dialect: str) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """(weekday 0 = Monday .. 6, hour 0..23) of a UTC timestamp in the report's zone. With one UTC
    offset over the search (as `report._local_day`) it is arithmetic on the shifted instant; else the
    zone database converts each value."""
    offset = _fixed_offset_s(filters)
    if offset is None:
        local = func.timezone(filters.tz, column)
        return cast(sa.extract("isodow", local), Integer) - 1, cast(sa.extract("hour", local), Integer)
    if dialect == "postgresql":  # the session's zone is UTC: the shifted instant's fields are local
        local = column + sa.literal(timedelta(seconds=offset))
        return cast(sa.extract("isodow", local), Integer) - 1, cast(sa.extract("hour", local), Integer)
    local_s = func.floor(sa.extract("epoch", column) + offset)
    day = func.floor(local_s / 86400)
    weekday = cast(day + 3, Integer) % 7  # 1970-01-01 was a Thursday (3)
    hour = cast(func.floor((local_s - day * 86400) / 3600), Integer)
    return weekday, hour


def _grid(rows) -> tuple[tuple[int, ...], ...]:
    """A [weekday][hour] table of counts from (weekday, hour, count) rows."""
    cells = [[0] * HOURS for _ in range(WEEKDAYS)]
    for weekday, hour, n in rows:
        cells[int(weekday)][int(hour)] += int(n)
    return tuple(tuple(row) for row in cells)


def _heatmap(conn: Connection, filters: Filters, source: sa.Table | None = None) -> tuple[tuple[int, ...], ...]:
    """The weekday x hour of the search's messages (by the view's time column): summed from the hourly
    counts when they answer the search (`report.counted_from`: whole-hour zone offsets, so an hour's
    start and its messages have the same local weekday and hour), else counted from the rows."""
    table = report.counted_from(conn, filters, source)
    weekday, hour = _weekday_hour(table.c[filters.time_column], filters, conn.dialect.name)
    rows = conn.execute(
        select(weekday.label("wd"), hour.label("hr"), hourly.messages(table))
        .where(filters.where(table))
        .group_by(sa.literal_column("wd"), sa.literal_column("hr"))
    ).all()
    return _grid(rows)


def _delay(measured: int, median_s, counts: dict[int, int]) -> ReadDelay:
    return ReadDelay(
        measured=int(measured),
        median_s=None if median_s is None else float(median_s),
        buckets=tuple(counts.get(index, 0) for index in range(len(READ_BUCKETS))),
    )


def distinct_contacts(conn: Connection, filters: Filters) -> int:
    """Distinct recipients (Sent) or senders (Received) of the search.

    Counted as the rows of a GROUP BY of the contacts: PostgreSQL runs that in parallel workers, while a
    `count(DISTINCT ...)` (like every aggregate with DISTINCT) runs in one process and sorts."""
    table = filters.table
    who = contact(table).label("contact")
    contacts = select(who).where(filters.where()).group_by(who).subquery()
    return int(conn.execute(select(func.count()).select_from(contacts)).scalar_one())


def read_counts_from(conn: Connection, filters: MtFilters) -> sa.Table:
    """Where a Sent search's time-to-read buckets and weekday x hour of reads are counted from:
    `mt_read_hourly` when the hourly counts answer the search (PostgreSQL after migration 0013: its
    columns hold every one of `mt_hourly`'s, and a whole-hour zone offset makes an hour's start and its
    reads fall on the same local weekday and hour), else the messages."""
    if conn.dialect.name != "postgresql":
        return mt_message
    if hourly.answers(filters, _fixed_offset_s(filters)) is None:
        return mt_message
    kept = conn.execute(sa.text("SELECT to_regclass('mt_read_hourly') IS NOT NULL")).scalar_one()
    return mt_read_hourly if kept else mt_message


def _read_groups(conn: Connection, filters: MtFilters, source: sa.Table) -> list:
    """(delivered -> read bucket, sent -> read bucket, weekday, hour of the read, messages) of the
    search's read messages, counted from `source` (the messages or `mt_read_hourly`)."""
    weekday, hour = _weekday_hour(source.c.read_at, filters, conn.dialect.name)
    if source is mt_read_hourly:
        buckets = (source.c.delivered_to_read, source.c.sent_to_read)
        counted, conditions = func.sum(source.c.messages), ()
    else:
        buckets = (_bucket(_seconds_between(source.c.delivered_at, source.c.read_at)),
                   _bucket(_seconds_between(source.c.sent_at, source.c.read_at)))
        counted, conditions = func.count(), (source.c.read_at.is_not(None),)
    return conn.execute(
        select(buckets[0].label("dr"), buckets[1].label("sr"), weekday.label("wd"), hour.label("hr"), counted)
        .where(filters.where(source), *conditions)
        .group_by(*(sa.literal_column(name) for name in ("dr", "sr", "wd", "hr")))
    ).all()


def mt_insights(conn: Connection, filters: MtFilters, read_counts: sa.Table | None = None) -> MtInsights:
    """Recipients, read delays (delivered -> read, sent -> read) and the weekday x hour of reads of one
    Sent search, in three statements: the distinct recipients (`distinct_contacts`); the two medians over
    the read messages alone (a delay is NULL for an unread message, which the median would skip); then
    the read messages grouped by (delivered -> read bucket, sent -> read bucket, weekday, hour of the
    read), whose counts add up to each other figure, summed from `mt_read_hourly` when it answers
    (`read_counts_from`; `read_counts` forces the table). None of them has an ordered-set or DISTINCT
    aggregate but the medians, so PostgreSQL runs the others in parallel."""
    table, dialect = mt_message, conn.dialect.name
    read = table.c.read_at.is_not(None)
    median_dr, median_sr = conn.execute(
        select(median(_seconds_between(table.c.delivered_at, table.c.read_at), dialect),
               median(_seconds_between(table.c.sent_at, table.c.read_at), dialect))
        .where(filters.where(), read)
    ).one()
    groups = _read_groups(conn, filters, read_counts_from(conn, filters) if read_counts is None else read_counts)
    by_dr: dict[int, int] = defaultdict(int)
    by_sr: dict[int, int] = defaultdict(int)
    for dr, sr, _, _, n in groups:
        if dr is not None:
            by_dr[int(dr)] += int(n)
        by_sr[int(sr)] += int(n)
    return MtInsights(
        recipients=distinct_contacts(conn, filters),
        delivered_to_read=_delay(sum(by_dr.values()), median_dr, by_dr),
        sent_to_read=_delay(sum(by_sr.values()), median_sr, by_sr),
        reads_by_hour=_grid((wd, hr, n) for *_, wd, hr, n in groups),
    )


def mo_insights(conn: Connection, filters: MoFilters, source: sa.Table | None = None) -> MoInsights:
    """Senders and the weekday x hour of replies of one Received search; `source` forces the table the
    heatmap is counted from (the messages or their hourly counts), as `report.counted_from`."""
    return MoInsights(senders=distinct_contacts(conn, filters), replies_by_hour=_heatmap(conn, filters, source))
