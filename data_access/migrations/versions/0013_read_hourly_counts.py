"""PostgreSQL: the read MTs counted per UTC hour sent, UTC hour read and time-to-read buckets, kept by
triggers like the hourly counts of 0011.

`mt_read_hourly` counts the MTs that have a read time per (hour of `sent_at`, hour of `read_at`, the
delivered -> read bucket, the sent -> read bucket) and per value of every column `mt_hourly` counts by,
so any search the hourly counts answer (`data_access.hourly`) gets its time-to-read buckets and its
weekday x hour of reads from a few hundred thousand groups for a month of 10M rows instead of millions
of rows (`data_access.insights`). The buckets are those of `data_access.insights.READ_BUCKET_BOUNDS_S`,
computed by the same arithmetic. Statement triggers on `mt_message` add each statement's new read rows
and take away its old ones, in the writer's transaction; the migration fills it from the rows present.

DuckDB: no change.

Revision ID: 0013
Revises: 0012
"""
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLE = "mt_read_hourly"
# The columns `mt_hourly` counts by (migration 0011), with their types there.
KEYS = {
    "subaccount": "varchar",
    "user_name": "varchar",
    "campaign": "varchar",
    "content_type": "varchar(16)",
    "sent_with_session": "boolean",
    "status": "varchar(24)",
    "error_code": "varchar",
    "error_title": "text",
    "conversation_type": "varchar(24)",
}
# Upper bounds (seconds, exclusive) of the buckets: data_access.insights.READ_BUCKET_BOUNDS_S, written
# out because a migration keeps the schema of its day.
BOUNDS_S = (60, 5 * 60, 15 * 60, 60 * 60, 6 * 3600, 24 * 3600)


def _bucket(start: str) -> str:
    """SQL of a row's bucket of the wait from `start` to `read_at` (NULL when `start` is): a read stamped
    before `start` counts as immediate, as `data_access.insights._seconds_between` does."""
    seconds = f"CAST(EXTRACT(epoch FROM read_at) - EXTRACT(epoch FROM {start}) AS DOUBLE PRECISION)"
    whens = " ".join(f"WHEN {seconds} < {bound} THEN {n}" for n, bound in enumerate(BOUNDS_S))
    return f"CASE WHEN {start} IS NULL THEN NULL {whens} ELSE {len(BOUNDS_S)} END"


GROUPS = {
    "sent_at": "date_trunc('hour', sent_at, 'UTC')",
    "read_at": "date_trunc('hour', read_at, 'UTC')",
    "delivered_to_read": _bucket("delivered_at"),
    "sent_to_read": _bucket("sent_at"),
    **{key: key for key in KEYS},
}


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _counted(rows: str, sign: str) -> str:
    values = ", ".join(f"{sql} AS {name}" for name, sql in GROUPS.items())
    return (
        f"SELECT {values}, {sign} * count(*) AS messages FROM {rows} WHERE read_at IS NOT NULL "
        f"GROUP BY {', '.join(str(n + 1) for n in range(len(GROUPS)))}"
    )


def _upsert(select: str) -> str:
    names = ", ".join(GROUPS)
    return (
        f"INSERT INTO {TABLE} ({names}, messages) {select} "
        f"ON CONFLICT ({names}) DO UPDATE SET messages = {TABLE}.messages + excluded.messages"
    )


def upgrade() -> None:
    # Nothing where the hourly counts of 0011 were dropped (before distributing with Citus: README).
    if not _postgres() or not op.get_bind().exec_driver_sql("SELECT to_regclass('mt_hourly') IS NOT NULL").scalar():
        return
    columns = [
        "sent_at timestamptz NOT NULL",
        "read_at timestamptz NOT NULL",
        "delivered_to_read smallint",
        "sent_to_read smallint NOT NULL",
        *(f"{key} {kind}" for key, kind in KEYS.items()),
        "messages bigint NOT NULL",
    ]
    op.execute(f"CREATE TABLE {TABLE} ({', '.join(columns)})")
    op.execute(f"CREATE UNIQUE INDEX {TABLE}_key ON {TABLE} ({', '.join(GROUPS)}) NULLS NOT DISTINCT")
    op.execute(f"CREATE INDEX {TABLE}_campaign ON {TABLE} (campaign, sent_at)")
    op.execute(_upsert(_counted("mt_message", "1")))
    # Groups left at zero are removed (from the hours sent the statement touched), so every stored
    # group counts at least one message.
    dropped_zeros = (
        f"DELETE FROM {TABLE} WHERE messages = 0 AND sent_at IN "
        f"(SELECT DISTINCT date_trunc('hour', sent_at, 'UTC') FROM old_rows WHERE read_at IS NOT NULL)"
    )
    bodies = {
        "insert": ("REFERENCING NEW TABLE AS new_rows", [_upsert(_counted("new_rows", "1"))]),
        "delete": ("REFERENCING OLD TABLE AS old_rows", [_upsert(_counted("old_rows", "-1")), dropped_zeros]),
        "update": (
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
            [_upsert(_counted("old_rows", "-1")), _upsert(_counted("new_rows", "1")), dropped_zeros],
        ),
        "truncate": ("", [f"DELETE FROM {TABLE}"]),
    }
    for event, (referencing, statements) in bodies.items():
        op.execute(
            f"CREATE FUNCTION {TABLE}_{event}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            + "; ".join(statements)
            + "; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_{event} AFTER {event.upper()} ON mt_message {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_{event}()"
        )
    op.execute(f"ANALYZE {TABLE}")


def downgrade() -> None:
    if not _postgres():
        return
    for event in ("insert", "delete", "update", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{event} ON mt_message")
        op.execute(f"DROP FUNCTION IF EXISTS {TABLE}_{event}()")
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")  # dropped before distributing with Citus (README)
