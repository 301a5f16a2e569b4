"""Ingest: status events and send-log records kept apart, MO attribution columns.

`mt_event` holds every normalised status event once (keyed by a hash of its content) and
`mt_send_log` the send-log record of each MT; `mt_message` rows are recomputed from both, which is
what makes ingest idempotent and independent of arrival order. `mo_message` gains the id the MO
says it answers (`context_id`), how it was attributed (`attribution`: context | window) and the
hash of the record it was built from (`record_id`, the lowest one wins when two differ).

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)

POSTGRES_INDEXES = {
    "ix_mt_event_message_id": ("mt_event", ["message_id"]),
    "ix_mo_context_id": ("mo_message", ["context_id"]),
    "ix_mo_wa_user_id_received_at": ("mo_message", ["wa_user_id", "received_at"]),
}


def upgrade() -> None:
    op.create_table(
        "mt_event",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("message_id", sa.String, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("status_raw", sa.String),
        sa.Column("event_at", Timestamp, nullable=False),
        sa.Column("error_code", sa.String),
        sa.Column("error_title", sa.Text),
        sa.Column("error_detail", sa.Text),
        sa.Column("phone", sa.String(16)),
        sa.Column("wa_user_id", sa.String),
        sa.Column("subaccount", sa.String),
        sa.Column("user_name", sa.String),
        sa.Column("campaign", sa.String),
        sa.Column("correlation_id", sa.String),
        sa.Column("conversation_id", sa.String),
        sa.Column("conversation_type", sa.String(24)),
        sa.Column("conversation_type_raw", sa.String),
        sa.Column("conversation_expires_at", Timestamp),
        sa.Column("pricing_category", sa.String),
        sa.Column("pricing_type", sa.String),
    )
    op.create_table(
        "mt_send_log",
        sa.Column("message_id", sa.String, primary_key=True),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("sent_at", Timestamp, nullable=False),
        sa.Column("phone", sa.String(16), nullable=False),
        sa.Column("wa_user_id", sa.String),
        sa.Column("subaccount", sa.String),
        sa.Column("user_name", sa.String),
        sa.Column("campaign", sa.String),
        sa.Column("content_type", sa.String(16), nullable=False),
        sa.Column("template_name", sa.String),
        sa.Column("message", sa.Text),
        sa.Column("sent_with_session", sa.Boolean),
        sa.Column("correlation_id", sa.String),
        sa.Column("conversation_id", sa.String),
        sa.Column("conversation_type", sa.String(24)),
        sa.Column("conversation_type_raw", sa.String),
        sa.Column("conversation_expires_at", Timestamp),
        sa.Column("pricing_category", sa.String),
        sa.Column("pricing_type", sa.String),
    )
    op.add_column("mo_message", sa.Column("context_id", sa.String))
    op.add_column("mo_message", sa.Column("attribution", sa.String(8)))
    op.add_column("mo_message", sa.Column("record_id", sa.String(64)))
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, columns) in POSTGRES_INDEXES.items():
            op.create_index(name, table, columns)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, _columns) in POSTGRES_INDEXES.items():
            op.drop_index(name, table_name=table)
    for column in ("record_id", "attribution", "context_id"):
        op.drop_column("mo_message", column)
    op.drop_table("mt_send_log")
    op.drop_table("mt_event")
