"""Reads inputs, sorts every record into usable payloads and rejects, and writes them in batches.

A batch holds at most `batch_events` events and is written in one short transaction, so the
embedded DuckDB file is held only while a batch is written; between batches the dashboard can
read it. A slow pipe's batch is also written once it is `MAX_BATCH_SECONDS` old (when its next
record comes) and at the end. A batch is written while the next one is read (at most one waits, so
memory stays flat): by a thread for small inputs, by a child process for large ones
(`writer_process`), where parsing and the database then use a core each.
"""
import gc
import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, Literal, TextIO

import duckdb
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from data_access.engine import DatabaseError, first_line, open_database
from data_access.ingest import send_log
from data_access.ingest.batch import BatchBuilder, PayloadInfo
from data_access.ingest.detect import parse_payload
from data_access.ingest.events import FORMATS, SEND_LOG, Rejection
from data_access.ingest.progress import Progress
from data_access.ingest.reader import Record, read_records
from data_access.ingest.waiting import announce_lock_waits
from data_access.ingest.writer import write_batch
from data_access.ingest.writer_process import WriterProcess

DEFAULT_BATCH_EVENTS = 50_000
FIRST_BATCH_EVENTS = 10_000
BATCH_GROWTH = 1.5
DEFAULT_FOLD_EVENTS = 500_000  # rows are recomputed at least this often on long inputs
PROCESS_WRITER_MIN_BYTES = 16 * 1024 * 1024  # below this, starting a process costs more than it saves
MAX_BATCH_SECONDS = 5.0
UNKNOWN = "unknown"  # records whose format could not be told (broken JSON, unrecognised objects)
STDIN_NAME = "<stdin>"


@dataclass
class FormatCounts:
    """What one input format contributed to a run."""

    accepted: int = 0  # payloads stored for the first time
    duplicates: int = 0  # payloads whose body was already stored (or seen earlier in the run)
    rejected: int = 0  # records, or parts of records, that could not be used
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
            total.accepted += counts.accepted
            total.duplicates += counts.duplicates
            total.rejected += counts.rejected
            total.events += counts.events
        return total

    @property
    def exit_code(self) -> int:
        return 1 if self.total.rejected else 0

    def render(self) -> str:
        """A small table: one line per format seen, then the total and the rate."""
        rows = [("format", "accepted", "duplicates", "rejected", "events")]
        for fmt in (*FORMATS, UNKNOWN):
            if fmt in self.counts:
                c = self.counts[fmt]
                rows.append((fmt, f"{c.accepted:,}", f"{c.duplicates:,}", f"{c.rejected:,}", f"{c.events:,}"))
        t = self.total
        rows.append(("total", f"{t.accepted:,}", f"{t.duplicates:,}", f"{t.rejected:,}", f"{t.events:,}"))
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines = [
            "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
            for row in rows
        ]
        rate = t.events / self.seconds if self.seconds > 0 else 0.0
        lines.append(f"{t.events:,} events in {self.seconds:.1f} s ({rate:,.0f} events/s)")
        if t.rejected:
            lines.append(f"{t.rejected:,} rejected: see the rejected_record table (file, line, reason)")
        return "\n".join(lines)


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
    engine = database if isinstance(database, Engine) else open_database(database)
    names = [str(path) for path in paths]
    total_bytes = None if "-" in names else sum(os.path.getsize(name) for name in names)
    if writer is None:
        writer = "process" if total_bytes is None or total_bytes >= PROCESS_WRITER_MIN_BYTES else "thread"
    progress = Progress(total_bytes, stderr)
    summary = IngestSummary()

    def say(message: str) -> None:
        progress.interrupt()
        print(message, file=stderr, flush=True)

    say_when_waiting = announce_lock_waits(engine, say)
    loader = _Loader(engine, summary, progress, batch_events, fold_events, writer == "process")
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
                    loader.load(os.path.abspath(name), stream)
        loader.finish()
    except (DatabaseError, SQLAlchemyError, duckdb.Error, OSError) as exc:
        summary.seconds = time.monotonic() - started
        raise IngestFailed(
            f"stopped: {first_line(exc)}; what was loaded before is kept, and running again is safe", summary
        ) from exc
    finally:
        if collecting:
            gc.enable()
        loader.close()
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


