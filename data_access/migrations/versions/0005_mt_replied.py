"""`mt_message.replied`: some MO answers the MT; filled from the stored MOs.

The reply count was a semi-join of the search's MTs with every MO's `in_reply_to` (150-320 ms at
10M rows); with the flag it is one more sum of the report's single scan.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mt_message", sa.Column("replied", sa.Boolean, nullable=False, server_default=sa.false()))
    mt = sa.table("mt_message", sa.column("message_id"), sa.column("replied"))
    mo = sa.table("mo_message", sa.column("in_reply_to"))
    answered = sa.select(mo.c.in_reply_to).where(mo.c.in_reply_to.is_not(None))
    op.execute(sa.update(mt).values(replied=True).where(mt.c.message_id.in_(answered)))


def downgrade() -> None:
    op.drop_column("mt_message", "replied")
