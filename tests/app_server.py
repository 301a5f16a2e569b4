"""The app served for real: `streamlit run app.py -- --db URL` on a free port, for the browser tests
and the benchmark's page-load timing. Chromium is Debian's; nothing is downloaded."""
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import psutil
import pytest
from sqlalchemy.engine import Engine

from data_access.engine import open_database
from tests.factories import insert

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


class AppServerError(RuntimeError):
    """The app did not start; the message carries its log."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port where nothing listens while the block runs: bound and never listening, so
    connections are refused and no other process can take it meanwhile."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        yield probe.getsockname()[1]


class AppProcess:
    """`streamlit run app.py -- --db URL` in a child process, which a test may stop, kill (SIGKILL)
    and start again on the same port. `env` adds settings (the live interface's secrets); `args` are
    more `streamlit run` options; `port` is chosen when not given; `tree` is the code to run (this
    one when not given: the benchmark also runs an earlier version's)."""

    def __init__(self, db_url: str, log_path: Path, env: dict[str, str] | None = None, args: Sequence[str] = (),
                 port: int | None = None, tree: Path | None = None) -> None:
        self.db_url = db_url
        self.tree = tree or ROOT
        self.log_path = log_path
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REPORT_LANG", "REPORT_TZ")}
        self.env.update(env or {})
        self.args = list(args)
        self.port = port or free_port()
        self.port_may_move = port is None  # until the app first listens on it
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 60) -> str:
        """Starts the app; returns its base URL once it listens on its port and /_stcore/health says ok.
        A port chosen here that another process took before the app's first start is swapped for a
        new one; a restart keeps the port."""
        self._launch()
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                if self.port_may_move and f"Port {self.port} is not available" in self.log_path.read_text():
                    self.port = free_port()
                    self.base = f"http://127.0.0.1:{self.port}"
                    self._launch()
                    continue
                raise AppServerError(f"streamlit exited with {self.proc.returncode}: {self.log_path.read_text()}")
            try:
                if self._listening():  # the answer below is this process's, not another's on the port
                    with urllib.request.urlopen(f"{self.base}/_stcore/health", timeout=2) as answer:
                        if answer.read() == b"ok":
                            self.port_may_move = False
                            return self.base
            except (OSError, psutil.Error):
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise AppServerError(f"streamlit did not answer /_stcore/health within {timeout_s:.0f} s: "
                                     f"{self.log_path.read_text()}")
            time.sleep(0.3)

    def _launch(self) -> None:
        with self.log_path.open("a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
                 "--server.headless", "true", "--server.address", "127.0.0.1", *self.args, "--", "--db", self.db_url],
                cwd=self.tree, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )

    def _listening(self) -> bool:
        return any(c.status == psutil.CONN_LISTEN and c.laddr.port == self.port
                   for c in psutil.Process(self.proc.pid).net_connections("tcp"))

    def stop(self) -> None:
        """Asks the app to stop (SIGTERM), as a service manager does; kills it after 15 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: no shutdown work at all."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def serve_app(db_url: str, log_path: Path, timeout_s: float = 60, env: dict[str, str] | None = None,
              args: Sequence[str] = (), port: int | None = None) -> Iterator[str]:
    """Runs the app on `db_url` until the block ends; yields its base URL once /_stcore/health says ok.

    The settings the app reads from the environment are removed, so each test says what it wants
    (`env`); `args` and `port` as for `AppProcess`.
    """
    app = AppProcess(db_url, log_path, env, args, port)
    try:
        yield app.start(timeout_s)
    except BaseException:  # the test failed while the app ran: what the app said is part of the report
        print(f"the app's log, last lines:\n{_tail(log_path)}")
        raise
    finally:
        app.stop()


def _tail(log_path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(not read: {error})"


@contextlib.contextmanager
def served_app(db_url: str, log_path: Path, timeout_s: float = 60, env: dict[str, str] | None = None,
               args: Sequence[str] = (), port: int | None = None) -> Iterator[str]:
    """`serve_app` for a test or fixture: the test fails with the app's log when the app does not start,
    and when its log shows a traceback once the block ends."""
    try:
        with serve_app(db_url, log_path, timeout_s, env, args, port) as base:
            yield base
    except AppServerError as error:
        pytest.fail(str(error))
    log = log_path.read_text()
    assert "Traceback" not in log, log


@contextlib.contextmanager
def serve_rows(folder: Path, mts: Sequence[dict], mos: Sequence[dict],
               prepare: Callable[[Engine], None] | None = None) -> Iterator[str]:
    """The app on a new DuckDB file in `folder` holding these rows (then `prepare(engine)`), for a
    module's browser tests: yields its base URL; the test fails when the app does not start or its
    log shows a traceback."""
    url = f"duckdb:///{folder / 'report.duckdb'}"
    engine = open_database(url)
    insert(engine, mts, mos)
    if prepare is not None:
        prepare(engine)
    engine.dispose()
    with served_app(url, folder / "streamlit.log") as base:
        yield base
