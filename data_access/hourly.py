"""Hourly counts of the messages (PostgreSQL: migration 0011; DuckDB: migration 0012): what the
report's figures are summed from when a search can be answered by them.

`mt_hourly` / `mo_hourly` hold, per UTC hour and per combination of the values a search can filter
the figures by (subaccount, user, campaign, status, error, ...), how many messages there are (and, for
MTs, how many got a reply), so a month of 10M rows is summed from a few hundred thousand groups
instead of millions of rows. They are kept exact in every writer's transaction:
- PostgreSQL: statement triggers on `mt_message` / `mo_message` (whatever the writer);
- DuckDB, which has no triggers: each writer of the message tables says what it changes, and
  `settle` merges it before the commit. The rows a statement is about to take away are counted out
  (`count_ids`, `count_rows` with sign -1, `delete`), the rows it wrote counted in (sign +1;
  `rewriting` does both around a statement that rewrites the rows of known ids); the counts go to a
  temporary table of the connection, and `settle` adds them to the stored groups of the hours they
  touch (groups left at zero are removed). The ingest fold, the demo load (`rebuild`) and
  `data_access.replies` do so. On PostgreSQL, and on a DuckDB file without the tables, every one of
  these functions does nothing.

A search is answered from them when every value it sets is a column of the hourly table and its period
is whole hours that each fall in one local day (a zone whose offset is a whole number of hours, the
same over the period). Searches by phone, correlation id, conversation id or the answered MT's fields
read the messages.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from data_access.bulk import for_ids
from data_access.filters import Filters
from data_access.schema import mo_hourly, mo_message, mt_hourly, mt_hourly_status, mt_message

# Message table -> its hourly tables, fewest groups first.
HOURLY_OF: dict[str, tuple[sa.Table, ...]] = {
    mt_message.name: (mt_hourly_status, mt_hourly),
    mo_message.name: (mo_hourly,),
}
_ALL_HOURLY = tuple(table for tables in HOURLY_OF.values() for table in tables)
_HOURLY_NAMES = {table.name for table in _ALL_HOURLY}


def answers(filters: Filters, offset_s: int | None) -> sa.Table | None:
    """The smallest hourly table that answers `filters`' figures exactly, or None when the messages
    must be read. `offset_s` is the zone's UTC offset when it is the same over the whole search (else None)."""
    if offset_s is None or offset_s % 3600:
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
    """Whether the database keeps the hourly counts: PostgreSQL after migration 0011 and DuckDB after
    0012, unless they were dropped (as before distributing the tables with Citus: see the README),
    when the messages are read."""
    if conn.dialect.name == "postgresql":
        return conn.execute(
            sa.text("SELECT to_regclass('mt_hourly') IS NOT NULL AND to_regclass('mo_hourly') IS NOT NULL "
                    "AND to_regclass('mt_hourly_status') IS NOT NULL")
        ).scalar_one()
    if conn.dialect.name != "duckdb":
        return False
    found = conn.execute(
        sa.text("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                "AND schema_name = current_schema() AND NOT temporary AND table_name IN :names")
        .bindparams(sa.bindparam("names", expanding=True)),
        {"names": sorted(_HOURLY_NAMES)},
    ).scalar_one()
    return found == len(_HOURLY_NAMES)


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


# -- DuckDB: the writers keep the counts --------------------------------------------------------

# A message table's name -> its time column (its hourly tables' hour column has the same name).
TIME_COLUMN = {mt_message.name: "sent_at", mo_message.name: "received_at"}
_SUMS = ("messages", "replied")
_KEPT = "hourly_kept"  # the key of `writes_counts`' answer in a connection's `info`


def _keys(hourly: sa.Table, time_column: str) -> list[str]:
    """The columns an hourly table counts by, but its hour."""
    return [c.name for c in hourly.columns if c.name not in _SUMS and c.name != time_column]


def _value(rows: sa.FromClause, name: str) -> sa.ColumnElement:
    """A counted column's value in a message row (`clicked`: the MO has a button payload)."""
    return rows.c.button_payload.is_not(None) if name == "clicked" else rows.c[name]


def _temporary(name: str, like: sa.Table) -> sa.Table:
    return sa.Table(name, sa.MetaData(), *(sa.Column(c.name, c.type) for c in like.columns), prefixes=["TEMPORARY"])


def _change_table(hourly: sa.Table) -> sa.Table:
    """The connection's temporary table of counts not merged yet into `hourly`."""
    return _temporary(f"{hourly.name}_change", hourly)


def writes_counts(conn: Connection) -> bool:
    """The writer must keep the counts itself: DuckDB with the hourly tables (PostgreSQL's triggers do).
    Asked once per DuckDB connection: DuckDB engines keep no pool (`engine.open_database`), so a
    writer's connection lives for its one transaction, no longer than the tables it asked about."""
    if conn.dialect.name != "duckdb":
        return False
    if _KEPT not in conn.info:
        conn.info[_KEPT] = kept(conn)
    return conn.info[_KEPT]


def _noted(conn: Connection) -> set[str]:
    """The change tables this connection has made."""
    names = [_change_table(hourly).name for hourly in _ALL_HOURLY]
    return set(conn.execute(
        sa.text("SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name IN :names")
        .bindparams(sa.bindparam("names", expanding=True)),
        {"names": names},
    ).scalars())


def _grouped(hourly: sa.Table, time_column: str, rows: sa.FromClause, sign: int) -> sa.Select:
    """The hourly counts of `rows` (message rows, or anything with their columns), each times `sign`."""
    keys = [sa.func.date_trunc("hour", rows.c[time_column]).label(time_column),
            *(_value(rows, k).label(k) for k in _keys(hourly, time_column))]
    sums = [(sign * sa.func.count()).label("messages")]
    if "replied" in hourly.c:
        sums.append((sign * sa.func.count().filter(rows.c.replied)).label("replied"))
    return sa.select(*keys, *sums).group_by(*(sa.literal_column(str(n + 1)) for n in range(len(keys))))


def count_rows(conn: Connection, table: sa.Table, rows: sa.FromClause, sign: int) -> None:
    """Notes that `rows` (rows with the columns of the message table `table`: a select of it, or a
    table of rows computed for it) leave the table (`sign` -1) or join it (+1), for `settle`."""
    if not writes_counts(conn):
        return
    source = rows.subquery("counted_rows") if isinstance(rows, sa.Select) else rows
    for hourly in HOURLY_OF[table.name]:
        change = _change_table(hourly)
        conn.execute(sa.schema.CreateTable(change, if_not_exists=True))
        grouped = _grouped(hourly, TIME_COLUMN[table.name], source, sign)
        conn.execute(change.insert().from_select([c.name for c in grouped.selected_columns], grouped))


def count_ids(conn: Connection, table: sa.Table, ids: sa.Select | sa.CompoundSelect, sign: int) -> None:
    """`count_rows` of the stored rows of `table` whose message ids `ids` selects. A few ids are looked
    up by value (the primary key finds them), more by the subquery."""
    if not writes_counts(conn):
        return
    for_ids(conn, table.c.message_id, ids, lambda match: count_rows(conn, table, sa.select(table).where(match), sign))


@contextmanager
def rewriting(conn: Connection, table: sa.Table, ids: sa.Select | sa.CompoundSelect) -> Iterator[None]:
    """Around statements that write only rows of `table` whose ids `ids` selects (the same ids
    before and after: e.g. a temporary table's): their rows are counted out before and in after."""
    count_ids(conn, table, ids, -1)
    yield
    count_ids(conn, table, ids, +1)


def delete(conn: Connection, table: sa.Table, where: sa.ColumnElement[bool]) -> int:
    """Deletes the rows of the message table `table` where `where` holds, counting them out; returns
    how many were deleted. Call `settle` before the commit."""
    count_rows(conn, table, sa.select(table).where(where), -1)
    return conn.execute(sa.delete(table).where(where)).rowcount


def settle(conn: Connection) -> None:
    """Adds the counts noted on this connection to the hourly tables: the stored groups of each hour
    they touch and the changes are summed again, groups left at zero dropped. Call before the commit."""
    if not writes_counts(conn):
        return
    noted = _noted(conn)
    for table, tables in HOURLY_OF.items():
        for hourly in tables:
            change = _change_table(hourly)
            if change.name in noted:
                _merge(conn, hourly, change, TIME_COLUMN[table])
                conn.execute(sa.delete(change))


def _merge(conn: Connection, hourly: sa.Table, change: sa.Table, time_column: str) -> None:
    low, high = conn.execute(sa.select(sa.func.min(change.c[time_column]), sa.func.max(change.c[time_column]))).one()
    if low is None:
        return
    # The bounds let DuckDB skip the stored blocks of other hours (zone maps) before the hours' list.
    hour = hourly.c[time_column]
    touched = sa.and_(hour.between(low, high), hour.in_(sa.select(change.c[time_column]).distinct()))
    both = sa.union_all(sa.select(hourly).where(touched), sa.select(change)).subquery("counted")
    keys = [both.c[c.name] for c in hourly.columns if c.name not in _SUMS]
    sums = [sa.func.sum(both.c[name]).label(name) for name in _SUMS if name in hourly.c]
    merged = _temporary(f"{hourly.name}_merged", hourly)
    merged.create(conn)
    try:
        conn.execute(merged.insert().from_select(
            [c.name for c in hourly.columns],
            sa.select(*keys, *sums).group_by(*keys).having(sa.func.sum(both.c.messages) != 0),
        ))
        conn.execute(sa.delete(hourly).where(touched))
        conn.execute(hourly.insert().from_select([c.name for c in hourly.columns], sa.select(merged)))
    finally:
        merged.drop(conn)


def rebuild(conn: Connection) -> None:
    """Counts every hour again from the messages, dropping any change noted (after a bulk load that
    wrote millions of rows)."""
    if not writes_counts(conn):
        return
    noted = _noted(conn)
    for table, tables in HOURLY_OF.items():
        message_table = mt_message if table == mt_message.name else mo_message
        for hourly in tables:
            conn.execute(sa.delete(hourly))
            grouped = _grouped(hourly, TIME_COLUMN[table], message_table, 1)
            conn.execute(hourly.insert().from_select([c.name for c in grouped.selected_columns],
                                                     grouped.order_by(sa.literal_column("1"))))
            if _change_table(hourly).name in noted:
                conn.execute(sa.delete(_change_table(hourly)))
