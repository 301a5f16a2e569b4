"""The live interface's service, started by the app server's lifespan: the database engine, where
bodies are made durable (a spool file on the embedded database, the `webhook_inbox` table on
PostgreSQL) and the background fold. Routes reach it through `current()`.
"""
import contextlib
import gc
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from data_access.engine import DatabaseError, is_duckdb, open_database
from data_access.ingest import IngestSummary, reject_body
from data_access.scope import Scope
from server.fold import Folder
from server.inbox import InboxSpool
from server.received import Received
from server.settings import Secrets, server_database_url
from server.spool import FileSpool, SpoolInUse

SPOOL_DIR_VARIABLE = "WEBHOOK_SPOOL_DIR"
SWITCH_INTERVAL_S = 0.0005
# Under steady webhook traffic, a fold round at most every 1.5 s (+ the fold's 0.5 s poll): the
# bodies still reach the report within 5 s, and the rounds' fixed cost is spent half as often.
MIN_SEAL_INTERVAL_S = 1.5
# A young collection every 10,000 new container objects instead of Python's 700: measured under
# webhooks and 5 dashboard sessions, the collector's CPU fell from 1.1 to 0.4 s in 30 s and the full
# collections (each holding the interpreter 16-73 ms) from 9 to none; older generations
# keep their default ratios, so a full collection still comes after 100 young ones.
GC_THRESHOLDS = (10_000, 10, 10)
LOG = logging.getLogger(__name__)


@dataclass
class Live:
    engine: Engine
    spool: FileSpool | InboxSpool
    folder: Folder
    ingest_lock: threading.Lock

    async def store(self, item: Received) -> None:
        """Returns once the body would survive kill -9; it is folded within seconds."""
        await self.spool.store(item)

    def ingest_now(self, item: Received, scope: Scope | None = None) -> IngestSummary:
        """Ingests one body at once (the send log answers with its summary after the commit),
        limited to `scope` when the sender's token has one."""
        with self.ingest_lock:
            return self.folder.ingest([item], scope)

    def reject_now(self, item: Received, reason: str) -> None:
        """Keeps an authentic body that cannot be used (an empty one) in `rejected_record` with its
        reason, committed before it returns."""
        with self.ingest_lock:
            reject_body(self.engine, item.source, reason, item.body)

    def stop(self) -> None:
        self.spool.stop_accepting()
        self.folder.stop()
        self.spool.close()
        self.engine.dispose()


def spool_dir(engine: Engine) -> Path:
    """`WEBHOOK_SPOOL_DIR`, else beside the DuckDB file (`data/report.duckdb` -> `data/report.spool`),
    else `data/spool` (PostgreSQL keeps its bodies in the database; only set-aside bodies go here)."""
    configured = os.environ.get(SPOOL_DIR_VARIABLE)
    if configured:
        return Path(configured)
    if is_duckdb(engine):
        return Path(engine.url.database).with_suffix(".spool")
    return Path("data/spool")


def start(url: str) -> Live:
    engine = open_database(url, writer=True)  # takes turns with the commands' ingest run by the server
    folder_path = spool_dir(engine)
    spool = FileSpool(folder_path, MIN_SEAL_INTERVAL_S) if is_duckdb(engine) else InboxSpool(engine)
    lock = threading.Lock()
    folder = Folder(engine, spool, lock, folder_path / "unfoldable", read_apart=True)
    folder.start()  # its first round folds what an earlier run left
    return Live(engine, spool, folder, lock)


_current: Live | None = None
_secrets: Secrets | None = None


def current() -> Live | None:
    """The running service, or None when the database could not be opened at startup."""
    return _current


def secrets() -> Secrets:
    """The endpoints' secrets, read at startup (or at first use outside the app server)."""
    global _secrets
    if _secrets is None:
        _secrets = Secrets.load()
    return _secrets


def _log_to_stderr() -> None:
    """The live interface's messages (folds, failures) on the server's standard error."""
    logger = logging.getLogger("server")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


@contextlib.asynccontextmanager
async def running(_app: Any) -> AsyncIterator[dict[str, Any]]:
    """Lifespan part: starts the service (the dashboard still starts when the database cannot be
    opened: its pages say why, the live routes answer 503 and /healthz 503)."""
    global _current, _secrets
    _log_to_stderr()
    # The fold (Python-heavy parsing) shares the interpreter lock with the event loop: with the
    # default 5 ms switch interval, each time the loop gives up the lock for a socket call it may
    # wait 5 ms to get it back, which stretched the slowest answers past 200 ms under load.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.set_threshold(*GC_THRESHOLDS)
    _secrets = Secrets.load()
    try:
        _current = await run_in_threadpool(start, server_database_url())
        # What startup loaded (Streamlit, pandas, SQLAlchemy...) stays for the process's life:
        # leaving it out of the collector's full scans shortens the pauses they make under load.
        gc.freeze()
    except (DatabaseError, SpoolInUse) as exc:
        LOG.error("live interface off: %s", exc)
        _current = None
    try:
        yield {"live": _current}
    finally:
        service, _current = _current, None
        if service is not None:
            await run_in_threadpool(service.stop)
