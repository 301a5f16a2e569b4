"""A child process that writes batches, for large inputs.

Python parses on one core while the database writes on the other. A writer thread would share the
GIL with the parser, and DuckDB run from a thread keeps needing the GIL back (measured here: a query
ran two to three times slower beside a busy Python thread). The child opens its own engine on the
same URL and answers each batch with the ids of the payloads that were already stored (or with the
database's reason when it refused a value of the batch, so that the parent can split it).
"""
import sys
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

from data_access.engine import DATABASE_ERRORS, DatabaseError, first_line, make_engine
from data_access.ingest.batch import Batch, BatchWrite
from data_access.ingest.child import READY, ChildProcess
from data_access.ingest.waiting import WAIT_MESSAGE
from data_access.ingest.writer import BatchRefused, write_batch


class WriterProcess(ChildProcess):
    """Sends batches to the child and waits for its answer (call from one thread at a time)."""

    def __init__(self, url: str) -> None:
        super().__init__(f"{__name__}:serve", url)

    def write(self, batch: Batch, fold: bool) -> set[str]:
        try:
            self.pipe.send((batch, fold))
            answer = self.pipe.recv()
        except (EOFError, OSError):
            raise DatabaseError("the ingest writer process stopped unexpectedly") from None
        return stored_ids(answer)


def serve(pipe: Connection, url: str) -> None:
    """The child's work: writes the batches it is sent until None comes."""
    engine = make_engine(url, on_wait=lambda: print(WAIT_MESSAGE, file=sys.stderr, flush=True))
    pipe.send(READY)
    try:
        while (message := pipe.recv()) is not None:
            pipe.send(write_answer(partial(write_batch, engine), *message))
    finally:
        engine.dispose()


Answer = tuple[str, Any]


def write_answer(write: BatchWrite, batch: Batch, fold: bool) -> Answer:
    """The outcome of `write` (`write_batch` on an engine) as a message for the process that handed
    the batch over."""
    try:
        return "ok", sorted(write(batch, fold))
    except BatchRefused as exc:
        return "refused", str(exc)
    except DATABASE_ERRORS as exc:
        return "error", first_line(exc)
    except Exception as exc:  # noqa: BLE001 - a bug: said to the other process, which raises it
        return "failed", f"{type(exc).__name__}: {exc}"


def stored_ids(answer: Answer) -> set[str]:
    """What `write_batch` returned in the process that wrote, or what it raised."""
    outcome, value = answer
    if outcome == "refused":
        raise BatchRefused(value)
    if outcome == "error":
        raise DatabaseError(value)
    if outcome == "failed":
        raise WriteFailed(value)
    return set(value)


class WriteFailed(RuntimeError):
    """The writing process failed on a batch for a reason that is not the database's (a bug)."""
