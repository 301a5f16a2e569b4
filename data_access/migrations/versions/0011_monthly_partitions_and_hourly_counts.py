"""PostgreSQL: monthly partitions of the message tables, and their hourly counts kept by triggers.

`mt_message` (by `sent_at`) and `mo_message` (by `received_at`) become tables partitioned by month
(UTC), one partition per month holding rows in the last three years, the current month and three
ahead, plus a default partition for any other time; the rows are
carried over and every index is made again on the partitioned table. A partitioned table's primary key
must hold its partition key, so the key becomes (message_id, time): an id still has one row, since every
writer replaces a message's row by deleting its id and inserting it again (see
`data_access.partitions`).

`mt_hourly` and `mo_hourly` count the messages per UTC hour and per value of every column a search can
filter the figures by (`mt_hourly_status`: by subaccount and status only, for the broad searches); the report reads them instead of the messages when a search uses only those
columns and whole hours (`data_access.hourly`). Statement triggers on the message tables add each
statement's new rows and take away its old ones, in the writer's transaction, whatever the writer
(ingest fold, reply flags, demo load); the migration fills them from the rows present.

DuckDB: no change (its scans answer the same searches in tens of milliseconds at 10M rows).

Revision ID: 0011
Revises: 0010
"""
from datetime import date, datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

PARTITIONED = {"mt_message": "sent_at", "mo_message": "received_at"}
MONTHS_AHEAD = 3
# A month of the last MONTHS_BACK that holds rows gets its partition; older (or stray, far-future) rows
# stay in the default partition, so one odd timestamp does not make hundreds of partitions.
MONTHS_BACK = 36

# Hourly table -> (message table, time column, the columns counted by, the sums: name -> SQL of a row).
HOURLY = {
    "mt_hourly": (
        "mt_message",
        "sent_at",
        ("subaccount", "user_name", "campaign", "content_type", "sent_with_session", "status", "error_code",
         "error_title", "conversation_type"),
        {"messages": "1", "replied": "CASE WHEN replied THEN 1 ELSE 0 END"},
    ),
    # The same counts by fewer columns: a month of the broad searches (all messages, a subaccount's)
    # in a few thousand groups.
    "mt_hourly_status": (
        "mt_message",
        "sent_at",
        ("subaccount", "status", "error_code", "error_title"),
        {"messages": "1", "replied": "CASE WHEN replied THEN 1 ELSE 0 END"},
    ),
    "mo_hourly": (
        "mo_message",
        "received_at",
        ("subaccount", "business_number", "user_name", "campaign", "template_name", "content_type", "button_text",
         "clicked"),
        {"messages": "1"},
    ),
}
COLUMN_TYPES = {
    "sent_with_session": "boolean",
    "clicked": "boolean",
    "status": "varchar(24)",
    "content_type": "varchar(16)",
    "conversation_type": "varchar(24)",
    "error_title": "text",
}
# A row's value of a counted column that is not a column of the message table.
COMPUTED = {"clicked": "(button_payload IS NOT NULL)"}
# Indexes beside each hourly table's key (which leads with the hour).
HOURLY_INDEXES = {"mt_hourly": ("campaign", "sent_at"), "mo_hourly": ("content_type", "received_at")}


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    for table, column in PARTITIONED.items():
        _partition(table, column)
    for hourly in HOURLY:
        _create_hourly(hourly)


