"""`account.totp_last_step`: the time step of the last two-step verification code accepted, so a code
cannot be used twice (SPEC section 9). Empty until the account's next sign-in with a code.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("account", sa.Column("totp_last_step", sa.BigInteger))


def downgrade() -> None:
    op.drop_column("account", "totp_last_step")
