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


def announce_lock_waits(engine: Engine, say: Callable[[str], None]) -> Callable | None:
    """Calls `say(WAIT_MESSAGE)` each time a connection of `engine`, made elsewhere, finds the DuckDB
    file held by another process; the engine's own connect then waits for it. Returns the listener,
    for `event.remove`. An engine made here takes `make_engine(on_wait=...)` instead."""
    if not is_duckdb(engine):
        return None

    def say_if_held_elsewhere(dialect, _record, _cargs, cparams):
        if dialect.name == "duckdb" and not shared_file(cparams["database"]).try_open():
            say(WAIT_MESSAGE)
        return None  # the engine's own listener hands out the connection, waiting if needed

    event.listen(engine, "do_connect", say_if_held_elsewhere, insert=True)
    return say_if_held_elsewhere
