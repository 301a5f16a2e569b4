"""Timing one dashboard refresh three ways, each in its own process so peak memory is its own:

(a) ours: every query the page issues for a filter change (figures + first page of rows), through
    data_access with the dashboard's engine settings, no result cached;
(b) floor: the very same SQL statements and parameters, run on one raw driver connection;
(c) peer: the usual Streamlit way: the whole table read into pandas once, then masks per change.

Run as `python -m bench.refresh MODE DB_URL END_DATE REPEATS`; prints JSON.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import date

import sqlalchemy as sa
from sqlalchemy import event

from bench.memory import peak_rss_mib
from bench.scenarios import PAGE_SIZE, scenarios
from data_access.catalog import DELIVERED_STATUSES, FAILURE_STATUSES
from data_access.engine import DASHBOARD_HOLD_S, open_database
from data_access.filters import MoFilters
from data_access.report import detail_page, mo_report, mt_report


def refresh(conn, filters) -> None:
    """What the page runs for a filter change: the figures, then the first page of rows."""
    report = mo_report(conn, filters) if isinstance(filters, MoFilters) else mt_report(conn, filters)
    total = report.total if isinstance(filters, MoFilters) else report.totals.total
    detail_page(conn, filters, 1, PAGE_SIZE, total)


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def run_ours(engine, cases, repeats: int) -> dict[str, float]:
    out = {}
    for case in cases:
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            with engine.connect() as conn:
                refresh(conn, case.filters)
            samples.append(time.perf_counter() - started)
        out[case.name] = _median_ms(samples)
    return out


def capture_statements(engine, filters) -> list[tuple[str, object]]:
    """The SQL and parameters a refresh sends to the driver."""
    seen: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        with engine.connect() as conn:
            refresh(conn, filters)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return seen


def run_floor(engine, cases, repeats: int) -> dict[str, float]:
    statements = {case.name: capture_statements(engine, case.filters) for case in cases}
    out = {}
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        for case in cases:
            samples = []
            for _ in range(repeats):
                started = time.perf_counter()
                cursor = raw.cursor()
                for statement, parameters in statements[case.name]:
                    cursor.execute(statement, parameters)
                    cursor.fetchall()
                cursor.close()
                samples.append(time.perf_counter() - started)
            out[case.name] = _median_ms(samples)
    return out


def run_peer(engine, cases, repeats: int) -> dict[str, float]:
    """Load both tables whole (the fastest path the engine offers), then filter with pandas masks."""
    import pandas as pd

    started = time.perf_counter()
    with engine.connect() as conn:
        mt = pd.read_sql_table("mt_message", conn) if engine.dialect.name != "duckdb" else (
            conn.connection.dbapi_connection.sql("SELECT * FROM mt_message").to_arrow_table().to_pandas()
        )
        mo = pd.read_sql_table("mo_message", conn) if engine.dialect.name != "duckdb" else (
            conn.connection.dbapi_connection.sql("SELECT * FROM mo_message").to_arrow_table().to_pandas()
        )
    load_s = time.perf_counter() - started
    replied_ids = set(mo["in_reply_to"].dropna())
    out: dict[str, float] = {"load_ms": round(load_s * 1000, 1)}
    for case in cases:
        f = case.filters
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            _pandas_refresh(mt, mo, f, replied_ids)
            samples.append(time.perf_counter() - started)
        out[case.name] = _median_ms(samples)
    return out


def _mask(frame, f, time_column: str):
    start, end = f.utc_bounds()
    when = frame[time_column]
    mask = (when >= start) & (when < end)
    for name, spec in f.FIELDS.items():
        value = getattr(f, name)
        if spec.column is None or value in (None, ()):
            continue
        column = frame[spec.column]
        if name == "phone":
            mask &= column.str.startswith(value, na=False)
        elif name == "session":
            mask &= column == (value == "open")
        elif spec.multi:
            mask &= column.isin(value)
        else:
            mask &= column == value
    return mask


def _pandas_refresh(mt, mo, f, replied_ids) -> None:
    if isinstance(f, MoFilters):
        rows = mo[_mask(mo, f, "received_at")]
        clicks = rows[rows["button_payload"].notna()]
        clicks.groupby(["button_text", "campaign", "template_name"], dropna=False).size()
        rows.groupby(rows["received_at"].dt.tz_convert(f.tz).dt.floor("D")).size()
        rows["content_type"].value_counts()
        rows.nlargest(PAGE_SIZE, "received_at")
        return
    rows = mt[_mask(mt, f, "sent_at")]
    status = rows["status"]
    delivered = status.isin(DELIVERED_STATUSES)
    (len(rows), int((status == "sent").sum()), int(delivered.sum()), int((status == "read").sum()),
     int(status.isin(FAILURE_STATUSES).sum()), int(rows["message_id"].isin(replied_ids).sum()))
    status.value_counts()
    failed = rows[status.isin(FAILURE_STATUSES)]
    failed.groupby(["status", "error_code"], dropna=False).size().nlargest(20)
    day = rows["sent_at"].dt.tz_convert(f.tz).dt.floor("D")
    delivered.groupby(day).agg(["size", "sum"])
    rows.nlargest(PAGE_SIZE, "sent_at")


MODES = {"ours": run_ours, "floor": run_floor, "peer": run_peer}


def main() -> None:
    mode, url, end, repeats = sys.argv[1], sys.argv[2], date.fromisoformat(sys.argv[3]), int(sys.argv[4])
    # The dashboard's engine settings: the embedded file stays open across a burst of queries.
    engine = open_database(url, hold_s=DASHBOARD_HOLD_S)
    cases = scenarios(engine, end)
    timings = MODES[mode](engine, cases, repeats)
    print(json.dumps({"mode": mode, "timings_ms": timings, "peak_rss_mib": peak_rss_mib()}))


if __name__ == "__main__":
    main()
