"""Writes the generated chunks through each engine's bulk path (`data_access.bulk`), in one
transaction. With more than one chunk, a worker process generates chunk k + 1 while chunk k loads and
hands it over as an Arrow IPC file in shared memory, read back memory-mapped. A thread would not
do: DuckDB's scan of a registered Arrow table needs the GIL, and the generator holds it.
"""
import multiprocessing
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa
import pyarrow.ipc as pa_ipc
from sqlalchemy.engine import Connection, Engine

from data_access import hourly
from data_access.bulk import append
from data_access.data_version import bump
from data_access.demo.generator import Chunk, MoOrderer, Plan, make_chunk, make_plan
from data_access.engine import is_duckdb
from data_access.ingest.writer import INGEST_LOCK_KEY
from data_access.partitions import ensure_months
from data_access.schema import mo_hourly, mo_message, mt_hourly, mt_hourly_status, mt_message

DEMO_SOURCE = "demo"

Progress = Callable[[int, int], None]  # (MT rows written, MT rows in total)


@dataclass(frozen=True)
class DemoSummary:
    mt_rows: int
    mo_rows: int
    first_day: date  # first and last local day (America/Sao_Paulo) holding messages
    last_day: date
    seconds: float


def generate(
    engine: Engine, rows: int, days: int, seed: int, end: date, progress: Progress | None = None
) -> DemoSummary:
    """Replace the database's demo rows with `rows` MTs (and their MOs) over the `days` ending at `end`.

    The same (rows, days, seed, end) always give the same rows. Rows from other sources are kept.
    Raises ValueError for rows or days below 1 or a negative seed. Beyond one chunk (1M rows) a
    worker process is spawned, so a script calling this needs the `if __name__ == "__main__":` guard.
    """
    if rows < 1 or days < 1 or seed < 0:
        raise ValueError(f"need rows >= 1, days >= 1 and seed >= 0 (got {rows}, {days}, {seed})")
    started = time.perf_counter()
    plan = make_plan(rows, days, seed, end)
    orderer = MoOrderer()
    mt_rows = mo_rows = 0
    with engine.begin() as conn:
        if not is_duckdb(engine):  # one writer of messages at a time, as the ingest (the ids stay unique)
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(INGEST_LOCK_KEY)))
        conn.execute(mo_message.delete().where(mo_message.c.source == DEMO_SOURCE))
        conn.execute(mt_message.delete().where(mt_message.c.source == DEMO_SOURCE))
        _prepare(conn)
        # A day either side: the plan's days are local (America/Sao_Paulo), partitions UTC months.
        ensure_months(conn, plan.first_day - timedelta(days=1), plan.last_day + timedelta(days=1))
        if progress:
            progress(0, rows)
        for chunk in _chunks(plan):
            append(conn, mt_message.name, chunk.mt)
            mo = orderer.push(chunk)
            append(conn, mo_message.name, mo)
            mt_rows += chunk.mt.num_rows
            mo_rows += mo.num_rows
            if progress:
                progress(mt_rows, rows)
        rest = orderer.flush()
        if rest is not None:
            append(conn, mo_message.name, rest)
            mo_rows += rest.num_rows
        hourly.rebuild(conn)  # DuckDB: the hourly counts (PostgreSQL's triggers counted the rows)
        bump(conn)
    if not is_duckdb(engine):
        _vacuum(engine)
    return DemoSummary(mt_rows, mo_rows, plan.first_day, plan.last_day, time.perf_counter() - started)


def _vacuum(engine: Engine) -> None:
    """PostgreSQL: fresh statistics for the planner, and the visibility map that lets the report's
    scans read the covering indexes alone (autovacuum would get there, minutes later); likewise for
    the hourly counts the load's triggers wrote."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        tables = (mt_message, mo_message, mt_hourly, mt_hourly_status, mo_hourly)
        conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(t.name for t in tables)}")


def _chunks(plan: Plan) -> Iterator[Chunk]:
    """The plan's chunks in order: the first made here while the worker starts on the second, each
    later one made by the worker while the previous one loads."""
    if plan.chunks == 1:
        yield make_chunk(plan, 0)
        return
    shared = Path("/dev/shm")
    with (
        tempfile.TemporaryDirectory(prefix="demo-", dir=shared if shared.is_dir() else None) as folder,
        ProcessPoolExecutor(1, multiprocessing.get_context("spawn"), _worker_init, (plan,)) as pool,
    ):
        pending = pool.submit(_chunk_to_files, 1, folder)
        yield make_chunk(plan, 0)
        for k in range(1, plan.chunks):
            mt_path, mo_path, last_sent = pending.result()
            if k + 1 < plan.chunks:
                pending = pool.submit(_chunk_to_files, k + 1, folder)
            yield Chunk(_mapped(mt_path), _mapped(mo_path), last_sent)


_worker_plan: Plan | None = None


def _worker_init(plan: Plan) -> None:
    global _worker_plan
    _worker_plan = plan


def _chunk_to_files(k: int, folder: str) -> tuple[str, str, int]:
    chunk = make_chunk(_worker_plan, k)
    paths = []
    for name, table in (("mt", chunk.mt), ("mo", chunk.mo)):
        path = f"{folder}/{name}-{k}.arrow"
        with pa.OSFile(path, "wb") as sink, pa_ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        paths.append(path)
    return paths[0], paths[1], chunk.mt_last_sent_us


def _mapped(path: str) -> pa.Table:
    """The table in an Arrow IPC file, memory-mapped; the file is unlinked (the mapping lives on)."""
    table = pa_ipc.open_file(pa.memory_map(path)).read_all()
    Path(path).unlink()
    return table


def _prepare(conn: Connection) -> None:
    raw = conn.connection.driver_connection
    if conn.dialect.name == "duckdb":
        raw.execute("SET enable_progress_bar = false")  # ours is on stderr; DuckDB's would mix into stdout
        return
    # The commit waits for its WAL even on a server with asynchronous commits: until that WAL is on
    # disk no row can be marked committed, and the VACUUM that follows would leave every page
    # not-all-visible (no index-only scans until autovacuum comes back).
    raw.execute("SET LOCAL synchronous_commit = on")