def downgrade() -> None:
    if not _postgres():
        return
    for hourly, (table, *_rest) in reversed(HOURLY.items()):
        for event in ("insert", "delete", "update", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {hourly}_{event} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {hourly}_{event}()")
        op.execute(f"DROP TABLE {hourly}")
    for table in PARTITIONED:
        _unpartition(table)


# -- partitions -----------------------------------------------------------------------------------


def _index_definitions(table: str) -> dict[str, str]:
    """The table's indexes but its primary key, as CREATE INDEX statements for the plain table name."""
    rows = op.get_bind().execute(
        sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = :t"),
        {"t": table},
    ).all()
    return {name: sql.replace(" ON ONLY ", " ON ") for name, sql in rows if name != f"{table}_pkey"}


def _month(value: datetime | None) -> date | None:
    return None if value is None else value.astimezone(timezone.utc).date().replace(day=1)


def _next(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _utc(month: date) -> str:
    return datetime(month.year, month.month, 1, tzinfo=timezone.utc).isoformat()


def _move_aside(table: str) -> tuple[str, dict[str, str]]:
    """Renames the table (and its key) out of the way and drops its other indexes; returns the old
    table's new name and the indexes to make again."""
    indexes = _index_definitions(table)
    old = f"{table}_before_0011"
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    op.execute(f"ALTER INDEX {table}_pkey RENAME TO {old}_pkey")
    for name in indexes:
        op.execute(f"DROP INDEX {name}")
    return old, indexes


def _partition(table: str, column: str) -> None:
    old, indexes = _move_aside(table)
    op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS) PARTITION BY RANGE ({column})")
    op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    now = datetime.now(timezone.utc).date().replace(day=1)
    ahead = [now]
    for _ in range(MONTHS_AHEAD):
        ahead.append(_next(ahead[-1]))
    start = date(now.year - MONTHS_BACK // 12, now.month, 1)
    held = op.get_bind().execute(
        sa.text(f"SELECT DISTINCT date_trunc('month', {column}, 'UTC') FROM {old} WHERE {column} >= :start "
                f"AND {column} < :end"),
        {"start": _utc(start), "end": _utc(_next(ahead[-1]))},
    ).scalars()
    for month in sorted({*(_month(value) for value in held), *ahead}):
        op.execute(
            f"CREATE TABLE {table}_{month.year:04d}_{month.month:02d} PARTITION OF {table} "
            f"FOR VALUES FROM ('{_utc(month)}') TO ('{_utc(_next(month))}')"
        )
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    op.execute(f"DROP TABLE {old}")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (message_id, {column})")
    for sql in indexes.values():
        op.execute(sql)
    op.execute(f"ANALYZE {table}")


def _unpartition(table: str) -> None:
    old, indexes = _move_aside(table)
    op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS)")
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    op.execute(f"DROP TABLE {old}")  # and its partitions
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (message_id)")
    for sql in indexes.values():
        op.execute(sql)
    op.execute(f"ANALYZE {table}")


# -- hourly counts --------------------------------------------------------------------------------


def _counted(hourly: str, rows: str, sign: str) -> str:
    """SELECT of the hourly counts of `rows` (a table or transition table), each sum times `sign`."""
    _table, column, keys, sums = HOURLY[hourly]
    values = [f"{COMPUTED.get(k, k)} AS {k}" for k in keys]
    measured = [f"{sign} * sum({sql}) AS {name}" for name, sql in sums.items()]
    return (
        f"SELECT date_trunc('hour', {column}, 'UTC') AS {column}, {', '.join(values)}, {', '.join(measured)} "
        f"FROM {rows} GROUP BY 1, {', '.join(str(n + 2) for n in range(len(keys)))}"
    )


def _upsert(hourly: str, select: str) -> str:
    _table, column, keys, sums = HOURLY[hourly]
    names = [column, *keys, *sums]
    added = ", ".join(f"{name} = {hourly}.{name} + excluded.{name}" for name in sums)
    return (
        f"INSERT INTO {hourly} ({', '.join(names)}) {select} "
        f"ON CONFLICT ({', '.join([column, *keys])}) DO UPDATE SET {added}"
    )


def _create_hourly(hourly: str) -> None:
    table, column, keys, sums = HOURLY[hourly]
    types = dict(
        op.get_bind().execute(
            sa.text(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = to_regclass(:t) AND attnum > 0 AND NOT attisdropped"
            ),
            {"t": table},
        ).all()
    )
    defined = [f"{column} timestamptz NOT NULL"]
    defined += [f"{k} {COLUMN_TYPES.get(k) or types[k]}" for k in keys]
    defined += [f"{name} bigint NOT NULL" for name in sums]
    op.execute(f"CREATE TABLE {hourly} ({', '.join(defined)})")
    op.execute(f"CREATE UNIQUE INDEX {hourly}_key ON {hourly} ({column}, {', '.join(keys)}) NULLS NOT DISTINCT")
    if hourly in HOURLY_INDEXES:
        op.execute(f"CREATE INDEX {hourly}_{HOURLY_INDEXES[hourly][0]} ON {hourly} ({', '.join(HOURLY_INDEXES[hourly])})")
    op.execute(_upsert(hourly, _counted(hourly, table, "1")))
    # The statement's old rows are taken away and its new rows added; groups left at zero are removed
    # (from the hours the statement touched), so every stored group counts at least one message.
    dropped_zeros = (
        f"DELETE FROM {hourly} WHERE messages = 0 AND {column} IN "
        f"(SELECT DISTINCT date_trunc('hour', {column}, 'UTC') FROM old_rows)"
    )
    bodies = {
        "insert": ("REFERENCING NEW TABLE AS new_rows", [_upsert(hourly, _counted(hourly, "new_rows", "1"))]),
        "delete": (
            "REFERENCING OLD TABLE AS old_rows",
            [_upsert(hourly, _counted(hourly, "old_rows", "-1")), dropped_zeros],
        ),
        "update": (
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
            [
                _upsert(hourly, _counted(hourly, "old_rows", "-1")),
                _upsert(hourly, _counted(hourly, "new_rows", "1")),
                dropped_zeros,
            ],
        ),
        "truncate": ("", [f"DELETE FROM {hourly}"]),
    }
    for event, (referencing, statements) in bodies.items():
        op.execute(
            f"CREATE FUNCTION {hourly}_{event}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            + "; ".join(statements)
            + "; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {hourly}_{event} AFTER {event.upper()} ON {table} {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {hourly}_{event}()"
        )
