"""Bulk paths: appending an Arrow table to a database table through each engine's own (for the
ingest's staging tables and the demo loader's rows), and running a statement over the rows of many
ids (`for_ids`).

DuckDB reads the table registered as a view (INSERT ... SELECT, spread over its threads; the rows are
copied, so later queries never call back into Python). PostgreSQL takes it as CSV through
COPY FROM STDIN, written by pyarrow in batches (a null is an empty field, an empty text `""`).
"""
import io
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlalchemy as sa
from sqlalchemy.engine import Connection

CSV_BATCH_ROWS = 100_000
_VIEW = "bulk_arrow"
# Ids looked up by value in statements of at most LOOKUP_CHUNK values each, when there are at most
# LOOKUP_MAX of them: DuckDB answers such a list from the primary key's index (its
# `index_scan_max_count` is 2,048) instead of scanning every stored id; more ids are joined.
LOOKUP_CHUNK = 2_048
LOOKUP_MAX = 4 * LOOKUP_CHUNK


def append(conn: Connection, table: str, data: pa.Table) -> None:
    """Adds the rows of `data` to `table`, column by column name, in the connection's transaction."""
    if not data.num_rows:
        return
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in data.column_names)
    raw = conn.connection.driver_connection
    if conn.dialect.name == "duckdb":
        raw.register(_VIEW, data)
        try:
            raw.execute(f"INSERT INTO {quote(table)} ({columns}) SELECT {columns} FROM {_VIEW}")
        finally:
            raw.unregister(_VIEW)
        return
    options = pa_csv.WriteOptions(include_header=False)
    with raw.cursor() as cursor, cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN (FORMAT csv)") as copy:
        for batch in data.to_batches(max_chunksize=CSV_BATCH_ROWS):
            buffer = io.BytesIO()
            pa_csv.write_csv(batch, buffer, options)
            copy.write(buffer.getbuffer())


def for_ids(conn: Connection, key: sa.ColumnElement, ids: sa.Select | sa.CompoundSelect,
            run: Callable[[sa.ColumnElement[bool]], Any]) -> None:
    """Calls `run(condition)` (which runs statements on `conn`) for the rows whose `key` is one of the
    ids `ids` selects. A few ids are given by value, `LOOKUP_CHUNK` at a time, which the primary key's
    index answers (DuckDB then reads only the rows found); more are given as the subquery, a join
    that scans the keys."""
    few = conn.execute(ids.limit(LOOKUP_MAX + 1)).scalars().all()
    if len(few) > LOOKUP_MAX:
        run(key.in_(ids))
        return
    for start in range(0, len(few), LOOKUP_CHUNK):
        run(key.in_(few[start:start + LOOKUP_CHUNK]))
