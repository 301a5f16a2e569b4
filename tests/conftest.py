"""Shared fixtures: a real database on each engine, fresh for every test.

DuckDB: a file in the test's temporary folder. PostgreSQL: a new database on the server that
`make test` starts (`.ci/with-postgres` sets TEST_POSTGRES_URL). Without that server the PostgreSQL
half fails with a message saying how to run it: it is never skipped.
"""
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from data_access.engine import open_database

ENGINES = ("duckdb", "postgresql")
OUTPUT_DIR = Path(__file__).resolve().parent.parent / "test-output"


def _postgres_admin_url() -> str:
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.fail("TEST_POSTGRES_URL is not set: run the suite with `make test`, which starts PostgreSQL")
    return url


def new_postgres_database() -> tuple[str, callable]:
    """A fresh empty PostgreSQL database: its URL and a function that drops it."""
    admin_url = make_url(_postgres_admin_url())
    name = f"test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    url = admin_url.set(database=name).render_as_string(hide_password=False)
    return url, drop


@pytest.fixture(params=ENGINES)
def db_url(request, tmp_path) -> Iterator[str]:
    """The URL of an empty database, once per engine."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'report.duckdb'}"
        return
    url, drop = new_postgres_database()
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def engine(db_url) -> Iterator[Engine]:
    """An engine on a migrated, empty database, once per engine."""
    eng = open_database(db_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def output_dir() -> Path:
    """Where tests keep what a person may want to look at (screenshots, exported files)."""
    OUTPUT_DIR.mkdir(exist_ok=True)
    return OUTPUT_DIR
