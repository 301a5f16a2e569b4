"""The one engine factory: validates the URL, opens the database, upgrades its schema.

Every failure becomes a `DatabaseError` whose message is one line naming the problem and what is
accepted, for the command line (exit 2) and the app (a message instead of a traceback).

DuckDB lets one process at a time open a file. Inside a process, every engine on a file shares one
DuckDB database instance (`_SharedFile`): each checkout is a cursor of it (a connection of its own,
usable by one thread), so the dashboard's threads, the app server's background writer and an ingest
run by the server read and write side by side, and no two threads ever race to open the file.
Across processes, a process that finds the file held by another waits for it (`DatabaseBusy` after
`busy_timeout_s`). The instance is closed when no cursor is in use, unless an engine made with
`hold=True` (the app server, which owns the file while it runs) is alive.

Exports run inside `export_memory(engine)`, which bounds the instance's memory by
`EXPORT_MEMORY_LIMIT` while they run (see there).
"""
from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import psycopg
import sqlalchemy as sa
from duckdb_engine import ConnectionWrapper
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from data_access.config import SettingError, export_memory_limit

ACCEPTED_URLS = "duckdb:///PATH/TO/FILE.duckdb or postgresql+psycopg://user:password@host:5432/dbname"

# How long a reader or writer waits for another process that holds the embedded file.
DEFAULT_BUSY_TIMEOUT_S = 30.0


class DatabaseError(RuntimeError):
    """The database cannot be used; `str()` is a one-line explanation for people."""


class DatabaseBusy(DatabaseError):
    """Another process holds the embedded database file for longer than the wait allowed."""


class DatabaseMissing(DatabaseError):
    """A command that only reads names an embedded file that does not exist."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"no database file at {path}: check --db or DATABASE_URL "
            "(python -m data_access.demo or python -m data_access.ingest create it)"
        )
        self.path = path


# Every failure a database call may raise: ours, SQLAlchemy's (it wraps the drivers' errors in
# DBAPIError), the drivers' own raised outside SQLAlchemy (DuckDB's, psycopg's), and OSError (a file,
# a socket). Callers that write files as well catch OSError before this.
DATABASE_ERRORS: tuple[type[Exception], ...] = (DatabaseError, SQLAlchemyError, duckdb.Error, psycopg.Error, OSError)


def safe_url(url: str) -> str:
    """The URL with its password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable URL>"


def parse_url(url: str) -> sa.URL:
    """The URL parsed, or a `DatabaseError` naming what is wrong with it."""
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a port that is not a number fails here, not at connect time
    except ArgumentError:
        raise DatabaseError(f"malformed database URL {url!r}: use {ACCEPTED_URLS}") from None
    except ValueError:
        raise DatabaseError(f"the port of the database URL {_masked_url_text(url)!r} is not a number: use {ACCEPTED_URLS}") from None
    return parsed


