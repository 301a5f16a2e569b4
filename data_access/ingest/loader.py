"""Reads inputs, sorts every record into usable payloads and rejects, and writes them in batches.

A batch holds at most `batch_events` events and is written in one short transaction, so the
embedded DuckDB file is held only while a batch is written; between batches the dashboard can
read it. A slow pipe's batch is also written once it is `MAX_BATCH_SECONDS` old (when its next
record comes) and at the end. A batch is written while the next one is read (at most one waits, so
memory stays flat): by a thread for small inputs, by a child process for large ones
(`writer_process`), where parsing and the database then use a core each.

One bad record never stops a run: whatever goes wrong while reading, parsing or checking a record
(`events.FIELD_LIMITS`) rejects that record; when the database still refuses a batch, the batch is
written again in halves until the record at fault is alone, and that one is rejected with the
database's reason. Every record read ends as exactly one of accepted, duplicate or rejected. A run
that stops for a reason outside the data (database gone, disk full) says the file and line it had
reached, and recomputes the rows of what it had written before it gives up, when it still can.
"""
import gc
import hashlib
import io
import json
import os
import stat
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, Literal, TextIO

from sqlalchemy import event
from sqlalchemy.engine import Engine

from data_access.engine import DATABASE_ERRORS, first_line, open_database
from data_access.ingest import send_log
from data_access.ingest.batch import Batch, BatchBuilder, BatchWrite, PayloadInfo
from data_access.ingest.detect import parse_payload
from data_access.ingest.events import (
    FORMATS,
    SEND_LOG,
    Event,
    InboundMessage,
    Rejection,
    SendLog,
    StatusEvent,
    too_long,
)
from data_access.ingest.progress import Progress
from data_access.ingest.reader import Record, read_records
from data_access.ingest.waiting import WAIT_MESSAGE, announce_lock_waits
from data_access.ingest.writer import BatchRefused, write_batch
from data_access.ingest.writer_process import WriterProcess
from data_access.scope import Scope

DEFAULT_BATCH_EVENTS = 50_000
FIRST_BATCH_EVENTS = 10_000
BATCH_GROWTH = 1.5
DEFAULT_FOLD_EVENTS = 500_000  # rows are recomputed at least this often on long inputs
PROCESS_WRITER_MIN_BYTES = 16 * 1024 * 1024  # below this, starting a process costs more than it saves
MAX_BATCH_SECONDS = 5.0
UNKNOWN = "unknown"  # records whose format could not be told (broken JSON, unrecognised objects)
STDIN_NAME = "<stdin>"
REASON_LIMIT = 500  # characters of a reject reason (a reason may quote the value at fault)


@dataclass
class FormatCounts:
    """What one input format contributed to a run.

    Every record read (a JSON array's items each count) ends as one of accepted, duplicates or
    rejected: `read == accepted + duplicates + rejected` once the run is over. `rejected_parts`
    counts the other rejected_record rows: statuses or messages rejected inside a record whose other
    parts loaded, and the further reasons of a record rejected for several.
    """

    read: int = 0  # records read
    accepted: int = 0  # payloads stored for the first time
    duplicates: int = 0  # payloads whose body was already stored (or seen earlier in the run)
    rejected: int = 0  # records that could not be used at all
    rejected_parts: int = 0  # further rejected parts (see above)
    events: int = 0  # statuses, MOs and send-log records in the accepted payloads


@dataclass
class IngestSummary:
    """Counts per format and the run's duration; `exit_code` is 1 when anything was rejected."""

    counts: dict[str, FormatCounts] = field(default_factory=dict)
    seconds: float = 0.0

    def of(self, fmt: str) -> FormatCounts:
        return self.counts.setdefault(fmt, FormatCounts())

    @property
    def total(self) -> FormatCounts:
        total = FormatCounts()
        for counts in self.counts.values():
            for name in COUNT_NAMES:
                setattr(total, name, getattr(total, name) + getattr(counts, name))
        return total

    @property
    def exit_code(self) -> int:
        total = self.total
        return 1 if total.rejected or total.rejected_parts else 0

    def render(self) -> str:
        """A small table: one line per format seen, then the total and the rate."""
        rows = [("format", "read", "accepted", "duplicates", "rejected", "rejected_parts", "events")]
        for fmt in (*FORMATS, UNKNOWN):
            if fmt in self.counts:
                rows.append((fmt, *(f"{getattr(self.counts[fmt], name):,}" for name in COUNT_NAMES)))
        t = self.total
        rows.append(("total", *(f"{getattr(t, name):,}" for name in COUNT_NAMES)))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = [
            "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
            for row in rows
        ]
        rate = t.events / self.seconds if self.seconds > 0 else 0.0
        lines.append(f"{t.events:,} events in {self.seconds:.1f} s ({rate:,.0f} events/s)")
        if t.rejected or t.rejected_parts:
            lines.append(
                f"{t.rejected + t.rejected_parts:,} rejected: see the rejected_record table (file, line, reason)"
            )
        return "\n".join(lines)


