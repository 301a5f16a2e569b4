"""A child process of ingest, spoken to over a pipe (`writer_process`, `reader_process`).

The child is started with `spawn` (no state inherited from the parent: no database connection, no
threads), ignores Ctrl-C (its parent decides when it stops, so nothing is left half done), says
"ready" once it can work, and stops when its parent sends None or goes away.
"""
import multiprocessing
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Self

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0
READY = "ready"


class ChildProcess:
    """The parent's end: `pipe` to the child, which runs `serve(pipe, *args)`."""

    def __init__(self, name: str, serve: Callable[..., None], *args: Any) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, child_end = context.Pipe()
        self._process = context.Process(target=_child, args=(serve, child_end, *args), name=name, daemon=True)
        self._process.start()
        child_end.close()

    @classmethod
    def start(cls, *args: Any) -> Self | None:
        """A child ready to work, or None when none could start (e.g. a script read from standard
        input, which `spawn` cannot import again): the caller then does the work itself."""
        child = cls(*args)
        try:
            if child.pipe.poll(START_TIMEOUT_S) and child.pipe.recv() == READY:
                return child
        except (EOFError, OSError):
            pass
        child.close()
        return None

    def close(self) -> None:
        """Tells the child to stop after the work in progress and waits for it."""
        try:
            self.pipe.send(None)
        except OSError:
            pass
        self._process.join(STOP_TIMEOUT_S)
        if self._process.is_alive():  # pragma: no cover - only if the work hangs
            self._process.terminate()
        self.pipe.close()


def _child(serve: Callable[..., None], pipe: Connection, *args: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        serve(pipe, *args)
    except (EOFError, BrokenPipeError):  # the parent went away
        pass