def _masked_url_text(url: str) -> str:
    """The URL with any password between `:` and `@` masked, without parsing it (for broken URLs)."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


def embedded_path(url: str) -> Path | None:
    """The file of a `duckdb:///` URL (None for other databases); raises `DatabaseError` on a bad URL."""
    parsed = parse_url(url)
    if parsed.drivername != "duckdb":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise DatabaseError(f"the DuckDB URL needs a file: use {ACCEPTED_URLS}")
    return Path(parsed.database).expanduser()


def make_engine(
    url: str,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    *,
    hold: bool = False,
    writer: bool = False,
    create: bool = True,
    on_wait: Callable[[], None] | None = None,
) -> Engine:
    """An engine for a `duckdb:///` or `postgresql+psycopg://` URL.

    DuckDB only: `hold` keeps the file open until the engine is disposed (the app server owns it);
    `writer` makes each connection take the process's write turn for the file, one writer at a time
    (two DuckDB transactions updating the same row conflict); `create=False` refuses a file that
    does not exist (`DatabaseMissing`), for commands that only read; `on_wait` is called when
    another process holds the file and the connection starts waiting for it.
    """
    parsed = parse_url(url)
    if parsed.drivername == "duckdb":
        return _duckdb_engine(parsed, busy_timeout_s, hold, writer, create, on_wait)
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


class _SharedFile:
    """The process's one DuckDB database instance for a file, shared by every engine and thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._database: duckdb.DuckDBPyConnection | None = None
        self._cursors = 0  # cursors handed out and not closed yet
        self._holders = 0  # live engines made with hold=True
        self._exports = 0  # exports running under the export memory limit
        self._bounded = False  # the instance's memory limit is the exports' one
        self.write_turn = threading.Lock()

    def cursor(self, busy_timeout_s: float, on_wait: Callable[[], None] | None) -> duckdb.DuckDBPyConnection:
        """A new connection to the instance, opening the file first if needed (waiting for another
        process that holds it)."""
        if not self._lock.acquire(timeout=busy_timeout_s):  # another thread is waiting for the file
            raise self._busy(busy_timeout_s)
        try:
            if self._database is None:
                self._database = self._open(busy_timeout_s, on_wait)
            cursor = self._database.cursor()
            self._cursors += 1
            return cursor
        finally:
            self._lock.release()

    def try_open(self) -> bool:
        """Opens the file now if no other process holds it; False when one does."""
        with self._lock:
            if self._database is None:
                try:
                    self._database = duckdb.connect(self.path)
                except duckdb.IOException as exc:
                    if "lock" not in str(exc).lower():
                        raise
                    return False
            return True  # the cursor that follows uses it; its release closes it if unused

    def _open(self, busy_timeout_s: float, on_wait: Callable[[], None] | None) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + busy_timeout_s
        pause = 0.02
        waited = False
        while True:
            try:
                return duckdb.connect(self.path)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise
                if time.monotonic() >= deadline:
                    raise self._busy(busy_timeout_s) from None
                if not waited and on_wait is not None:
                    on_wait()
                waited = True
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    def _busy(self, busy_timeout_s: float) -> DatabaseBusy:
        return DatabaseBusy(
            f"the database file {self.path} is in use by another process "
            f"(waited {busy_timeout_s:.0f} s): try again when the data update ends"
        )

    def bound_memory(self, cursor: duckdb.DuckDBPyConnection, limit: str) -> None:
        """An export starts: the first one sets the instance's memory limit to `limit`. When other work
        holds more memory than that, the limit stays as it was (DuckDB refuses the change)."""
        with self._lock:
            if self._exports == 0:
                try:
                    cursor.execute(f"SET memory_limit = '{limit}'")  # a checked size, see config
                    self._bounded = True
                except duckdb.OutOfMemoryException:
                    self._bounded = False
            self._exports += 1

    def unbound_memory(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """An export ends: the last one gives the instance its default memory limit back."""
        with self._lock:
            self._exports -= 1
            if self._exports == 0 and self._bounded:
                cursor.execute("RESET memory_limit")
                self._bounded = False

    def release(self) -> None:
        with self._lock:
            self._cursors -= 1
            self._close_if_unused()

    def hold(self) -> None:
        with self._lock:
            self._holders += 1

    def unhold(self) -> None:
        with self._lock:
            self._holders = max(0, self._holders - 1)
            self._close_if_unused()

    @property
    def is_open(self) -> bool:
        return self._database is not None

    def _close_if_unused(self) -> None:
        if self._database is not None and self._cursors == 0 and self._holders == 0:
            self._database.close()
            self._database = None

    def close(self) -> None:
        """Closes the file at exit, before the interpreter tears DuckDB down."""
        with self._lock:
            if self._database is not None:
                self._database.close()
                self._database = None


_UPGRADE_LOCK = threading.Lock()
_FILES: dict[str, _SharedFile] = {}
_FILES_LOCK = threading.Lock()


def shared_file(path: str | Path) -> _SharedFile:
    """The process's shared instance of the DuckDB file at `path`."""
    key = str(Path(path).expanduser().resolve())
    with _FILES_LOCK:
        if key not in _FILES:
            _FILES[key] = _SharedFile(key)
        return _FILES[key]


@atexit.register
def _close_files() -> None:
    with _FILES_LOCK:
        files = list(_FILES.values())
    for file in files:
        file.close()


class _SharedCursor(ConnectionWrapper):
    """A cursor of the shared instance, as the DuckDB dialect expects it; closing it tells the instance."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, file: _SharedFile, turn: threading.Lock | None) -> None:
        super().__init__(cursor)
        self._file = file
        self._turn = turn

    def close(self) -> None:
        if self.closed:
            return
        try:
            super().close()
        finally:
            self._file.release()
            if self._turn is not None:
                self._turn.release()


def _duckdb_engine(
    parsed: sa.URL,
    busy_timeout_s: float,
    hold: bool,
    writer: bool,
    create: bool,
    on_wait: Callable[[], None] | None,
) -> Engine:
    path = embedded_path(parsed.render_as_string(hide_password=False))
    if not create and not path.exists():
        raise DatabaseMissing(str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot create the folder {path.parent} for the DuckDB file: {exc.strerror}") from None
    file = shared_file(path)
    engine = sa.create_engine(parsed, poolclass=NullPool)

    @event.listens_for(engine, "do_connect")
    def _cursor_of_shared_instance(_dialect, _record, _cargs, _cparams):
        turn = file.write_turn if writer else None
        if turn is not None and not turn.acquire(timeout=busy_timeout_s):
            raise DatabaseBusy(f"another writer of this process kept {file.path} for {busy_timeout_s:.0f} s")
        try:
            return _SharedCursor(file.cursor(busy_timeout_s, on_wait), file, turn)
        except BaseException:
            if turn is not None:
                turn.release()
            raise

    @event.listens_for(engine, "connect")
    def _utc_session(dbapi_connection, _record):
        dbapi_connection.execute("SET TimeZone = 'UTC'")

    if hold:
        file.hold()

        @event.listens_for(engine, "engine_disposed")
        def _unhold(_engine):
            file.unhold()

    return engine


def open_database(
    url: str,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    *,
    hold: bool = False,
    writer: bool = False,
    create: bool = True,
    on_wait: Callable[[], None] | None = None,
) -> Engine:
    """An engine whose database answers and whose schema is at the newest revision (see
    `make_engine` for the options)."""
    from data_access.migrations import upgrade

    engine = make_engine(url, busy_timeout_s, hold=hold, writer=writer, create=create, on_wait=on_wait)
    try:
        with _UPGRADE_LOCK:  # Alembic keeps its context in module globals: one upgrade at a time
            upgrade(engine)
    except DatabaseError:
        engine.dispose()
        raise
    except DATABASE_ERRORS as exc:
        engine.dispose()
        raise DatabaseError(f"cannot open database {safe_url(url)}: {first_line(exc)}") from None
    return engine


@contextmanager
def export_memory(engine: Engine) -> Iterator[None]:
    """Runs an export with the embedded database's memory bounded by `EXPORT_MEMORY_LIMIT` (256MB).

    DuckDB keeps every block of the file it reads in its buffer pool until its memory limit (80% of
    the machine's memory by default) makes it evict some, so an export of millions of rows would keep
    most of the file in memory. The memory limit belongs to the process's instance of the file, not to
    one connection: while exports run, it bounds everything the instance runs (pages, the webhook
    fold), whose sorts and joins spill to the file's temporary folder beyond it. The first export of
    several sets it, the last one resets it to DuckDB's default. A cursor of the instance is held
    meanwhile (not an engine connection, which a `writer` engine would take the write turn for), so
    the instance and the setting stay open between the export's queries. PostgreSQL: nothing to do.
    """
    if not is_duckdb(engine):
        yield
        return
    try:
        limit = export_memory_limit()
    except SettingError as exc:
        raise DatabaseError(str(exc)) from None
    file = shared_file(embedded_path(engine.url.render_as_string(hide_password=False)))
    cursor = file.cursor(DEFAULT_BUSY_TIMEOUT_S, None)
    try:
        file.bound_memory(cursor, limit)
        try:
            yield
        finally:
            file.unbound_memory(cursor)
    finally:
        cursor.close()
        file.release()


def first_line(exc: BaseException) -> str:
    """The first meaningful line of a driver error, without SQL or parameters."""
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()
    return text[0] if text else type(inner).__name__


def is_duckdb(engine: Engine) -> bool:
    return engine.dialect.name == "duckdb"
