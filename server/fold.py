"""The background fold: bodies taken from the spool (or inbox) go through the same ingest code as the
`python -m data_access.ingest` command, every `FOLD_INTERVAL_S`, so they reach the report within 5 s.

One ingest runs at a time in a process (`ingest_lock`, shared with `/api/send-log`). When the
database fails, the bodies stay where they are and the next round tries again. A body that makes
the ingest code itself fail (a bug, never a database problem) is set aside, so it cannot hold back
the bodies after it: written durably to the spool folder's `unfoldable/` and kept in
`rejected_record` with the error, before its spool segment or inbox row is dropped.
"""
import hashlib
import io
import logging
import os
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import Engine

from data_access.engine import DATABASE_ERRORS
from data_access.ingest import IngestFailed, IngestSummary, ingest_streams, reject_body
from data_access.ingest.reader_process import ReaderProcess, ReaderStopped, ReadingFailed
from data_access.ingest.writer import BatchRefused
from data_access.scope import Scope
from server.received import Received

FOLD_INTERVAL_S = 0.5
MAX_RETRY_PAUSE_S = 8.0  # while the database fails, rounds are spaced out up to this
READER_RETRY_S = 30.0  # after a reader process failed to start, the next try comes this much later
LOG = logging.getLogger(__name__)
DATABASE_FAILURES = (IngestFailed, *DATABASE_ERRORS)


