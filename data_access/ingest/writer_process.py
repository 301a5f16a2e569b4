"""A child process that writes batches, for large inputs.

Python parses on one core while the database writes on the other. A writer thread would share the
GIL with the parser, and DuckDB run from a thread keeps needing the GIL back (measured here: a query
ran two to three times slower beside a busy Python thread). The child is started with `spawn` (no
state inherited from the parent), opens its own engine on the same URL, ignores Ctrl-C (the parent
stops sending and lets the batch in progress finish, so nothing is left half written) and answers
each batch with the ids of the payloads that were already stored (or with the database's reason
when it refused a value of the batch, so that the parent can split it).
"""
import multiprocessing
import signal
import sys
from multiprocessing.connection import Connection


from data_access.engine import DATABASE_ERRORS, DatabaseError, first_line, make_engine
from data_access.ingest.batch import Batch
from data_access.ingest.waiting import WAIT_MESSAGE
from data_access.ingest.writer import BatchRefused, write_batch

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0


class WriterProcess:
    """Sends batches to the child and waits for its answer (call from one thread at a time)."""

    def __init__(self, url: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child_end = context.Pipe()
        self._process = context.Process(target=_serve, args=(url, child_end), name="ingest-writer", daemon=True)
        self._process.start()
        child_end.close()

    @classmethod
    def start(cls, url: str) -> "WriterProcess | None":
        """A child ready to write, or None when none could start (e.g. a script read from standard
        input, which `spawn` cannot import again): the caller then writes in a thread."""
        writer = cls(url)
        try:
            if writer._pipe.poll(START_TIMEOUT_S) and writer._pipe.recv() == "ready":
                return writer
        except (EOFError, OSError):
            pass
        writer.close()
        return None

    def write(self, batch: Batch, fold: bool) -> set[str]:
        try:
            self._pipe.send((batch, fold))
            outcome, value = self._pipe.recv()
        except (EOFError, OSError):
            raise DatabaseError("the ingest writer process stopped unexpectedly") from None
        if outcome == "refused":
            raise BatchRefused(value)
        if outcome == "error":
            raise DatabaseError(value)
        return set(value)

    def close(self) -> None:
        """Tells the child to stop after the batch in progress and waits for it."""
        try:
            self._pipe.send(None)
        except OSError:
            pass
        self._process.join(STOP_TIMEOUT_S)
        if self._process.is_alive():  # pragma: no cover - only if the database hangs
            self._process.terminate()
        self._pipe.close()


def _serve(url: str, pipe: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine = make_engine(url, on_wait=lambda: print(WAIT_MESSAGE, file=sys.stderr, flush=True))
    pipe.send("ready")
    try:
        while (message := pipe.recv()) is not None:
            try:
                pipe.send(("ok", sorted(write_batch(engine, *message))))
            except BatchRefused as exc:
                pipe.send(("refused", str(exc)))
            except DATABASE_ERRORS as exc:
                pipe.send(("error", first_line(exc)))
    except EOFError:  # the parent went away
        pass
    finally:
        engine.dispose()