COUNT_NAMES: tuple[str, ...] = ("read", "accepted", "duplicates", "rejected", "rejected_parts", "events")


class IngestFailed(RuntimeError):
    """The run stopped (database busy or gone, unreadable file); `summary` says what was loaded."""

    def __init__(self, message: str, summary: IngestSummary) -> None:
        super().__init__(message)
        self.summary = summary


def ingest_paths(
    database: Engine | str,
    paths: Sequence[str | Path],
    *,
    batch_events: int = DEFAULT_BATCH_EVENTS,
    fold_events: int = DEFAULT_FOLD_EVENTS,
    writer: Literal["thread", "process"] | None = None,
    stderr: TextIO = sys.stderr,
) -> IngestSummary:
    """Loads files (`-` is standard input) into the database (an engine or a URL).

    Rows are recomputed from the stored events at the end of the run, after every `fold_events`
    events, and with every batch of a slow input (see `writer`). `writer` says who writes the
    batches: a thread, or a child process (the default for standard input and for inputs of
    `PROCESS_WRITER_MIN_BYTES` or more). Raises `DatabaseError` when a URL cannot be opened and
    `IngestFailed` when the run stops midway (batches written before that are kept; running again
    is safe).
    """
    if writer not in (None, "thread", "process"):
        raise ValueError(f"writer must be 'thread' or 'process', not {writer!r}")
    names = [str(path) for path in paths]
    total_bytes = None if "-" in names else sum(os.path.getsize(name) for name in names)
    if writer is None:
        writer = "process" if total_bytes is None or total_bytes >= PROCESS_WRITER_MIN_BYTES else "thread"
    progress = Progress(total_bytes, stderr)
    summary = IngestSummary()

    def say(message: str) -> None:
        progress.interrupt()
        print(message, file=stderr, flush=True)

    given = isinstance(database, Engine)
    engine = database if given else open_database(database, on_wait=lambda: say(WAIT_MESSAGE))
    say_when_waiting = announce_lock_waits(engine, say) if given else None  # made elsewhere: no on_wait
    process = WriterProcess.start(engine.url.render_as_string(hide_password=False)) if writer == "process" else None
    write = process.write if process is not None else partial(write_batch, engine)
    loader = _Loader(write, summary, progress, batch_events, fold_events)
    started = time.monotonic()
    # Parsing makes millions of short-lived, acyclic objects: reference counting frees them, and the
    # cyclic collector, left on, spends about half the run scanning the batch being built.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for name in names:
            if name == "-":
                loader.load(STDIN_NAME, sys.stdin.buffer)
            else:
                with open(name, "rb") as stream:
                    loader.load(_storable_text(os.path.abspath(name)), stream)  # a name may be any bytes
        loader.finish()
    except DATABASE_ERRORS as exc:
        loader.finish_after_failure()
        summary.seconds = time.monotonic() - started
        raise IngestFailed(
            f"stopped{loader.where()}: {first_line(exc)}; what was loaded before is kept, and running again is safe",
            summary,
        ) from exc
    finally:
        if collecting:
            gc.enable()
        loader.close()
        if process is not None:
            process.close()
        progress.close()
        if say_when_waiting is not None:
            event.remove(engine, "do_connect", say_when_waiting)
        if engine is not database:
            engine.dispose()
    summary.seconds = time.monotonic() - started
    return summary


def _unstorable(body: str, value: Any) -> str | None:
    """Why a payload's text cannot be stored (NUL characters, lone UTF-16 surrogates), or None.

    Both can only come from `\\u` escapes, so payloads without one are not walked.
    """
    if "\\u" not in body:
        return None
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "contains a NUL character, which cannot be stored"
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return "contains a lone UTF-16 surrogate (\\ud800-\\udfff), which is not valid Unicode"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _sort_parts(fmt: str, parts: Iterable[Event | Rejection]) -> tuple[list[Event], list[str]]:
    """(the usable events, the reasons of the rejected parts). An event with a text longer than the
    limits is rejected; a send log is one record, so any such text rejects all of it."""
    events, reasons = [], []
    for part in parts:
        if isinstance(part, Rejection):
            reasons.append(part.reason)
            continue
        problem = too_long(part)
        if problem is None:
            events.append(part)
        else:
            reasons.append(f"{_KIND_NAMES[type(part)]} {_clip(part.message_id, 40)!r}: {problem}")
    if fmt == SEND_LOG and reasons:
        return [], reasons[:1]
    return events, reasons


