"""A child process of ingest, spoken to over a pipe (`writer_process`, `reader_process`).

The child is a new interpreter that runs this module's `main` with one end of a socket pair: nothing
of the parent comes with it (no database connection, no threads, and not the parent's `__main__`,
which `multiprocessing`'s spawn would run again: in the app server that is the dashboard script of
the last page run). Its arguments come over the pipe (a database URL may hold a password, which a
command line would show to every user of the machine). It runs in a process group of its own and
ignores SIGINT, so a Ctrl-C at the terminal reaches only its parent, which decides when it stops
(nothing is left half done); it says "ready" once it can work, and stops when its parent sends None
or goes away.
"""
import importlib
import os
import signal
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Self

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0
READY = "ready"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ChildProcess:
    """The parent's end: `pipe` to the child, which runs `serve(pipe, *args)` (`serve` named as
    "module:function")."""

    def __init__(self, serve: str, *args: Any) -> None:
        parent_end, child_end = socket.socketpair()
        paths = os.environ.get("PYTHONPATH")
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), *([paths] if paths else [])])}
        with parent_end, child_end:
            self._process = subprocess.Popen(
                [sys.executable, "-c", f"from {__name__} import main; main()", serve, str(child_end.fileno())],
                pass_fds=[child_end.fileno()], stdin=subprocess.DEVNULL, env=environment, process_group=0,
            )
            self.pipe = Connection(parent_end.detach())
        self._args = args

    @classmethod
    def start(cls, *args: Any) -> Self | None:
        """A child ready to work, or None when none could start: the caller then does the work itself."""
        try:
            child = cls(*args)
        except OSError:  # no process could be made (out of memory, of processes, of files)
            return None
        try:
            child.pipe.send(child._args)
            if child.pipe.poll(START_TIMEOUT_S) and child.pipe.recv() == READY:
                return child
        except (EOFError, OSError):
            pass
        child.close()
        return None

    @property
    def pid(self) -> int:
        return self._process.pid

    def kill(self) -> None:
        """Stops the child at once (when the exchange with it cannot go on)."""
        self._process.kill()

    def close(self) -> None:
        """Tells the child to stop after the work in progress and waits for it."""
        try:
            self.pipe.send(None)
        except OSError:
            pass
        try:
            self._process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if the work hangs
            self._process.kill()
            self._process.wait()
        self.pipe.close()


def main() -> None:
    """The child's side: `python -c "...main()" MODULE:FUNCTION FD` (see `ChildProcess`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    module, function = sys.argv[1].split(":")
    pipe = Connection(int(sys.argv[2]))
    try:
        getattr(importlib.import_module(module), function)(pipe, *pipe.recv())
    except (EOFError, OSError):  # the parent went away
        pass
