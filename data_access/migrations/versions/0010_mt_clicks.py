"""`mt_message.clicks`: the quick-reply clicks the MT received (MOs with a button payload whose
`in_reply_to` names it); filled from the stored MOs.

The Consolidado counts clicks per group of MTs; joining the search's MTs with the MOs' `in_reply_to`
cost three to four times the scan itself at 1M rows. With the count it is one more sum of the
report's single scan, as `replied` is (0005).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mt_message", sa.Column("clicks", sa.Integer, nullable=False, server_default="0"))
    mt = sa.table("mt_message", sa.column("message_id"), sa.column("clicks"))
    mo = sa.table("mo_message", sa.column("in_reply_to"), sa.column("button_payload"))
    per_mt = (
        sa.select(mo.c.in_reply_to.label("mt_id"), sa.func.count().label("n"))
        .where(mo.c.button_payload.is_not(None), mo.c.in_reply_to.is_not(None))
        .group_by(mo.c.in_reply_to)
        .subquery()
    )
    op.execute(sa.update(mt).values(clicks=per_mt.c.n).where(mt.c.message_id == per_mt.c.mt_id))


def downgrade() -> None:
    op.drop_column("mt_message", "clicks")
