"""The fold's parsing in a child process: the webhook bodies are parsed there, written here.

Reading a body (JSON, the provider's format, the events, the batch's Arrow tables) is Python work
that holds the interpreter lock; in the app server it took the lock from the event loop that
answers the webhooks and from the pages' scripts (py-spy on the server under load: the fold's
thread had half as many busy samples as the event loop itself). The child runs the same ingest code as
the `ingest` command (`ingest_streams`) on the bodies it is sent, but hands every batch back to the
server, which writes it with `write_batch` on its own engine: the server stays the only process
that opens the embedded file, and the pages keep reading the instance the fold writes to (SPEC 7).

The child is `python -m server.parsing` (a plain interpreter: `multiprocessing`'s spawn would
import the dashboard's main module in it as well); the two talk in pickles over its standard input
and output. It ignores Ctrl-C (the server stops it) and ends when its input closes (the server
stopped or killed). When it stops unexpectedly, `ChildGone` is raised and the caller parses in its
own thread instead.
"""
from __future__ import annotations

import contextlib
import io
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.engine import Engine

from data_access.engine import DATABASE_ERRORS, DatabaseError, first_line
from data_access.ingest import IngestFailed, IngestSummary, ingest_streams
from data_access.ingest.batch import Batch
from data_access.ingest.writer import BatchRefused, write_batch
from server.received import Received

ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_S = 10.0


class ChildGone(RuntimeError):
    """The parsing process stopped or could not start."""


class ParsingFailed(RuntimeError):
    """The ingest code failed on some body (not a database problem)."""


class ParsingProcess:
    """Runs ingest runs whose parsing happens in the child (one run at a time)."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "server.parsing"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        try:
            ready = _receive(self._process.stdout) == "ready"
        except (EOFError, OSError, pickle.UnpicklingError):
            ready = False
        if not ready:
            self.close()
            raise ChildGone("the parsing process did not start")

    @property
    def pid(self) -> int:
        return self._process.pid

    def ingest(self, engine: Engine, items: Sequence[Received]) -> IngestSummary:
        """One ingest run over the bodies, as `server.fold.ingest_bodies` runs it in a thread."""
        into, out = self._process.stdin, self._process.stdout
        try:
            _send(into, [(item.source, item.body) for item in items])
            while True:
                message = _receive(out)
                if message[0] == "write":
                    _send(into, _write_here(engine, message[1], message[2]))
                elif message[0] == "done":
                    return message[1]
                elif message[0] == "failed":
                    raise IngestFailed(message[1], message[2])
                else:
                    raise ParsingFailed(message[1])
        except (EOFError, OSError, pickle.UnpicklingError):
            raise ChildGone("the parsing process stopped unexpectedly") from None

    def close(self) -> None:
        """Closes the child's input, which ends it, and waits for it (kills it when it does not end)."""
        with contextlib.suppress(OSError):
            self._process.stdin.close()
        try:
            self._process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()


def _send(stream: BinaryIO, message: object) -> None:
    pickle.dump(message, stream, protocol=pickle.HIGHEST_PROTOCOL)
    stream.flush()


def _receive(stream: BinaryIO) -> Any:
    return pickle.load(stream)


def _write_here(engine: Engine, batch: Batch, fold: bool) -> tuple[str, object]:
    """The answer to the child's batch: the ids already stored, or why it was not written."""
    try:
        return "ok", sorted(write_batch(engine, batch, fold))
    except BatchRefused as exc:
        return "refused", str(exc)
    except DATABASE_ERRORS as exc:
        return "error", first_line(exc)
    except Exception as exc:  # a failure of the writing code: the round fails like a reading one
        return "bug", f"{type(exc).__name__}: {exc}"


def main() -> None:
    """The child: reads lists of (source, body) and answers each with the run's outcome, asking the
    server to write every batch on the way."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    into = sys.stdin.buffer
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot break the messages

    def write(batch: Batch, fold: bool) -> set[str]:
        _send(out, ("write", batch, fold))
        outcome, value = _receive(into)
        if outcome == "ok":
            return set(value)
        if outcome == "refused":
            raise BatchRefused(value)
        if outcome == "error":
            raise DatabaseError(value)
        raise RuntimeError(value)

    try:
        _send(out, "ready")
        while True:
            bodies = _receive(into)
            try:
                summary = ingest_streams(None, ((source, io.BytesIO(body)) for source, body in bodies), write=write)
                _send(out, ("done", summary))
            except IngestFailed as exc:
                _send(out, ("failed", str(exc), exc.summary))
            except Exception as exc:  # noqa: BLE001 - the server sets the body at fault aside
                _send(out, ("broken", f"{type(exc).__name__}: {exc}"))
    except (EOFError, OSError):  # the server closed the input: stopping, or gone
        pass


if __name__ == "__main__":
    main()
