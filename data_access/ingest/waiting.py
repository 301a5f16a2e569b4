"""Saying so while DuckDB's file is held by another process (another ingest, a dashboard not run
as the app server)."""
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.engine import Engine

from data_access.engine import DEFAULT_BUSY_TIMEOUT_S, is_duckdb, shared_file

WAIT_MESSAGE = (
    "ingest: the database file is in use by another process (the dashboard?); "
    f"waiting up to {DEFAULT_BUSY_TIMEOUT_S:.0f} s for it..."
)


def announce_lock_waits(target: Engine | type[Engine], say: Callable[[str], None]) -> Callable | None:
    """Calls `say(WAIT_MESSAGE)` each time a DuckDB connection finds the file held by another
    process; the engine's own connect then waits for it. `target` is an engine, or the Engine class
    for every engine of the process (to cover `open_database`). Returns the listener, for
    `event.remove`. (An engine made here can take `on_wait=` instead: see `make_engine`.)"""
    if isinstance(target, Engine) and not is_duckdb(target):
        return None

    def say_if_held_elsewhere(dialect, _record, _cargs, cparams):
        if dialect.name == "duckdb" and not shared_file(cparams["database"]).try_open():
            say(WAIT_MESSAGE)
        return None  # the engine's own listener hands out the connection, waiting if needed

    event.listen(target, "do_connect", say_if_held_elsewhere, insert=True)
    return say_if_held_elsewhere
