"""Hourly counts of the messages (PostgreSQL, migration 0011): what the report's figures are summed
from when a search can be answered by them.

`mt_hourly` / `mo_hourly` hold, per UTC hour and per combination of the values a search can filter
the figures by (subaccount, user, campaign, status, error, ...), how many messages there are (and, for
MTs, how many got a reply). Statement triggers on `mt_message` / `mo_message` keep them exact in every
writer's transaction (ingest fold, reply flags, demo load), so a month of 10M rows is summed from a
few hundred thousand groups instead of millions of rows.

A search is answered from them when every value it sets is a column of the hourly table and its period
is whole hours that each fall in one local day (a zone whose offset is a whole number of hours, the
same over the period). Searches by phone, correlation id, conversation id or the answered MT's fields
read the messages. DuckDB reads the messages always: its scans of the same searches take 20-130 ms at
10M rows (BENCHMARKS.md), and it has no triggers to keep such a table.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from data_access.filters import Filters
from data_access.schema import mo_hourly, mo_message, mt_hourly, mt_hourly_status, mt_message

# Message table -> its hourly tables, fewest groups first.
HOURLY_OF: dict[str, tuple[sa.Table, ...]] = {
    mt_message.name: (mt_hourly_status, mt_hourly),
    mo_message.name: (mo_hourly,),
}
_HOURLY_NAMES = {table.name for tables in HOURLY_OF.values() for table in tables}


def answers(filters: Filters, offset_s: int | None, dialect: str) -> sa.Table | None:
    """The smallest hourly table that answers `filters`' figures exactly, or None when the messages
    must be read. `offset_s` is the zone's UTC offset when it is the same over the whole search (else None)."""
    if dialect != "postgresql" or offset_s is None or offset_s % 3600:
        return None
    needed = {"subaccount"} if not filters.scope.all else set()
    for name, field in filters.FIELDS.items():
        if getattr(filters, name) in (None, ()):
            continue
        if field.via is not None:
            return None
        needed |= {field.column, "subaccount"} if field.op == "owner" else {field.column}
    for hourly in HOURLY_OF.get(filters.table.name, ()):
        # A subaccount of an MO is also its business number's owner (`filters.owned_by`).
        if needed <= set(hourly.c.keys()) and ("business_number" in hourly.c or "business_number" not in filters.table.c):
            return hourly
    return None


def kept(conn: Connection) -> bool:
    """Whether the database keeps the hourly counts: PostgreSQL after migration 0011, unless they were
    dropped (as before distributing the tables with Citus: see the README), when the messages are read."""
    return conn.dialect.name == "postgresql" and conn.execute(
        sa.text("SELECT to_regclass('mt_hourly') IS NOT NULL AND to_regclass('mo_hourly') IS NOT NULL "
                "AND to_regclass('mt_hourly_status') IS NOT NULL")
    ).scalar_one()


def is_hourly(table: sa.Table) -> bool:
    return table.name in _HOURLY_NAMES


def messages(table: sa.Table, *conditions: sa.ColumnElement[bool]) -> sa.ColumnElement:
    """The messages counted in a group of `table` (rows or hourly counts) where `conditions` hold."""
    if not is_hourly(table):
        counted = sa.func.count()
        return counted.filter(*conditions) if conditions else counted
    summed = sa.func.sum(table.c.messages)
    return sa.func.coalesce(summed.filter(*conditions) if conditions else summed, 0)


def replied(table: sa.Table) -> sa.ColumnElement:
    """The MTs counted in a group that got a reply."""
    if not is_hourly(table):
        return sa.func.count().filter(table.c.replied)
    return sa.func.coalesce(sa.func.sum(table.c.replied), 0)
