"""The one engine factory: validates the URL, opens the database, upgrades its schema.

Every failure becomes a `DatabaseError` whose message is one line naming the problem and what is
accepted, for the command line (exit 2) and the app (a message instead of a traceback).
"""
import atexit
import threading
import time
from pathlib import Path

import duckdb
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool

ACCEPTED_URLS = "duckdb:///PATH/TO/FILE.duckdb or postgresql+psycopg://user:password@host:5432/dbname"

# How long a reader or writer waits for another process that holds the embedded file.
DEFAULT_BUSY_TIMEOUT_S = 30.0
# How long an idle process keeps the embedded file open after its last query (see `_release_when_idle`):
# command-line tools close it at once; the dashboard keeps it for a burst of clicks, so an ingest run
# waits at most this long after the last interaction.
DEFAULT_HOLD_S = 0.0
DASHBOARD_HOLD_S = 5.0


class DatabaseError(RuntimeError):
    """The database cannot be used; `str()` is a one-line explanation for people."""


class DatabaseBusy(DatabaseError):
    """Another process holds the embedded database file for longer than the wait allowed."""


def safe_url(url: str) -> str:
    """The URL with its password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def make_engine(url: str, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S, hold_s: float = DEFAULT_HOLD_S) -> Engine:
    """An engine for a `duckdb:///` or `postgresql+psycopg://` URL; connections are not opened yet.

    `hold_s` (DuckDB only): keep the file open that long after the last query, so a burst of
    queries opens it once; 0 closes it after every connection.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"malformed database URL {url!r}: use {ACCEPTED_URLS}") from None
    if parsed.drivername == "duckdb":
        return _duckdb_engine(parsed, busy_timeout_s, hold_s)
    if parsed.drivername in ("postgresql+psycopg", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            return sa.create_engine(
                parsed,
                pool_pre_ping=True,
                pool_size=5,
                max_overflow=5,
                # UTC sessions: timestamps and the report's local-day arithmetic assume it. No JIT:
                # compiling costs more than it saves on the report's sub-second scans.
                connect_args={"options": "-c timezone=UTC -c jit=off", "connect_timeout": 5},
            )
        except NoSuchModuleError:  # pragma: no cover - psycopg is a pinned requirement
            raise DatabaseError("the psycopg driver is not installed: pip install -r requirements.txt") from None
    raise DatabaseError(f"unsupported database {safe_url(url)!r}: use {ACCEPTED_URLS}")


def _duckdb_engine(parsed: sa.URL, busy_timeout_s: float, hold_s: float) -> Engine:
    if not parsed.database or parsed.database == ":memory:":
        raise DatabaseError(f"the DuckDB URL needs a file: use {ACCEPTED_URLS}")
    folder = Path(parsed.database).expanduser().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot create the folder {folder} for the DuckDB file: {exc.strerror}") from None
    # DuckDB lets one process at a time open a file. Without a hold, the file is held only while a
    # connection is open, so the dashboard and an ingest run take turns on it; with one, connections
    # are pooled and all closed once the process has been idle for `hold_s`.
    if hold_s > 0:
        engine = sa.create_engine(parsed, pool_size=2, max_overflow=4)
        _release_when_idle(engine, hold_s)
    else:
        engine = sa.create_engine(parsed, poolclass=NullPool)

    @event.listens_for(engine, "do_connect")
    def _connect_waiting_for_lock(dialect, _record, cargs, cparams):
        deadline = time.monotonic() + busy_timeout_s
        pause = 0.02
        while True:
            try:
                return dialect.connect(*cargs, **cparams)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise
                if time.monotonic() >= deadline:
                    raise DatabaseBusy(
                        f"the database file {parsed.database} is in use by another process "
                        f"(waited {busy_timeout_s:.0f} s): try again when the data update ends"
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    @event.listens_for(engine, "connect")
    def _utc_session(dbapi_connection, _record):
        dbapi_connection.execute("SET TimeZone = 'UTC'")

    return engine


def _release_when_idle(engine: Engine, hold_s: float) -> None:
    """Closes every pooled connection once none has been in use for `hold_s` seconds."""
    state = {"in_use": 0, "last_used": time.monotonic(), "timer": None}
    lock = threading.Lock()

    def release() -> None:
        with lock:
            idle = state["in_use"] == 0 and time.monotonic() - state["last_used"] >= hold_s * 0.99
            state["timer"] = None
        if idle:
            engine.pool.dispose()

    @event.listens_for(engine, "checkout")
    def _checkout(*_args) -> None:
        with lock:
            state["in_use"] += 1

    @event.listens_for(engine, "checkin")
    def _checkin(*_args) -> None:
        with lock:
            state["in_use"] = max(0, state["in_use"] - 1)
            state["last_used"] = time.monotonic()
            if state["timer"] is not None:
                state["timer"].cancel()
            timer = threading.Timer(hold_s, release)
            timer.daemon = True
            state["timer"] = timer
            timer.start()

    def close_at_exit() -> None:
        """Stop the timer and close the file before the interpreter tears DuckDB down."""
        with lock:
            timer = state["timer"]
        if timer is not None:
            timer.cancel()
            timer.join()
        engine.dispose()

    atexit.register(close_at_exit)


def open_database(
    url: str, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S, hold_s: float = DEFAULT_HOLD_S
) -> Engine:
    """An engine whose database answers and whose schema is at the newest revision."""
    from data_access.migrations import upgrade

    engine = make_engine(url, busy_timeout_s, hold_s)
    try:
        upgrade(engine)
    except DatabaseError:
        raise
    except (DBAPIError, duckdb.Error, OSError) as exc:
        raise DatabaseError(f"cannot open database {safe_url(url)}: {first_line(exc)}") from None
    return engine


def first_line(exc: BaseException) -> str:
    """The first meaningful line of a driver error, without SQL or parameters."""
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()
    return text[0] if text else type(inner).__name__


def is_duckdb(engine: Engine) -> bool:
    return engine.dialect.name == "duckdb"
