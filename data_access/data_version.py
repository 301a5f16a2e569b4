"""A counter every writer (demo, ingest) bumps in the same transaction as its rows, so readers can
tell cheaply whether cached figures are stale (SPEC section 7)."""
from datetime import datetime, timezone

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


def state(conn: Connection) -> tuple[int, datetime]:
    """The version and when the data last changed (UTC)."""
    version, changed_at = conn.execute(
        sa.select(data_version.c.version, data_version.c.changed_at).where(data_version.c.id == 1)
    ).one()
    return version, changed_at if changed_at.tzinfo else changed_at.replace(tzinfo=timezone.utc)
