"""Ingest: the message ids whose rows wait to be recomputed.

A batch stores its events and records here the MT and MO ids it touched; the rows are recomputed
from everything stored ("folded") at the end of the run, or earlier for long or slow inputs, and
the ids removed. Kept in the database, so that a run that stops early leaves them for the next.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_pending",
        sa.Column("kind", sa.String(2), primary_key=True),  # mt | mo
        sa.Column("message_id", sa.String, primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("ingest_pending")
