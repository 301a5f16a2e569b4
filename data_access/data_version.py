"""A counter every writer (demo, ingest) bumps in the same transaction as its rows, so readers can
tell cheaply whether cached figures are stale (SPEC section 7)."""
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from data_access.schema import data_version


def bump(conn: Connection) -> None:
    conn.execute(
        data_version.update()
        .where(data_version.c.id == 1)
        .values(version=data_version.c.version + 1, changed_at=sa.func.now())
    )


def current(conn: Connection) -> int:
    return conn.execute(sa.select(data_version.c.version).where(data_version.c.id == 1)).scalar_one()
