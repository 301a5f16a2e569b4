"""The embedded database's spool: raw bodies made durable in an append-only file before the 200.

Each accepted body is appended as one frame (magic, source length, body length, CRC-32, source,
body) to the current segment file; a group of appends is written and fsynced once (`GroupCommit`),
so a body answered 200 survives kill -9 the next instant. The folder seals the current segment
(starts a new one), folds the sealed segments and deletes each once its bodies are committed; a
segment left by a killed process is folded at the next start. Under steady traffic the current
segment is sealed at most every `min_seal_interval_s` (until the spool stops accepting): each fold
round has a fixed cost in the database (about 0.2 s of CPU into the 1M-row demo, whatever its size),
and rounds back to back spent it once a second. A frame cut short by a crash was
never answered 200 (its fsync had not returned) and is skipped, as is anything after it.
Folding a segment twice (a crash between the commit and the delete) changes nothing: ingest keeps
each payload once.
"""
import contextlib
import fcntl
import os
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

from server.group_commit import GroupCommit
from server.received import Received

MAGIC = b"WRS1"
HEADER = struct.Struct(">4sHII")  # magic, source length, body length, crc32(source + body)
SEGMENT_GLOB = "segment-*.spool"


def _segment_name(number: int) -> str:
    return f"segment-{number:012d}.spool"


def _frame(item: Received) -> bytes:
    source = item.source.encode("utf-8")
    crc = zlib.crc32(item.body, zlib.crc32(source))  # of source + body, without copying the body
    return HEADER.pack(MAGIC, len(source), len(item.body), crc) + source + item.body


def read_segment(path: Path) -> list[Received]:
    """The whole frames of a segment, in order; a torn or damaged tail ends it."""
    data = path.read_bytes()
    items, offset = [], 0
    while offset + HEADER.size <= len(data):
        magic, source_len, body_len, crc = HEADER.unpack_from(data, offset)
        start = offset + HEADER.size
        end = start + source_len + body_len
        if magic != MAGIC or end > len(data) or zlib.crc32(data[start:end]) != crc:
            break
        items.append(Received(data[start : start + source_len].decode("utf-8"), data[start + source_len : end]))
        offset = end
    return items


class SpoolInUse(RuntimeError):
    """Another process owns the spool folder."""


class FileSpool:
    """Durable acceptance for one process (the embedded database's one owner)."""

    def __init__(self, directory: Path, min_seal_interval_s: float = 0.0) -> None:
        self.directory = directory
        self.min_seal_interval_s = min_seal_interval_s
        directory.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(directory / ".lock", "a+b")  # noqa: SIM115 - held for the spool's life
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise SpoolInUse(f"the spool folder {directory} is in use by another app server process") from None
        self._mutex = threading.Lock()  # the current segment: appends versus sealing
        existing = self._segments()
        self._number = (int(existing[-1].stem.split("-")[1]) + 1) if existing else 1
        self._fd: int | None = self._open_current()
        self._current_empty = True
        self._sealed_at = -float("inf")  # time.monotonic() of the last seal
        self._accepting = True
        self._group = GroupCommit(self._write_group, "spool-writer")

    def _segments(self) -> list[Path]:
        return sorted(self.directory.glob(SEGMENT_GLOB))

    def _open_current(self) -> int:
        return self._open(self._number)

    def _open(self, number: int) -> int:
        fd = os.open(self.directory / _segment_name(number), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the new file's name is durable too
        finally:
            os.close(dir_fd)
        return fd

    async def store(self, item: Received) -> None:
        """Returns once the body is on disk."""
        await self._group.submit(item)

    def _write_group(self, items: list[Received]) -> None:
        data = b"".join(_frame(item) for item in items)
        with self._mutex:
            if self._fd is None:
                self._fd = self._open_current()
            try:
                view = memoryview(data)
                while view:
                    written = os.write(self._fd, view)
                    view = view[written:]
                os.fdatasync(self._fd)
            except OSError:
                # A failed write (disk full) may have left part of a frame: later frames go to a new
                # segment, so that the reader, which stops at the damaged frame, still reaches them.
                os.close(self._fd)
                self._fd = None
                self._number += 1
                self._current_empty = True
                raise
            self._current_empty = False

    def _seal(self) -> None:
        """Starts a new current segment, so the previous one can be folded; not sooner than
        `min_seal_interval_s` after the last seal while the spool accepts bodies. The new segment
        is made durable (its folder fsynced: a journal commit, tens of milliseconds on a busy disk)
        before the switch, outside the lock: appends and their 200s go on meanwhile."""
        with self._mutex:
            if self._current_empty:
                return
            now = time.monotonic()
            if self._accepting and now - self._sealed_at < self.min_seal_interval_s:
                return
            number = self._number
        new_fd = self._open(number + 1)
        with self._mutex:
            if self._number != number:  # a failed write moved on to a new segment meanwhile
                os.close(new_fd)
                return
            if self._fd is not None:
                os.close(self._fd)
            self._number, self._fd = number + 1, new_fd
            self._current_empty = True
            self._sealed_at = now

    @contextlib.contextmanager
    def claim(self) -> Iterator[list[Received]]:
        """The bodies of the oldest sealed segment (sealing the current one when nothing older is
        left and its interval has passed; else none); the segment is deleted when the block ends
        without an exception. Segments with no whole frame (left empty by a killed process) are
        deleted on the way."""
        while True:
            sealed = self._sealed()
            if not sealed:
                self._seal()
                sealed = self._sealed()
            if not sealed:
                yield []
                return
            path = sealed[0]
            items = read_segment(path)
            if items:
                break
            path.unlink()
        yield items
        path.unlink()

    def _sealed(self) -> list[Path]:
        with self._mutex:
            current = self.directory / _segment_name(self._number)
        return [path for path in self._segments() if path != current]

    def stop_accepting(self) -> None:
        """Writes the appends queued so far; later ones fail (503, the provider retries). From now
        on the current segment is sealed at the next claim, so a last fold takes everything."""
        self._group.close()
        with self._mutex:
            self._accepting = False

    def close(self) -> None:
        with self._mutex:
            if self._fd is not None:
                os.close(self._fd)
            if self._current_empty:
                (self.directory / _segment_name(self._number)).unlink(missing_ok=True)
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()