_KIND_NAMES: dict[type, str] = {SendLog: "send log", StatusEvent: "status of", InboundMessage: "message"}


def outside_scope(fmt: str, events: Sequence[Event], scope: Scope) -> str | None:
    """Why a record may not be loaded by a sender limited to `scope` (an API token of SPEC 9), or
    None: such a sender sends send-log records of its own subaccounts only."""
    if scope.all:
        return None
    if fmt != SEND_LOG:
        return "only send-log records are taken from a token limited to subaccounts"
    for item in events:
        if isinstance(item, SendLog) and item.subaccount is None:
            return "no subaccount: a token limited to subaccounts sends records of its subaccounts only"
        if isinstance(item, SendLog) and not scope.allows(item.subaccount):
            return f"subaccount {_clip(item.subaccount, 80)!r} is outside this token's scope"
    return None


def _clip(text: str, limit: int = REASON_LIMIT) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _storable_text(text: str) -> str:
    """The text with what a database cannot hold replaced (for rejected bodies, kept for people)."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


class _Loader:
    def __init__(
        self,
        write: BatchWrite,
        summary: IngestSummary,
        progress: Progress,
        batch_events: int,
        fold_events: int,
        scope: Scope | None = None,
    ) -> None:
        self.summary = summary
        self.scope = scope  # None: no limit (the command, the webhooks, INGEST_TOKEN)
        self.progress = progress
        self.batch_events = batch_events
        self.fold_events = fold_events
        self.unfolded = 0  # events written since the rows were last recomputed
        # One thread runs the writes (or relays them to another process) while this one reads on.
        self.relay = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        self.write = write
        self.in_flight: tuple[Future, list[PayloadInfo]] | None = None
        self.position: tuple[str, int] | None = None  # the file and line of the last record read
        # Batches start small, so that the writer starts early, then grow up to `batch_events`:
        # larger batches cost the database less per event.
        self.limit = min(batch_events, FIRST_BATCH_EVENTS)
        self._new_batch()

    def _new_batch(self) -> None:
        self.batch = BatchBuilder()
        self.started = time.monotonic()

    def load(self, file: str, stream: BinaryIO) -> None:
        may_be_slow = _may_be_slow(stream)
        for record in read_records(stream, self.progress.read):
            self.position = (file, record.line)
            self._record(file, record)
            if self.batch.size >= self.limit:
                self.flush()
            elif may_be_slow and time.monotonic() - self.started >= MAX_BATCH_SECONDS:
                self.flush(fold=True)  # a slow input (a pipe of live webhooks): show what came

    def where(self) -> str:
        """' at FILE, line N': how far the reading had come."""
        return "" if self.position is None else f" at {self.position[0]}, line {self.position[1]:,}"

    def _record(self, file: str, record: Record) -> None:
        if record.error is not None:
            self._reject(UNKNOWN, file, record.line, [record.error], record.body)
        elif isinstance(record.value, list):  # a JSON array of payloads
            if not record.value:
                self._reject(UNKNOWN, file, record.line, ["an empty JSON array"], record.body)
            for index, item in enumerate(record.value):
                body = json.dumps(item, ensure_ascii=False)
                self._payload(file, record.line, body, item, f"item {index}: ", False)
        else:
            self._payload(file, record.line, record.body, record.value, "", record.csv_row)

    def _payload(self, file: str, line: int, body: str, value: Any, where: str, csv_row: bool) -> None:
        if not isinstance(value, dict):
            self._reject(UNKNOWN, file, line, [f"{where}not a JSON object"], body)
            return
        fmt: str | None = SEND_LOG if csv_row else None
        try:
            problem = _unstorable(body, value)
            if problem is not None:
                self._reject(UNKNOWN, file, line, [where + problem], body)
                return
            fmt, parts = (SEND_LOG, send_log.parse(value)) if csv_row else parse_payload(value)
            events, reasons = _sort_parts(fmt, parts)
            problem = outside_scope(fmt, events, self.scope) if self.scope is not None and events else None
            if problem is not None:
                events, reasons = [], [problem]
        except Exception as exc:  # noqa: BLE001 - whatever one record does, it must not stop the run
            events, reasons = [], [f"could not be read: {type(exc).__name__}: {exc}"]
        fmt = fmt or UNKNOWN
        if not events:
            self._reject(fmt, file, line, [where + reason for reason in reasons], body)
            return
        counts = self.summary.of(fmt)
        counts.read += 1
        if reasons:
            self._reject_parts(fmt, file, line, [where + reason for reason in reasons], body)
        payload_id = hashlib.sha256(body.encode("utf-8")).hexdigest()
        if self.batch.has(payload_id):
            counts.duplicates += 1
        else:
            self.batch.add_payload(payload_id, fmt, file, line, body, events)

    def _reject(self, fmt: str, file: str, line: int, reasons: list[str], body: str) -> None:
        """One record read and rejected, for one reason or several."""
        counts = self.summary.of(fmt)
        counts.read += 1
        counts.rejected += 1
        self._reject_parts(fmt, file, line, reasons or ["no usable status or message"], body)
        counts.rejected_parts -= 1

    def _reject_parts(self, fmt: str, file: str, line: int, reasons: list[str], body: str) -> None:
        body = _storable_text(body)
        for reason in reasons:
            self.batch.add_reject(file, line, _clip(reason), body)
        self.summary.of(fmt).rejected_parts += len(reasons)

    def flush(self, fold: bool = False) -> None:
        """Hands the batch read so far to the writer, once the previous one is written; `fold`
        (or enough events since the last fold) has the rows recomputed in the same transaction."""
        if self.batch or fold:
            self.unfolded += self.batch.size
            fold = fold or self.unfolded >= self.fold_events
            if fold:
                self.unfolded = 0
            builder, batch = self.batch, self.batch.build()
            self._settle()
            self.in_flight = (self.relay.submit(self._write, builder, batch, fold), builder.infos)
            self.limit = min(self.batch_events, int(self.limit * BATCH_GROWTH))
        self._new_batch()
        gc.collect(0)  # the collector is off while reading: free the last batch's cycles, if any

    def finish(self) -> None:
        """Writes what is left, recomputes every pending row (this run's and any an earlier run
        left), and waits for it."""
        self.flush(fold=True)
        self._settle()

    def close(self) -> None:
        """Lets a write in progress end (never leaves a batch half written)."""
        self.relay.shutdown(wait=True)

    def finish_after_failure(self) -> None:
        """After the run failed: lets the batch in progress end, then writes what was read since and
        recomputes the rows of everything written, if the database still answers (else the next
        run does it)."""
        for step in (self._settle, partial(self.flush, fold=True), self._settle):
            try:
                step()
            except DATABASE_ERRORS:
                pass

    def _write(self, builder: BatchBuilder, batch: Batch, fold: bool) -> tuple[set[str], dict[str, str]]:
        """Writes a batch; when the database refuses it, writes it again in parts until the payloads
        at fault are alone, and stores those as rejected. Returns the ids of the payloads that were
        already stored and the reasons of the refused ones (by payload id)."""
        try:
            return self.write(batch, fold), {}
        except BatchRefused:
            if not builder:
                raise  # no data to leave out: what the database refuses is the fold
        refused: dict[str, str] = {}
        units = [(True, payload_id) for payload_id in builder.payloads]
        units += [(False, reject_id) for reject_id in builder.rejects]
        middle = len(units) // 2
        known = set()
        for half in (units[:middle], units[middle:]):
            known |= self._write_apart(builder, half, refused)
        leftover = BatchBuilder()
        for payload_id, reason in refused.items():
            _, _, file, line, body, _ = builder.payloads[payload_id]
            leftover.add_reject(file, line, _clip(f"refused by the database: {reason}"), body)
        self.write(leftover.build(), fold)  # proves the database takes the rest: else this raises
        return known, refused

    def _write_apart(self, builder: BatchBuilder, units: list[tuple[bool, str]], refused: dict[str, str]) -> set[str]:
        """Writes these payloads and rejects of a refused batch, halving until each refusal is alone."""
        if not units:
            return set()
        part = builder.subset([key for is_payload, key in units if is_payload],
                              [key for is_payload, key in units if not is_payload])
        try:
            return self.write(part.build(), False)
        except BatchRefused as exc:
            if len(units) > 1:
                middle = len(units) // 2
                return self._write_apart(builder, units[:middle], refused) | self._write_apart(
                    builder, units[middle:], refused
                )
            is_payload, key = units[0]
            if not is_payload:
                raise
            refused[key] = str(exc)
            return set()

    def _settle(self) -> None:
        """Waits for the batch being written and counts its payloads as accepted, duplicates or
        rejected (refused by the database)."""
        if self.in_flight is None:
            return
        future, infos = self.in_flight
        self.in_flight = None
        known, refused = future.result()
        loaded = 0
        for info in infos:
            counts = self.summary.of(info.format)
            if info.payload_id in refused:
                counts.rejected += 1
            elif info.payload_id in known:
                counts.duplicates += 1
            else:
                counts.accepted += 1
                counts.events += info.events
                loaded += info.events
        self.progress.loaded(loaded)


def _may_be_slow(stream: BinaryIO) -> bool:
    """Whether the input can keep records waiting (a pipe, a terminal, a socket): a regular file or
    a body in memory is read as fast as it is parsed, so its batches never wait for its records,
    and folding a batch of it early would only scan the stored rows once more (on a busy machine
    every batch of a large file took over `MAX_BATCH_SECONDS` to read, and each one was folded)."""
    try:
        return not stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError
        return False


def ingest_streams(
    engine: Engine,
    inputs: Iterable[tuple[str, BinaryIO]],
    scope: Scope | None = None,
    stored: set[str] | None = None,
) -> IngestSummary:
    """Loads inputs that are already open, each a (name, binary stream) pair read as a file would
    be (the bodies the app server received over HTTP), in one run written by a thread; the rows
    are recomputed at the end. A `scope` limits what is loaded (`outside_scope`: the rest is
    rejected). `stored`: see `counting_as_new`. Raises `IngestFailed` when the run stops midway."""
    return read_streams(batch_writer(engine, stored), inputs, scope)


def batch_writer(engine: Engine, stored: set[str] | None = None) -> BatchWrite:
    """`write_batch` into `engine`; with `stored`, its payloads counted as `counting_as_new` says."""
    write = partial(write_batch, engine)
    return write if stored is None else counting_as_new(write, stored)


def counting_as_new(write: BatchWrite, stored: set[str]) -> BatchWrite:
    """`write` for one try of a run that may be tried again (its reading process killed midway):
    the payloads this try writes are added to `stored`, for the next try; the payloads in `stored`
    when this try starts, which an earlier try wrote, count as new here the first time they come
    (once: a record seen again later in the run is a duplicate, as in a run never stopped)."""
    earlier = set(stored)

    def write_counting(batch: Batch, fold: bool) -> set[str]:
        known = write(batch, fold)
        stored.update(set(batch.payloads.column("payload_id").to_pylist()) - known)
        credited = known & earlier
        earlier.difference_update(credited)
        return known - credited
    return write_counting


def read_streams(
    write: BatchWrite, inputs: Iterable[tuple[str, BinaryIO]], scope: Scope | None = None
) -> IngestSummary:
    """`ingest_streams` with each batch handed to `write(batch, fold)`, which stores it and returns
    the ids of the payloads already stored (`write_batch` on an engine, or a call to the process
    that owns the database: `reader_process`)."""
    summary = IngestSummary()
    loader = _Loader(write, summary, Progress(None, io.StringIO()), DEFAULT_BATCH_EVENTS, DEFAULT_FOLD_EVENTS, scope)
    started = time.monotonic()
    try:
        for name, stream in inputs:
            loader.load(name, stream)
        loader.finish()
    except DATABASE_ERRORS as exc:
        summary.seconds = time.monotonic() - started
        raise IngestFailed(
            f"stopped: {first_line(exc)}; what was loaded before is kept, and running again is safe", summary
        ) from exc
    finally:
        loader.close()
    summary.seconds = time.monotonic() - started
    return summary


def reject_body(engine: Engine, file: str, reason: str, body: bytes) -> None:
    """Keeps a whole body in `rejected_record` with its reason (an authentic webhook body the
    ingest run cannot take: empty, or one the ingest code failed on), as the ingest run keeps its
    rejects: the body as text with what cannot be stored replaced, kept once. Raises what the
    database raises."""
    batch = BatchBuilder()
    text = _storable_text(body.decode("utf-8", "replace"))
    batch.add_reject(_storable_text(file), None, _clip(_storable_text(reason)), text)
    write_batch(engine, batch.build(), fold=False)
