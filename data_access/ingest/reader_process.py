"""A child process that reads bodies into batches for the process that owns the database.

The app server keeps the database (on the embedded default it is the file's one owner) and writes
every batch; reading the bodies (JSON, the providers' formats, hashing, building the batches'
tables) is Python work that would otherwise hold the server's one interpreter lock against its
requests and pages. The child runs the same ingest code as the command (`read_streams`) and hands
each batch back to be written; the parent answers as `write_batch` would, so a refused batch is
split in the child exactly as in a run of the command.
"""
import gc
import io
from collections.abc import Sequence
from multiprocessing.connection import Connection

from sqlalchemy.engine import Engine

from data_access.ingest.batch import Batch
from data_access.ingest.child import READY, ChildProcess
from data_access.ingest.loader import IngestFailed, IngestSummary, batch_writer, read_streams
from data_access.ingest.writer_process import stored_ids, write_answer
from data_access.scope import Scope

Body = tuple[str, bytes]  # the input's name (the route it came by) and its bytes


class ReaderStopped(RuntimeError):
    """The reading process went away in the middle of a run (killed, or crashed on a body)."""


class ReadingFailed(RuntimeError):
    """The ingest code failed in the reading process (a bug, never the database's doing)."""


class ReaderProcess(ChildProcess):
    """One ingest run at a time (call from one thread at a time)."""

    def __init__(self) -> None:
        super().__init__(f"{__name__}:serve")

    def ingest(
        self, engine: Engine, bodies: Sequence[Body], scope: Scope | None = None, stored: set[str] | None = None
    ) -> IngestSummary:
        """`ingest_streams` over these bodies (with `stored` as it takes it), read in the child and
        written here into `engine`. Raises `IngestFailed` as it does, `ReadingFailed` when the ingest
        code failed, and `ReaderStopped` when the child went away (close this one and start another)."""
        write = batch_writer(engine, stored)
        try:
            self.pipe.send((list(bodies), scope))
            while (message := self.pipe.recv())[0] == "write":
                self.pipe.send(write_answer(write, *message[1:]))
        except (EOFError, OSError):
            raise ReaderStopped("the ingest reader process went away") from None
        except BaseException:  # the exchange cannot go on (out of memory, a message that cannot be read)
            self.kill()
            raise
        kind, *details = message
        if kind == "failed":
            raise IngestFailed(*details)
        if kind == "broken":
            raise ReadingFailed(*details)
        return details[0]


def serve(pipe: Connection) -> None:
    """The child's work: reads the bodies of each run it is sent until None comes."""
    # Reading makes many short-lived, acyclic objects: the cyclic collector runs between runs only.
    gc.disable()
    pipe.send(READY)
    while (message := pipe.recv()) is not None:
        bodies, scope = message

        def write(batch: Batch, fold: bool) -> set[str]:
            pipe.send(("write", batch, fold))
            return stored_ids(pipe.recv())

        try:
            pipe.send(("done", read_streams(write, ((name, io.BytesIO(body)) for name, body in bodies), scope)))
        except IngestFailed as exc:
            pipe.send(("failed", str(exc), exc.summary))
        except Exception as exc:  # noqa: BLE001 - told to the parent, which sets the bodies aside
            pipe.send(("broken", f"{type(exc).__name__}: {exc}"))
        del bodies, message
        gc.collect()
