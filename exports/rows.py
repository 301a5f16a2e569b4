"""The rows of a search as Arrow record batches, fetched the fast way of each engine, and the form
people read them in.

Fetching (`fetch_batches`) runs `detail_select(filters, columns)`, compiled with bound parameters:
- DuckDB: the compiled SQL and its parameters go to the raw DuckDB connection, read as an Arrow stream
  (optionally a page at a time, see `fetch_batches`);
- PostgreSQL: `COPY (<the compiled SQL>) TO STDOUT` in CSV, its parameters merged by psycopg on the
  client (COPY takes no server-side parameters; psycopg quotes each value with the server's rules),
  parsed by pyarrow's streaming CSV reader.
Both give batches of one schema per view (`detail_schema`): the view's columns, timestamps in UTC.

`localise()` turns a batch into what people read: codes as words of the language, booleans as
Yes/No, timestamps in the report's zone. Everything is vectorised with pyarrow.compute, never per cell.
"""
from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select
from sqlalchemy.engine import Connection

from data_access.columns import detail_select
from data_access.filters import Filters
from data_access.i18n import label, t
from data_access.views import View, view_of

BATCH_ROWS = 65_536  # rows per DuckDB batch
PAGE_ROWS = 131_072  # rows per DuckDB page when memory must stay flat
MIN_LOOK_BACK = timedelta(seconds=1)  # the narrowest window a page's keys are looked for in
COPY_BLOCK_BYTES = 8 << 20  # CSV bytes per PostgreSQL batch (about 30,000 rows)
LABELLED_KINDS = ("status", "content_type", "conversation_type")  # stored codes shown as words

_ARROW_TYPES = {"datetime": pa.timestamp("us", tz="UTC"), "bool": pa.bool_()}


def detail_schema(view: View) -> pa.Schema:
    """The Arrow schema of a view's detail rows as fetched: column keys, UTC timestamps."""
    return pa.schema([(c.key, _ARROW_TYPES.get(c.kind, pa.string())) for c in view.columns])


def fetch_batches(
    conn: Connection, filters: Filters, limit: int | None = None, page_rows: int | None = None
) -> Iterator[pa.RecordBatch]:
    """Every row of the search (or the first `limit`), newest first, as non-empty Arrow batches.

    DuckDB sorts a whole result in the process's memory. With `page_rows` (and always with a `limit`)
    it gets the search a page at a time instead: the keys of the next page from a narrow sorted query
    over a window of time, then the page's rows. Memory then follows the page, not the search, for
    one more query a page (and one more for the search's first and last times and row count).
    PostgreSQL sorts on the server (spilling to disk) and streams the result: one query always.
    """
    view = view_of(filters)
    schema = detail_schema(view)
    everything = detail_select(filters, view.columns)
    if conn.dialect.name == "duckdb":
        size = min((n for n in (page_rows, limit) if n is not None), default=None)
        batches = _duckdb_pages(conn, filters, everything, size, limit) if size else _duckdb_batches(conn, everything)
    else:
        query = everything if limit is None else everything.limit(limit)
        batches = _postgres_batches(conn, query, schema)
    for batch in batches:
        if batch.num_rows:
            yield pa.RecordBatch.from_arrays(
                [column.cast(field.type) for column, field in zip(batch.columns, schema)], schema=schema
            )


def _compiled(conn: Connection, query: Select):
    return query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})


def _duckdb_pages(
    conn: Connection, filters: Filters, everything: Select, size: int, limit: int | None
) -> Iterator[pa.RecordBatch]:
    """Keyset pagination of `everything` (`detail_select`: time, then message id, both descending).

    Each page's keys come from `_page_keys`, which reads only a window of time ending where the last
    page ended; the page's rows are then fetched between its first and last keys."""
    table = filters.table
    when, key = table.c[filters.time_column], table.c.message_id
    search = filters.where(table)
    oldest, newest, total = _first_row(conn, select(func.min(when), func.max(when), func.count()).where(search))
    if not total:
        return
    span = max((newest - oldest) * (size / total), MIN_LOOK_BACK)  # the time an average page covers
    start, after = newest, None
    remaining = limit
    while remaining is None or remaining > 0:
        take = size if remaining is None else min(size, remaining)
        keys = select(when, key).where(search)
        if after is not None:
            keys = keys.where(_older_than(when, key, *after))
        bounds = _page_keys(conn, keys, when, key, take, start, span, oldest)
        if not bounds:
            return
        first = (bounds[0].column(0)[0].as_py(), bounds[0].column(1)[0].as_py())
        last = (bounds[-1].column(0)[-1].as_py(), bounds[-1].column(1)[-1].as_py())
        page = everything.where(not_(_older_than(when, key, *last)), not_(_newer_than(when, key, *first)))
        yield from _duckdb_batches(conn, page)
        taken = sum(b.num_rows for b in bounds)
        if taken < take:
            return
        span = max(first[0] - last[0], MIN_LOOK_BACK)
        start, after = last[0], last
        if remaining is not None:
            remaining -= taken


