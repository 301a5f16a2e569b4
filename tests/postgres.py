"""Throwaway PostgreSQL databases on the server `make test` starts (TEST_POSTGRES_URL), for the tests
and the benchmark."""
import os
import uuid
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import make_url

NO_SERVER = "TEST_POSTGRES_URL is not set: run `make test` (or `make bench`), which starts PostgreSQL"


def new_postgres_database() -> tuple[str, Callable[[], None]]:
    """A fresh empty database: its URL and a function that drops it."""
    admin_text = os.environ.get("TEST_POSTGRES_URL")
    if not admin_text:
        raise RuntimeError(NO_SERVER)
    admin_url = make_url(admin_text)
    name = f"test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop
