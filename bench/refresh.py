"""Timing one dashboard refresh three ways:

(a) ours: every query the page issues for a filter change (figures + first page of rows), through
    data_access with the dashboard's engine settings, no result cached;
(b) floor: the very same SQL statements and parameters, run on one raw driver connection;
(c) peer: the usual Streamlit way: the whole table read into pandas once, then masks per change.

(a) and (b) run in one process, alternating run by run, so that a busy neighbour on a shared machine
weighs on both alike; the peer runs in its own process, so its peak memory is its own.

Run as `python -m bench.refresh MODE DB_URL END_DATE REPEATS` (MODE: layer | peer); prints JSON.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from bench.memory import peak_rss_mib
from bench.scenarios import PAGE_SIZE, scenarios
from data_access.catalog import DELIVERED_STATUSES, FAILURE_STATUSES
from data_access.detail import newest_page
from data_access.engine import open_database
from data_access.views import view_of


def refresh(conn, filters) -> None:
    """What the page runs for a filter change: the figures, then the first page of rows."""
    view = view_of(filters)
    report = view.report(conn, filters)
    newest_page(conn, filters, view.columns, 1, PAGE_SIZE, view.total(view.summary_of(report)))


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def statements_sent(engine: Engine, work: Callable[[Connection], object]) -> list[tuple[str, object]]:
    """The SQL and parameters `work` sends to the driver on one connection of `engine`."""
    seen: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        with engine.connect() as conn:
            work(conn)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return seen


def capture_statements(engine, filters) -> list[tuple[str, object]]:
    """The SQL and parameters a refresh sends to the driver."""
    return statements_sent(engine, lambda conn: refresh(conn, filters))


def _time_ours(engine, filters) -> float:
    started = time.perf_counter()
    with engine.connect() as conn:
        refresh(conn, filters)
    return time.perf_counter() - started


def _time_floor(raw, statements: list[tuple[str, object]]) -> float:
    started = time.perf_counter()
    cursor = raw.cursor()
    for statement, parameters in statements:
        cursor.execute(statement, parameters)
        cursor.fetchall()
    cursor.close()
    return time.perf_counter() - started


def run_layer(engine, cases, repeats: int) -> dict[str, dict[str, float]]:
    """(a) and (b), alternating which goes first from one run to the next."""
    ours: dict[str, float] = {}
    floor: dict[str, float] = {}
    with engine.connect() as held:
        raw = held.connection.dbapi_connection
        for case in cases:
            statements = capture_statements(engine, case.filters)
            samples: dict[str, list[float]] = {"ours": [], "floor": []}
            for run in range(repeats):
                order = ("ours", "floor") if run % 2 == 0 else ("floor", "ours")
                for mode in order:
                    took = _time_ours(engine, case.filters) if mode == "ours" else _time_floor(raw, statements)
                    samples[mode].append(took)
            ours[case.name] = _median_ms(samples["ours"])
            floor[case.name] = _median_ms(samples["floor"])
    return {"ours": ours, "floor": floor}


def _whole_table(conn, name: str):
    """A table read into pandas by the fastest path the engine offers (Arrow on DuckDB)."""
    import pandas as pd

    if conn.dialect.name == "duckdb":
        return conn.connection.dbapi_connection.sql(f"SELECT * FROM {name}").to_arrow_table().to_pandas()
    return pd.read_sql_table(name, conn)


def run_peer(engine, cases, repeats: int) -> dict[str, float]:
    """Load both tables whole, then filter with pandas masks."""
    started = time.perf_counter()
    with engine.connect() as conn:
        frames = {"mt": _whole_table(conn, "mt_message"), "mo": _whole_table(conn, "mo_message")}
    out: dict[str, float] = {"load_ms": round((time.perf_counter() - started) * 1000, 1)}
    for case in cases:
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            _PANDAS_REFRESH[case.filters.view](frames[case.filters.view], case.filters)
            samples.append(time.perf_counter() - started)
        out[case.name] = _median_ms(samples)
    return out


# Each filter op as a pandas mask (the peer's way of doing `Field.condition`); `owner` as plain `in`.
_PANDAS_OPS = {
    "in": lambda column, field, value: column.isin(value),
    "owner": lambda column, field, value: column.isin(value),
    "eq": lambda column, field, value: column == value,
    "prefix": lambda column, field, value: column.str.startswith(value, na=False),
    "flag": lambda column, field, value: column == (value == field.flag_true),
}


def _mask(frame, f):
    start, end = f.utc_bounds()
    when = frame[f.time_column]
    mask = (when >= start) & (when < end)
    for name, spec in f.FIELDS.items():
        value = getattr(f, name)
        if value not in (None, ()):
            mask &= _PANDAS_OPS[spec.op](frame[spec.column], spec, value)
    return mask


def _pandas_mo(mo, f) -> None:
    rows = mo[_mask(mo, f)]
    clicks = rows[rows["button_payload"].notna()]
    clicks.groupby(["button_text", "campaign", "template_name"], dropna=False).size()
    rows.groupby(rows["received_at"].dt.tz_convert(f.tz).dt.floor("D")).size()
    rows["content_type"].value_counts()
    rows.nlargest(PAGE_SIZE, "received_at")


def _pandas_mt(mt, f) -> None:
    rows = mt[_mask(mt, f)]
    status = rows["status"]
    delivered = status.isin(DELIVERED_STATUSES)
    (len(rows), int((status == "sent").sum()), int(delivered.sum()), int((status == "read").sum()),
     int(status.isin(FAILURE_STATUSES).sum()), int(rows["replied"].sum()))
    status.value_counts()
    failed = rows[status.isin(FAILURE_STATUSES)]
    failed.groupby(["status", "error_code"], dropna=False).size().nlargest(20)
    day = rows["sent_at"].dt.tz_convert(f.tz).dt.floor("D")
    delivered.groupby(day).agg(["size", "sum"])
    rows.nlargest(PAGE_SIZE, "sent_at")


_PANDAS_REFRESH = {"mt": _pandas_mt, "mo": _pandas_mo}
MODES = {"layer": run_layer, "peer": run_peer}


def main() -> None:
    mode, url, end, repeats = sys.argv[1], sys.argv[2], date.fromisoformat(sys.argv[3]), int(sys.argv[4])
    # As in the app server, which holds the embedded file while it runs.
    engine = open_database(url, hold=True)
    cases = scenarios(engine, end)
    timings = MODES[mode](engine, cases, repeats)
    print(json.dumps({"mode": mode, "timings_ms": timings, "peak_rss_mib": peak_rss_mib()}))


if __name__ == "__main__":
    main()
