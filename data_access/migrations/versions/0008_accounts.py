"""Accounts, roles and subaccount scope, API tokens, web sessions, sign-in attempts, the audit log,
the business-number -> subaccount mapping, the business number of each MO and shared saved searches
(SPEC section 9).

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)

INDEXES = {
    "ix_sign_in_attempt_email_at": ("sign_in_attempt", ["email", "attempted_at"]),
    "ix_sign_in_attempt_address_at": ("sign_in_attempt", ["address", "attempted_at"]),
    "ix_audit_log_logged_at": ("audit_log", ["logged_at"]),
}


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("email", sa.String, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("password_hash", sa.String),
        sa.Column("totp_secret", sa.String),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.create_table(
        "account_subaccount",
        sa.Column("email", sa.String, primary_key=True),
        sa.Column("subaccount", sa.String, primary_key=True),
    )
    op.create_table(
        "account_ip_allow",
        sa.Column("email", sa.String, primary_key=True),
        sa.Column("cidr", sa.String(64), primary_key=True),
    )
    op.create_table(
        "api_token",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("revoked_at", Timestamp),
    )
    op.create_table(
        "api_token_subaccount",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("subaccount", sa.String, primary_key=True),
    )
    op.create_table(
        "web_session",
        sa.Column("session_hash", sa.String(64), primary_key=True),
        sa.Column("email", sa.String, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.Column("ended_at", Timestamp),
    )
    op.create_table(
        "sign_in_attempt",
        sa.Column("attempt_id", sa.String(36), primary_key=True),
        sa.Column("email", sa.String, nullable=False),
        sa.Column("address", sa.String(64)),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("attempted_at", Timestamp, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("entry_id", sa.String(36), primary_key=True),
        sa.Column("logged_at", Timestamp, nullable=False),
        sa.Column("actor", sa.String, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("address", sa.String(64)),
    )
    op.create_table(
        "business_number",
        sa.Column("number", sa.String, primary_key=True),
        sa.Column("subaccount", sa.String, nullable=False),
    )
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)
    op.add_column("mo_message", sa.Column("business_number", sa.String))
    op.add_column("saved_search", sa.Column("shared", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("saved_search", "shared")
    op.drop_column("mo_message", "business_number")
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
    for table in ("business_number", "audit_log", "sign_in_attempt", "web_session", "api_token_subaccount",
                  "api_token", "account_ip_allow", "account_subaccount", "account"):
        op.drop_table(table)
