"""Appending an Arrow table to a database table through each engine's bulk path, for the ingest's
staging tables and the demo loader's rows.

DuckDB reads the table registered as a view (INSERT ... SELECT, spread over its threads; the rows are
copied, so later queries never call back into Python). PostgreSQL takes it as CSV through
COPY FROM STDIN, written by pyarrow in batches (a null is an empty field, an empty text `""`).
"""
import io

import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy.engine import Connection

CSV_BATCH_ROWS = 100_000
_VIEW = "bulk_arrow"


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
