"""Data version row for cache checks; PostgreSQL indexes for the report's filters.

DuckDB gets no secondary index: it prunes by zone maps on rows stored in time order, and its ART
indexes slow bulk loads without speeding range scans (see PERF_NOTES in BENCHMARKS.md).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

POSTGRES_INDEXES = {
    "ix_mt_sent_at_status": ("mt_message", ["sent_at", "status"]),
    "ix_mt_campaign_sent_at": ("mt_message", ["campaign", "sent_at", "status"]),
    "ix_mt_subaccount_sent_at": ("mt_message", ["subaccount", "sent_at"]),
    "ix_mt_phone_sent_at": ("mt_message", ["phone", "sent_at"]),
    "ix_mt_wa_user_id": ("mt_message", ["wa_user_id"]),
    "ix_mt_correlation_id": ("mt_message", ["correlation_id"]),
    "ix_mt_conversation_id": ("mt_message", ["conversation_id"]),
    "ix_mo_received_at": ("mo_message", ["received_at"]),
    "ix_mo_campaign_received_at": ("mo_message", ["campaign", "received_at"]),
    "ix_mo_phone_received_at": ("mo_message", ["phone", "received_at"]),
    "ix_mo_in_reply_to": ("mo_message", ["in_reply_to"]),
}


def upgrade() -> None:
    data_version = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(data_version.insert().values(id=1, version=0, changed_at=sa.func.now()))
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, columns) in POSTGRES_INDEXES.items():
            op.create_index(name, table, columns)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, _columns) in POSTGRES_INDEXES.items():
            op.drop_index(name, table_name=table)
    op.drop_table("data_version")