def write_durably(path: Path, data: bytes) -> None:
    """Writes a file that survives a crash the next instant: the file and its folders fsynced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, path)
    for folder in (path.parent, path.parent.parent):  # the file's name, and its folder's if just made
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class Spool(Protocol):
    def claim(self) -> AbstractContextManager[list[Received]]: ...


def ingest_bodies(
    engine: Engine, items: Sequence[Received], scope: Scope | None = None, stored: set[str] | None = None
) -> IngestSummary:
    """One ingest run over bodies, each read as one input named by its route; `scope` limits what
    an API token may load (None: no limit); `stored`: see `ingest_streams`."""
    return ingest_streams(engine, ((item.source, io.BytesIO(item.body)) for item in items), scope, stored)


class Folder:
    """Folds the spool's bodies in a thread; with `read_apart`, a child process (started with the
    folder) reads them into batches (`ReaderProcess`) and this process writes them, so that the
    reading does not hold the interpreter lock that the server's requests and pages need. `ingest`
    serves the send-log route too."""

    def __init__(
        self, engine: Engine, spool: Spool, ingest_lock: threading.Lock, unfoldable: Path, read_apart: bool = False
    ) -> None:
        self.engine = engine
        self.spool = spool
        self.ingest_lock = ingest_lock
        self.unfoldable = unfoldable
        self._read_apart = read_apart
        self._reader: ReaderProcess | None = None
        self._starter: threading.Thread | None = None  # the thread starting a reader, if any
        self._next_start = 0.0  # time.monotonic() from which a reader may be started
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-fold", daemon=True)
        self._started_reader()

    def start(self) -> None:
        self._thread.start()

    def ingest(self, items: Sequence[Received], scope: Scope | None = None) -> IngestSummary:
        """One ingest run over bodies (`ingest_bodies`), read by the child process when one is ready;
        the caller holds `ingest_lock`. When the child goes away in the middle (killed), the bodies
        are read again here while a new one starts (what was written is kept once, and counted as
        this run's, not as already stored)."""
        stored: set[str] = set()  # the payloads this run wrote, for a second try
        try:
            return self._ingest_once(items, scope, stored)
        except ReaderStopped as exc:
            LOG.warning("fold: %s; reading its %d bodies again here while a new one starts", exc, len(items))
            return self._ingest_once(items, scope, stored)

    def _ingest_once(self, items: Sequence[Received], scope: Scope | None, stored: set[str]) -> IngestSummary:
        reader = self._started_reader()
        if reader is None:
            return ingest_bodies(self.engine, items, scope, stored)
        try:
            return reader.ingest(self.engine, [(item.source, item.body) for item in items], scope, stored)
        except (IngestFailed, ReadingFailed):  # answers: the reader is ready for the next run
            raise
        except BaseException:  # gone, or killed by `ingest` because the exchange could not go on
            self._close_reader()
            raise

    def _started_reader(self) -> ReaderProcess | None:
        """The reader process when one is ready; else None, and one is started in the background
        (not sooner than `READER_RETRY_S` after one failed to start): meanwhile the bodies are read
        in this process, so that no fold or send log waits for a reader to start."""
        starting = self._starter is not None and self._starter.is_alive()
        may_start = not starting and not self._stop.is_set() and time.monotonic() >= self._next_start
        if self._read_apart and self._reader is None and may_start:
            self._starter = threading.Thread(target=self._start_reader, name="ingest-reader-start", daemon=True)
            self._starter.start()
        return self._reader

    def _start_reader(self) -> None:
        reader = None
        try:
            reader = ReaderProcess.start()
        except Exception:  # whatever failed: read here, and try again `READER_RETRY_S` later
            LOG.exception("fold: starting a reader process failed")
        with self.ingest_lock:
            stopping = self._stop.is_set()
            if reader is None:
                self._next_start = time.monotonic() + READER_RETRY_S
                LOG.warning("fold: no reader process could start; bodies are read in the server for %.0f s",
                            READER_RETRY_S)
            elif not stopping:
                self._reader = reader
                LOG.info("fold: the bodies are read by a child process (pid %d)", reader.pid)
        if reader is not None and stopping:
            reader.close()

    @property
    def reads_apart(self) -> bool:
        """Whether a reader process reads the bodies now."""
        return self._reader is not None

    def _close_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()

    def _run(self) -> None:
        pause = FOLD_INTERVAL_S
        while True:
            try:
                self.fold_all()
                pause = FOLD_INTERVAL_S
            except DATABASE_FAILURES as exc:
                pause = min(pause * 2, MAX_RETRY_PAUSE_S)
                LOG.warning("fold: the database failed, trying again in %.0f s: %s", pause, exc)
            except Exception:
                LOG.exception("fold: unexpected failure, trying again")
                pause = min(pause * 2, MAX_RETRY_PAUSE_S)
            if self._stop.wait(pause):
                return

    def fold_all(self) -> int:
        """Folds claims until none is left; returns how many bodies were folded."""
        folded = 0
        while True:
            with self.spool.claim() as items:
                if not items:
                    return folded
                started = time.monotonic()
                with self.ingest_lock:
                    self._fold(items)
                folded += len(items)
                LOG.info("fold: %d bodies in %.2f s", len(items), time.monotonic() - started)

    def _fold(self, items: list[Received]) -> None:
        try:
            self.ingest(items)
        except DATABASE_FAILURES:
            raise
        except Exception:  # the ingest code failed on some body: find it, fold the others
            for item in items:
                try:
                    self.ingest([item])
                except DATABASE_FAILURES:
                    raise
                except Exception as exc:
                    self._set_aside(item, exc)

    def _set_aside(self, item: Received, exc: Exception) -> None:
        """Keeps a body the ingest code failed on, before its spool segment or inbox row is dropped:
        fsynced to `unfoldable/` (with its folder), and in `rejected_record` with the error, so
        every app server process of the database shows it. A database failure raises: the body
        stays where it was and the next round tries again."""
        path = self.unfoldable / f"{hashlib.sha256(item.body).hexdigest()}.body"
        write_durably(path, item.body)
        try:
            reject_body(self.engine, item.source, f"could not be folded: {type(exc).__name__}: {exc}", item.body)
        except BatchRefused as refused:  # never for a text made storable; the file still holds it
            LOG.error("fold: the database refused to keep the set-aside body %s: %s", path, refused)
        LOG.error("fold: a %s body could not be folded (%r); kept in %s and rejected_record", item.source, exc, path)

    def stop(self) -> None:
        """Stops the thread after its round, then folds what is left (best effort)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._starter is not None:
            self._starter.join()  # a reader that starts now is closed by it (it sees the stop)
        try:
            self.fold_all()
        except Exception as exc:  # what is left stays spooled and is folded at the next start
            LOG.warning("fold at shutdown failed; the bodies stay spooled: %s", exc)
        with self.ingest_lock:
            self._close_reader()
