"""The app served for real: `streamlit run app.py -- --db URL` on a free port, for the browser tests
and the benchmark's page-load timing. Chromium is Debian's; nothing is downloaded."""
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

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
def serve_app(db_url: str, log_path: Path, timeout_s: float = 60, env: dict[str, str] | None = None,
              args: Sequence[str] = (), port: int | None = None) -> Iterator[str]:
    """Runs the app on `db_url` until the block ends; yields its base URL once /_stcore/health says ok.

    The settings the app reads from the environment are removed, so each test says what it wants
    (`env`); `args` are more `streamlit run` options.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REPORT_LANG", "REPORT_TZ")} | (env or {})
    port = port or free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.headless", "true", "--server.address", "127.0.0.1", *args, "--", "--db", db_url],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if proc.poll() is not None:
                    raise AppServerError(f"streamlit exited with {proc.returncode}: {log_path.read_text()}")
                try:
                    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                        if answer.read() == b"ok":
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise AppServerError(f"streamlit did not answer /_stcore/health within {timeout_s:.0f} s")
                time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
