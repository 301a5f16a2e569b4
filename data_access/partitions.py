"""PostgreSQL: the message tables are split into monthly partitions by their time column (migration
0011), so a search of a month reads that month's partition and its indexes only.

A partition's range is one calendar month in UTC. Rows of a month with no partition of its own land in
the table's default partition; `ensure_months` gives months their partition (moving any rows the
default holds for them) before large writes (the demo load), and the ingest does it for the current
and next month at its first batch of each month in a process, so live data lands in a partition of
its own. DuckDB has no partitions:
every function here is a no-op there.

`message_id` stays unique: the primary key of a partitioned table must hold the partition key, so it is
(message_id, time); each writer replaces a message's row by deleting the id and inserting it again in
one transaction (ingest under its advisory lock), so an id never has two rows.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection

# Partitioned table -> its time column (the partition key).
PARTITIONED = {"mt_message": "sent_at", "mo_message": "received_at"}


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_{month.year:04d}_{month.month:02d}"


def default_partition(table: str) -> str:
    return f"{table}_default"


def is_partitioned(conn: Connection, table: str) -> bool:
    """True on PostgreSQL when `table` is a partitioned table (migration 0011 ran)."""
    if conn.dialect.name != "postgresql":
        return False
    return bool(conn.execute(
        sa.text("SELECT EXISTS (SELECT FROM pg_partitioned_table WHERE partrelid = to_regclass(:t))"), {"t": table}
    ).scalar_one())


def _utc(month: date) -> str:
    return datetime(month.year, month.month, 1, tzinfo=timezone.utc).isoformat()


def _exists(conn: Connection, name: str) -> bool:
    return conn.execute(sa.text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name}).scalar_one()


def ensure_months(conn: Connection, first: date, last: date) -> list[str]:
    """Gives every month from `first`'s to `last`'s its partition in each partitioned table (and each
    table its default partition); returns the partitions made. Rows the default partition held for a
    new month are moved into it. No-op on DuckDB and on tables that are not partitioned."""
    made: list[str] = []
    for table, column in PARTITIONED.items():
        if not is_partitioned(conn, table):
            continue
        if not _exists(conn, default_partition(table)):
            conn.exec_driver_sql(f"CREATE TABLE {default_partition(table)} PARTITION OF {table} DEFAULT")
            made.append(default_partition(table))
        month = month_start(first)
        while month <= last:
            name = partition_name(table, month)
            if not _exists(conn, name):
                _add_month(conn, table, column, month, name)
                made.append(name)
            month = next_month(month)
    return made


def _add_month(conn: Connection, table: str, column: str, month: date, name: str) -> None:
    """A partition for `month`: created empty, filled with what the default partition held of the
    month (moved, not through the parent: the pre-aggregation's triggers see no change), attached."""
    start, end = _utc(month), _utc(next_month(month))
    default = default_partition(table)
    conn.exec_driver_sql(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    conn.exec_driver_sql(
        f"WITH moved AS (DELETE FROM {default} WHERE {column} >= %(start)s AND {column} < %(end)s RETURNING *) "
        f"INSERT INTO {name} SELECT * FROM moved",
        {"start": start, "end": end},
    )
    conn.exec_driver_sql(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ('{start}') TO ('{end}')")


# (database, month) whose partitions this process has made or found: the catalog is asked once a
# month per database, not at every batch. A batch rolled back after making them leaves the month's
# rows to the default partition until a later `ensure_months` moves them: the same figures either way.
_ENSURED: set[tuple[str, date]] = set()


def ensure_current(conn: Connection, today: date | None = None) -> list[str]:
    """The partitions of the current and the next month (UTC), for live writes."""
    month = month_start(today or datetime.now(timezone.utc).date())
    key = (conn.engine.url.render_as_string(hide_password=True), month)
    if key in _ENSURED:
        return []
    made = ensure_months(conn, month, next_month(month))
    _ENSURED.add(key)
    return made


def upsert_lowest_record(conn: Connection, table: sa.Table, staged: sa.TableClause) -> None:
    """The partitioned table's form of `INSERT ... ON CONFLICT (message_id) DO UPDATE ... WHERE
    excluded.record_id < stored.record_id` (the key holds the time, so no conflict on the id alone):
    in one statement, stored rows whose id has a staged record with a lower hash are deleted and
    inserted again with the staged values (their other columns kept), and staged ids not stored are
    inserted. Writers run it under the ingest lock, as every message write."""
    replaced = (
        sa.delete(table)
        .where(table.c.message_id == staged.c.message_id, staged.c.record_id < table.c.record_id)
        .returning(*table.columns)
        .cte("replaced")
    )
    staged_names = {c.name for c in staged.columns}
    values = [(staged.c[c.name] if c.name in staged_names else replaced.c[c.name]).label(c.name) for c in table.columns]
    stored = table.alias("stored")
    rows = (
        sa.select(*values)
        .select_from(staged.outerjoin(replaced, replaced.c.message_id == staged.c.message_id))
        # The statement's snapshot still sees the replaced rows: those are inserted again.
        .where(sa.or_(replaced.c.message_id.is_not(None),
                      ~sa.exists().where(stored.c.message_id == staged.c.message_id)))
    )
    conn.execute(sa.insert(table).from_select([c.name for c in table.columns], rows).add_cte(replaced))
