"""Saying so while DuckDB's file is held by another process (the dashboard, another ingest)."""
from collections.abc import Callable

import duckdb
from sqlalchemy import event
from sqlalchemy.engine import Engine

from data_access.engine import DEFAULT_BUSY_TIMEOUT_S, is_duckdb

WAIT_MESSAGE = (
    "ingest: the database file is in use by another process (the dashboard?); "
    f"waiting up to {DEFAULT_BUSY_TIMEOUT_S:.0f} s for it..."
)


def announce_lock_waits(target: Engine | type[Engine], say: Callable[[str], None]) -> Callable | None:
    """Calls `say(WAIT_MESSAGE)` each time a DuckDB connection finds the file locked; the engine's
    own connect then waits for it. `target` is an engine, or the Engine class for every engine of
    the process (to cover `open_database`). Returns the listener, for `event.remove`."""
    if isinstance(target, Engine) and not is_duckdb(target):
        return None

    def try_once_then_wait(dialect, _record, cargs, cparams):
        try:
            return dialect.connect(*cargs, **cparams)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            say(WAIT_MESSAGE)
            return None  # the next listener, the engine's own, waits for the lock

    event.listen(target, "do_connect", try_once_then_wait, insert=True)
    return try_once_then_wait
