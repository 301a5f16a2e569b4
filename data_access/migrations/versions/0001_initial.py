"""Messages (MT, MO), raw payloads, rejected records, saved searches.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mt_message",
        sa.Column("message_id", sa.String, primary_key=True),
        sa.Column("sent_at", Timestamp, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("status_raw", sa.String),
        sa.Column("status_at", Timestamp),
        sa.Column("delivered_at", Timestamp),
        sa.Column("read_at", Timestamp),
        sa.Column("failed_at", Timestamp),
        sa.Column("error_code", sa.String),
        sa.Column("error_title", sa.Text),
        sa.Column("error_detail", sa.Text),
        sa.Column("phone", sa.String(16)),
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
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("has_send_log", sa.Boolean, nullable=False),
    )
    op.create_table(
        "mo_message",
        sa.Column("message_id", sa.String, primary_key=True),
        sa.Column("received_at", Timestamp, nullable=False),
        sa.Column("phone", sa.String(16)),
        sa.Column("wa_user_id", sa.String),
        sa.Column("profile_name", sa.String),
        sa.Column("subaccount", sa.String),
        sa.Column("user_name", sa.String),
        sa.Column("campaign", sa.String),
        sa.Column("template_name", sa.String),
        sa.Column("in_reply_to", sa.String),
        sa.Column("content_type", sa.String(16), nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("button_payload", sa.String),
        sa.Column("button_text", sa.String),
        sa.Column("referral", sa.Text),
        sa.Column("source", sa.String(16), nullable=False),
    )
    op.create_table(
        "raw_payload",
        sa.Column("payload_id", sa.String(64), primary_key=True),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("file", sa.String),
        sa.Column("line", sa.Integer),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("ingested_at", Timestamp, nullable=False),
    )
    op.create_table(
        "rejected_record",
        sa.Column("reject_id", sa.String(64), primary_key=True),
        sa.Column("file", sa.String),
        sa.Column("line", sa.Integer),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("body", sa.Text),
        sa.Column("rejected_at", Timestamp, nullable=False),
    )
    op.create_table(
        "saved_search",
        sa.Column("search_id", sa.String(36), primary_key=True),
        sa.Column("owner", sa.String, nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("view", sa.String(2), nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.UniqueConstraint("owner", "name", name="uq_saved_search_owner_name"),
    )


def downgrade() -> None:
    for table in ("saved_search", "rejected_record", "raw_payload", "mo_message", "mt_message"):
        op.drop_table(table)