def _page_keys(
    conn: Connection, keys: Select, when, key, take: int, start: datetime, span: timedelta, oldest: datetime
) -> list[pa.RecordBatch]:
    """The (time, message id) of the next `take` rows, newest first, all at or before `start`.

    Looked for among the rows from `start - span` on, the window doubled until it holds `take` rows
    or reaches the search's `oldest` row. DuckDB sorts the whole input of an ORDER BY whose LIMIT is
    large next to it (above 5,000 rows and 0.7% of the estimate), so a query over the whole search
    would sort every key of it in memory; the window bounds that sort by the page instead, and zone
    maps skip the row groups outside it. The same rows either way: a full page from `start - span` on
    is newer than every row before it."""
    def newest(query: Select) -> list[pa.RecordBatch]:
        ordered = query.order_by(when.desc(), key.desc()).limit(take)
        return [batch for batch in _duckdb_batches(conn, ordered) if batch.num_rows]

    while start - span > oldest:
        bounds = newest(keys.where(when >= start - span))
        if sum(batch.num_rows for batch in bounds) == take:
            return bounds
        span *= 2
    return newest(keys)


def _first_row(conn: Connection, query: Select) -> tuple:
    batch = next(iter(_duckdb_batches(conn, query)))
    return tuple(column[0].as_py() for column in batch.columns)


def _older_than(when, key, at, message_id) -> ColumnElement[bool]:
    """Rows after (`at`, `message_id`) in newest-first order; `when <= at` lets DuckDB skip row groups."""
    return and_(when <= at, or_(when < at, key < message_id))


def _newer_than(when, key, at, message_id) -> ColumnElement[bool]:
    return and_(when >= at, or_(when > at, key > message_id))


def _duckdb_batches(conn: Connection, query: Select) -> Iterator[pa.RecordBatch]:
    compiled = _compiled(conn, query)
    params = [compiled.params[name] for name in compiled.positiontup or ()]
    relation = conn.connection.driver_connection.sql(compiled.string, params=params)
    yield from relation.to_arrow_reader(BATCH_ROWS)


def _postgres_batches(conn: Connection, query: Select, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    compiled = _compiled(conn, query)
    with conn.connection.driver_connection.cursor() as cursor:
        # The CSV text of timestamps depends on these two settings; LOCAL ends with the transaction.
        cursor.execute("SET LOCAL TimeZone = 'UTC'")
        cursor.execute("SET LOCAL DateStyle = 'ISO, YMD'")
        with cursor.copy(f"COPY ({compiled.string}) TO STDOUT (FORMAT csv)", compiled.params) as copy:
            stream = _CopyStream(copy)
            if stream.at_end():  # no row: pyarrow refuses an empty CSV
                return
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(column_names=schema.names, block_size=COPY_BLOCK_BYTES),
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    column_types=schema,
                    true_values=["t"],
                    false_values=["f"],
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=False,  # "" is an empty text, an unquoted gap is NULL
                ),
            )
            yield from reader


class _CopyStream(io.RawIOBase):
    """The bytes of a running `COPY ... TO STDOUT` as a readable file (psycopg yields one row a chunk)."""

    def __init__(self, copy) -> None:
        self._chunks = iter(copy)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def at_end(self) -> bool:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return True
            self._pending = memoryview(chunk)
        return False

    def readinto(self, buffer) -> int:
        filled = 0
        while filled < len(buffer) and not self.at_end():
            n = min(len(buffer) - filled, len(self._pending))
            buffer[filled : filled + n] = self._pending[:n]
            self._pending = self._pending[n:]
            filled += n
        return filled


def localise(batch: pa.RecordBatch, view: View, lang: str, tz: str) -> pa.RecordBatch:
    """Codes as words of `lang`, booleans as Yes/No, timestamps in the zone `tz`; the rest as stored."""
    arrays = []
    for column, array in zip(view.columns, batch.columns):
        if column.kind == "datetime":
            array = array.cast(pa.timestamp("us", tz=tz))
        elif column.kind in LABELLED_KINDS:
            array = words(array, column.kind, lang)
        elif column.kind == "bool":
            array = pc.if_else(array, t("bool.true", lang), t("bool.false", lang))
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def words(codes: pa.Array, kind: str, lang: str) -> pa.Array:
    """Stored codes (`read`, `template`, ...) as their words in `lang`; unknown codes as they are."""
    encoded = pc.dictionary_encode(codes)
    vocabulary = pa.array([label(kind, code, lang) for code in encoded.dictionary.to_pylist()], pa.string())
    return pc.take(vocabulary, encoded.indices)


def spool(batches: Iterator[pa.RecordBatch], schema: pa.Schema, file: IO[bytes]) -> int:
    """Writes `batches` to `file` as a compressed Arrow stream; returns the number of rows.

    Used where the writer is much slower than the database (XLSX), so the connection (and, on DuckDB,
    the database file, which an ingest run needs) is held only for the fetch, not for the writing.
    """
    rows = 0
    options = pa.ipc.IpcWriteOptions(compression="lz4")
    with pa.ipc.new_stream(file, schema, options=options) as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def unspool(file: IO[bytes]) -> Iterator[pa.RecordBatch]:
    """The batches `spool()` wrote to `file`, one at a time."""
    file.seek(0)
    yield from pa.ipc.open_stream(file)
