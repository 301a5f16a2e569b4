"""CSV of a whole search: a header row in the chosen language, then every row, streamed batch by batch.

Timestamps are ISO 8601 with the zone's offset (`2026-11-10T12:00:00-03:00`); codes are words of the
language. Text typed by people or taken from payloads never becomes a formula when a spreadsheet opens
the file (SPEC section 4, OWASP CSV injection advice): a value starting with = + - @ tab or carriage
return gets a leading `'`. Phone numbers are validated E.164 and stay as they are.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy.engine import Connection

from data_access.filters import Filters
from data_access.report import count
from data_access.views import View, view_of
from exports.rows import fetch_batches, localise

FORMULA_START = r"^[=+\-@\t\r]"
DEFUSED_KINDS = ("text", "id")  # strings from outside the product; phones are validated E.164


def write_csv(
    conn: Connection, filters: Filters, lang: str, out: IO[bytes], progress: Callable[[int, int], None]
) -> int:
    """Writes every row of the search to `out`; returns the number of rows written."""
    view = view_of(filters)
    schema = pa.schema([(name, pa.string()) for name in view.headers(lang)])
    total = count(conn, filters)
    progress(0, total)
    rows = 0
    with pacsv.CSVWriter(out, schema, write_options=pacsv.WriteOptions(quoting_style="needed")) as writer:
        for batch in fetch_batches(conn, filters):
            writer.write_batch(csv_batch(localise(batch, view, lang, filters.tz), view, schema))
            rows += batch.num_rows
            progress(rows, max(total, rows))
    return rows


def csv_batch(batch: pa.RecordBatch, view: View, schema: pa.Schema) -> pa.RecordBatch:
    """A localised batch as CSV text: ISO 8601 timestamps, outside text defused."""
    arrays = []
    for column, array in zip(view.columns, batch.columns):
        if column.kind == "datetime":
            array = iso_8601(array)
        elif column.kind in DEFUSED_KINDS:
            array = defuse(array)
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def defuse(texts: pa.Array) -> pa.Array:
    """`=HYPERLINK(...)` -> `'=HYPERLINK(...)`: values a spreadsheet would run as formulas, made inert."""
    risky = pc.match_substring_regex(texts, FORMULA_START)
    if not pc.any(risky).as_py():
        return texts
    return pc.replace_with_mask(texts, risky, pc.binary_join_element_wise("'", pc.filter(texts, risky), ""))


def iso_8601(times: pa.Array) -> pa.Array:
    """Zoned timestamps as `2026-11-10T12:00:00-03:00`: the zone's wall clock, whole seconds, its offset."""
    seconds = pc.cast(times, pa.timestamp("s", tz=times.type.tz), safe=False)
    wall = pc.local_timestamp(seconds)
    offsets = pc.subtract(pc.cast(wall, pa.int64()), pc.cast(seconds, pa.int64()))
    distinct = pc.unique(offsets)
    offset_texts = pa.array([_offset_text(o) for o in distinct.to_pylist()], pa.string())
    return pc.binary_join_element_wise(
        pc.utf8_replace_slice(pc.cast(wall, pa.string()), 10, 11, "T"),
        pc.take(offset_texts, pc.index_in(offsets, distinct)),
        "",
    )


def _offset_text(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    sign = "+" if seconds >= 0 else "-"
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
