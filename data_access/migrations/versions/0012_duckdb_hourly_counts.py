"""DuckDB: the hourly counts of the messages, as PostgreSQL got them in migration 0011.

`mt_hourly`, `mt_hourly_status` and `mo_hourly` count the messages per UTC hour and per value of every
column a search can filter the figures by; the report sums them instead of reading the messages when
a search allows it (`data_access.hourly`). DuckDB has no triggers: every writer of the message tables
keeps them exact in its own transaction (`data_access.hourly.settle`). The migration fills them from
the rows present, ordered by hour so that a search of a month reads that month's blocks.

PostgreSQL: no change (migration 0011 made the tables and their triggers).

Revision ID: 0012
Revises: 0011
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Hourly table -> (message table, time column, the columns counted by with their types, the sums).
HOURLY = {
    "mt_hourly": (
        "mt_message",
        "sent_at",
        {"subaccount": "VARCHAR", "user_name": "VARCHAR", "campaign": "VARCHAR", "content_type": "VARCHAR(16)",
         "sent_with_session": "BOOLEAN", "status": "VARCHAR(24)", "error_code": "VARCHAR", "error_title": "TEXT",
         "conversation_type": "VARCHAR(24)"},
        {"messages": "count(*)", "replied": "count(*) FILTER (WHERE replied)"},
    ),
    "mt_hourly_status": (
        "mt_message",
        "sent_at",
        {"subaccount": "VARCHAR", "status": "VARCHAR(24)", "error_code": "VARCHAR", "error_title": "TEXT"},
        {"messages": "count(*)", "replied": "count(*) FILTER (WHERE replied)"},
    ),
    "mo_hourly": (
        "mo_message",
        "received_at",
        {"subaccount": "VARCHAR", "business_number": "VARCHAR", "user_name": "VARCHAR", "campaign": "VARCHAR",
         "template_name": "VARCHAR", "content_type": "VARCHAR(16)", "button_text": "VARCHAR", "clicked": "BOOLEAN"},
        {"messages": "count(*)"},
    ),
}
# A row's value of a counted column that is not a column of the message table.
COMPUTED = {"clicked": "(button_payload IS NOT NULL)"}


def _duckdb() -> bool:
    return op.get_bind().dialect.name == "duckdb"


def upgrade() -> None:
    if not _duckdb():
        return
    for hourly, (table, column, keys, sums) in HOURLY.items():
        defined = [f"{column} TIMESTAMP WITH TIME ZONE NOT NULL", *(f"{k} {t}" for k, t in keys.items()),
                   *(f"{name} BIGINT NOT NULL" for name in sums)]
        op.execute(f"CREATE TABLE {hourly} ({', '.join(defined)})")
        values = [f"{COMPUTED.get(k, k)} AS {k}" for k in keys]
        # The engine's sessions are in UTC, so the hours are UTC hours.
        op.execute(
            f"INSERT INTO {hourly} SELECT date_trunc('hour', {column}) AS {column}, {', '.join(values)}, "
            f"{', '.join(f'{sql} AS {name}' for name, sql in sums.items())} FROM {table} "
            f"GROUP BY ALL ORDER BY 1"
        )


def downgrade() -> None:
    if not _duckdb():
        return
    for hourly in reversed(HOURLY):
        op.execute(f"DROP TABLE IF EXISTS {hourly}")  # an operator may have dropped it (README)
