"""The audit log (SPEC 9) as rows of text and as a CSV file, newest first, read a batch at a time.

Text in the log comes from outside (an email typed at sign-in, a saved search's name...): in the CSV,
a value a spreadsheet would run as a formula is defused as in the report's CSV (SPEC 4).
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pyarrow as pa
from sqlalchemy.engine import Engine

from data_access import accounts
from data_access.accounts import AuditEntry
from data_access.i18n import format_datetime, t
from exports.csv_export import defuse

BATCH = 1000


def columns(lang: str) -> list[str]:
    """The column headers, in `lang`."""
    return [t(f"audit.{name}", lang) for name in ("at", "actor", "action", "detail", "address")]


def cells(entry: AuditEntry, lang: str, tz: str) -> list[str]:
    """One entry as text: when (in `tz`), who, what, its detail as JSON, the address."""
    detail = json.dumps(entry.detail, ensure_ascii=False, sort_keys=True)
    return [format_datetime(entry.at, lang, tz), entry.actor, entry.action, detail, entry.address or ""]


def csv_chunks(engine: Engine, lang: str, tz: str) -> Iterator[str]:
    """The whole log as CSV text, one chunk per batch read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns(lang))
    offset = 0
    while True:
        batch = accounts.audit_entries(engine, limit=BATCH, offset=offset)
        if batch:
            texts = zip(*(cells(entry, lang, tz) for entry in batch))
            writer.writerows(zip(*(defuse(pa.array(column, pa.string())).to_pylist() for column in texts)))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(batch) < BATCH:
            return
        offset += BATCH


def csv_bytes(engine: Engine, lang: str, tz: str) -> bytes:
    """The whole log as a UTF-8 CSV file with a byte order mark (what spreadsheets expect)."""
    return "".join(csv_chunks(engine, lang, tz)).encode("utf-8-sig")