def _storable_text(text: str) -> str:
    """The text with what a database cannot hold replaced (for rejected bodies, kept for people)."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


class _Loader:
    def __init__(
        self,
        engine: Engine,
        summary: IngestSummary,
        progress: Progress,
        batch_events: int,
        fold_events: int,
        in_process: bool,
    ) -> None:
        self.summary = summary
        self.progress = progress
        self.batch_events = batch_events
        self.fold_events = fold_events
        self.unfolded = 0  # events written since the rows were last recomputed
        # One thread runs the writes (or relays them to the child process) while this one reads on.
        self.relay = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        self.process = WriterProcess.start(engine.url.render_as_string(hide_password=False)) if in_process else None
        self.write = self.process.write if self.process else partial(write_batch, engine)
        self.in_flight: tuple[Future, list[PayloadInfo]] | None = None
        # Batches start small, so that the writer starts early, then grow up to `batch_events`:
        # larger batches cost the database less per event.
        self.limit = min(batch_events, FIRST_BATCH_EVENTS)
        self._new_batch()

    def _new_batch(self) -> None:
        self.batch = BatchBuilder()
        self.started = time.monotonic()

    def load(self, file: str, stream: BinaryIO) -> None:
        for record in read_records(stream, self.progress.read):
            self._record(file, record)
            if self.batch.size >= self.limit:
                self.flush()
            elif time.monotonic() - self.started >= MAX_BATCH_SECONDS:
                self.flush(fold=True)  # a slow input (a pipe of live webhooks): show what came

    def _record(self, file: str, record: Record) -> None:
        if record.error is not None:
            self._reject(UNKNOWN, file, record.line, record.error, record.body)
        elif isinstance(record.value, list):  # a JSON array of payloads
            for index, item in enumerate(record.value):
                body = json.dumps(item, ensure_ascii=False)
                self._payload(file, record.line, body, item, f"item {index}: ", False)
        else:
            self._payload(file, record.line, record.body, record.value, "", record.csv_row)

    def _payload(self, file: str, line: int, body: str, value: Any, where: str, csv_row: bool) -> None:
        if not isinstance(value, dict):
            self._reject(UNKNOWN, file, line, f"{where}not a JSON object", body)
            return
        problem = _unstorable(body, value)
        if problem is not None:
            self._reject(UNKNOWN, file, line, where + problem, body)
            return
        fmt, parts = (SEND_LOG, send_log.parse(value)) if csv_row else parse_payload(value)
        events = []
        for part in parts:
            if isinstance(part, Rejection):
                self._reject(fmt or UNKNOWN, file, line, where + part.reason, body)
            else:
                events.append(part)
        if not events:
            return
        payload_id = hashlib.sha256(body.encode("utf-8")).hexdigest()
        if self.batch.has(payload_id):
            self.summary.of(fmt).duplicates += 1
        else:
            self.batch.add_payload(payload_id, fmt, file, line, body, events)

    def _reject(self, fmt: str, file: str, line: int, reason: str, body: str) -> None:
        self.batch.add_reject(file, line, reason, _storable_text(body))
        self.summary.of(fmt).rejected += 1

    def flush(self, fold: bool = False) -> None:
        """Hands the batch read so far to the writer, once the previous one is written; `fold`
        (or enough events since the last fold) has the rows recomputed in the same transaction."""
        if self.batch or fold:
            self.unfolded += self.batch.size
            fold = fold or self.unfolded >= self.fold_events
            if fold:
                self.unfolded = 0
            batch, infos = self.batch.build(), self.batch.infos
            self._settle()
            self.in_flight = (self.relay.submit(self.write, batch, fold), infos)
            self.limit = min(self.batch_events, int(self.limit * BATCH_GROWTH))
        self._new_batch()
        gc.collect(0)  # the collector is off while reading: free the last batch's cycles, if any

    def finish(self) -> None:
        """Writes what is left, recomputes every pending row (this run's and any an earlier run
        left), and waits for it."""
        self.flush(fold=True)
        self._settle()

    def close(self) -> None:
        """Lets a write in progress end (never leaves a batch half written) and stops the writer."""
        self.relay.shutdown(wait=True)
        if self.process is not None:
            self.process.close()

    def _settle(self) -> None:
        """Waits for the batch being written and counts its payloads as accepted or duplicates."""
        if self.in_flight is None:
            return
        future, infos = self.in_flight
        self.in_flight = None
        known = future.result()
        loaded = 0
        for info in infos:
            counts = self.summary.of(info.format)
            if info.payload_id in known:
                counts.duplicates += 1
            else:
                counts.accepted += 1
                counts.events += info.events
                loaded += info.events
        self.progress.loaded(loaded)


def ingest_streams(engine: Engine, inputs: Iterable[tuple[str, BinaryIO]]) -> IngestSummary:
    """Loads inputs that are already open, each a (name, binary stream) pair read as a file would
    be (the bodies the app server received over HTTP), in one run written by a thread; the rows
    are recomputed at the end. Raises `IngestFailed` when the run stops midway."""
    summary = IngestSummary()
    loader = _Loader(engine, summary, Progress(None, io.StringIO()), DEFAULT_BATCH_EVENTS, DEFAULT_FOLD_EVENTS, False)
    started = time.monotonic()
    try:
        for name, stream in inputs:
            loader.load(name, stream)
        loader.finish()
    except (DatabaseError, SQLAlchemyError, duckdb.Error, OSError) as exc:
        summary.seconds = time.monotonic() - started
        raise IngestFailed(
            f"stopped: {first_line(exc)}; what was loaded before is kept, and running again is safe", summary
        ) from exc
    finally:
        loader.close()
    summary.seconds = time.monotonic() - started
    return summary
