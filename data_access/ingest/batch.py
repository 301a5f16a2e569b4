"""Collects the payloads, events and rejects read from the input into one batch of Arrow tables.

Building the tables (hashing, deduplicating, converting Python values) happens while reading, so
the writer only runs SQL. Within a batch, a payload or status event seen twice is kept once, and
when several records claim one send-log or MO id the lowest hash is kept, as the database keeps it
(`writer`).
"""
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from data_access.ingest.events import SEND_LOG, Event, InboundMessage, SendLog, StatusEvent
from data_access.schema import mo_message, mt_event, mt_send_log, raw_payload, rejected_record

# Columns an MO row gets from its own record; attribution columns are computed by the writer.
MO_RECORD_COLUMNS: tuple[str, ...] = (
    "message_id", "received_at", "phone", "wa_user_id", "profile_name", "content_type", "message",
    "button_payload", "button_text", "referral", "source", "context_id", "record_id",
    "business_number",
)
PAYLOAD_COLUMNS: tuple[str, ...] = ("payload_id", "format", "file", "line", "body")
REJECT_COLUMNS: tuple[str, ...] = ("reject_id", "file", "line", "reason", "body")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)


def _arrow_type(column: sa.Column) -> pa.DataType:
    """The Arrow type that carries a column's values into either database."""
    if isinstance(column.type, sa.DateTime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(column.type, sa.Boolean):
        return pa.bool_()
    if isinstance(column.type, sa.Integer):
        return pa.int64()
    return pa.string()


def _schema(table: sa.Table, names: tuple[str, ...] | None = None, with_payload: bool = False) -> pa.Schema:
    columns = [table.c[name] for name in names] if names else list(table.columns)
    fields = [pa.field(c.name, _arrow_type(c)) for c in columns]
    return pa.schema(fields + ([pa.field("payload_id", pa.string())] if with_payload else []))


PAYLOAD_SCHEMA = _schema(raw_payload, PAYLOAD_COLUMNS)
REJECT_SCHEMA = _schema(rejected_record, REJECT_COLUMNS)
EVENT_SCHEMA = _schema(mt_event, with_payload=True)
SEND_LOG_SCHEMA = _schema(mt_send_log, with_payload=True)
MO_SCHEMA = _schema(mo_message, MO_RECORD_COLUMNS, with_payload=True)


@dataclass(frozen=True)
class Batch:
    """What one transaction writes; every event table has the `payload_id` it came from."""

    payloads: pa.Table
    rejects: pa.Table
    events: pa.Table
    send_logs: pa.Table
    inbound: pa.Table


BatchWrite = Callable[[Batch, bool], set[str]]  # stores a batch (folding when asked): the ids already stored


@dataclass(frozen=True, slots=True)
class PayloadInfo:
    """Enough to count a payload once the writer says whether it was new."""

    payload_id: str
    format: str
    events: int


@dataclass
class BatchBuilder:
    """Accumulates one batch; `size` counts events and rejects."""

    payloads: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # the payload's columns, then its events
    infos: list[PayloadInfo] = field(default_factory=list)
    rejects: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    statuses: dict[str, tuple[str, StatusEvent]] = field(default_factory=dict)  # event_id -> (payload_id, event)
    send_logs: dict[str, tuple[str, str, SendLog]] = field(default_factory=dict)  # message_id -> (record_id, ...)
    inbound: dict[str, tuple[str, str, InboundMessage]] = field(default_factory=dict)
    size: int = 0

    def has(self, payload_id: str) -> bool:
        return payload_id in self.payloads

    def add_payload(self, payload_id: str, fmt: str, file: str, line: int, body: str, events: list[Event]) -> None:
        self.payloads[payload_id] = (payload_id, fmt, file, line, body, events)
        # A send log's own status events are its record's doing: the record counts once.
        reported = sum(1 for e in events if not (isinstance(e, StatusEvent) and e.source == SEND_LOG))
        self.infos.append(PayloadInfo(payload_id, fmt, reported))
        self.size += len(events)
        for event in events:
            if isinstance(event, StatusEvent):
                self.statuses.setdefault(event.event_id, (payload_id, event))
            else:
                chosen = self.send_logs if isinstance(event, SendLog) else self.inbound
                record_id = event.record_id
                held = chosen.get(event.message_id)
                if held is None or record_id < held[0]:
                    chosen[event.message_id] = (record_id, payload_id, event)

    def add_reject(self, file: str, line: int | None, reason: str, body: str) -> None:
        """Kept once per (file, line, reason, body), so loading a file again adds nothing."""
        key = "\x1f".join((file, str(line), reason, body))
        reject_id = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        self.rejects[reject_id] = (reject_id, file, line, reason, body)
        self.size += 1

    def __bool__(self) -> bool:
        return bool(self.payloads or self.rejects)

    def subset(self, payload_ids: list[str], reject_ids: list[str]) -> "BatchBuilder":
        """A batch of some of this one's payloads and rejects, built again from their own events (so
        an event or a send log that two payloads share goes with each of them)."""
        part = BatchBuilder()
        for payload_id in payload_ids:
            part.add_payload(*self.payloads[payload_id])
        for reject_id in reject_ids:
            part.rejects[reject_id] = self.rejects[reject_id]
            part.size += 1
        return part

    def build(self) -> Batch:
        statuses = self.statuses.values()
        return Batch(
            payloads=_table(PAYLOAD_SCHEMA, PAYLOAD_COLUMNS, self.payloads.values()),
            rejects=_table(REJECT_SCHEMA, REJECT_COLUMNS, self.rejects.values()),
            events=_table(
                EVENT_SCHEMA,
                StatusEvent._fields,
                [event for _, event in statuses],
                event_id=list(self.statuses),
                payload_id=[payload_id for payload_id, _ in statuses],
            ),
            send_logs=_records_table(SEND_LOG_SCHEMA, SendLog._fields, self.send_logs.values()),
            inbound=_records_table(MO_SCHEMA, InboundMessage._fields, self.inbound.values()),
        )


def _micros(values: Any) -> list[int | None]:
    """Aware datetimes as microseconds since the epoch: exact, and much faster for Arrow to take."""
    return [None if v is None else (v - EPOCH) // MICROSECOND for v in values]


def _table(schema: pa.Schema, names: tuple[str, ...], rows: Any, **given: list) -> pa.Table:
    """An Arrow table from row tuples whose values are named `names`, plus whole `given` columns."""
    columns = dict(zip(names, zip(*rows)))
    columns.update(given)
    arrays = []
    for f in schema:
        values = columns.get(f.name, ())
        arrays.append(pa.array(_micros(values) if pa.types.is_timestamp(f.type) else list(values), type=f.type))
    return pa.table(arrays, schema=schema)


def _records_table(schema: pa.Schema, names: tuple[str, ...], chosen: Any) -> pa.Table:
    chosen = list(chosen)
    return _table(
        schema,
        names,
        [record for _, _, record in chosen],
        record_id=[record_id for record_id, _, _ in chosen],
        payload_id=[payload_id for _, payload_id, _ in chosen],
    )
