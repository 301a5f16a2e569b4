"""Timing the Consolidado refresh: one grouped scan of the search and its previous period.

For a month (so two months scanned) grouped by campaign, template and day, and for narrower searches,
three timings side by side in one process, alternating run by run so a busy neighbour weighs on all:
(a) ours: `data_access.consolidated.consolidated()` through the dashboard's engine settings;
(b) floor: its SQL statement and parameters on one raw driver connection;
(c) sent: the Sent page's figures (`mt_report`) of the same search, for scale (it scans one month).

Run as `python -m bench.consolidated DB_URL END_DATE REPEATS`; prints JSON.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import date

from bench.memory import peak_rss_mib
from bench.refresh import statements_sent
from bench.scenarios import scenarios
from data_access.consolidated import consolidated
from data_access.engine import open_database
from data_access.filters import MtFilters
from data_access.report import mt_report

CASES = (("month", "campaign"), ("month", "template"), ("month", "day"),
         ("month_3_campaigns_5_statuses", "campaign"), ("month_one_phone", "day"))


def _statement(engine, filters: MtFilters, dimension: str) -> tuple[str, object]:
    (only,) = statements_sent(engine, lambda conn: consolidated(conn, filters, dimension))
    return only


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def run(engine, end: date, repeats: int) -> dict[str, dict[str, float]]:
    searches = {case.name: case.filters for case in scenarios(engine, end) if isinstance(case.filters, MtFilters)}
    out: dict[str, dict[str, float]] = {}
    with engine.connect() as held:
        raw = held.connection.dbapi_connection
        for name, dimension in CASES:
            filters = searches[name]
            statement, parameters = _statement(engine, filters, dimension)

            def ours():
                with engine.connect() as conn:
                    consolidated(conn, filters, dimension)

            def floor():
                cursor = raw.cursor()
                cursor.execute(statement, parameters)
                cursor.fetchall()
                cursor.close()

            def sent():
                with engine.connect() as conn:
                    mt_report(conn, filters)

            modes = {"ours": ours, "floor": floor, "sent": sent}
            samples: dict[str, list[float]] = {mode: [] for mode in modes}
            for repeat in range(repeats):
                order = list(modes) if repeat % 2 == 0 else list(reversed(modes))
                for mode in order:
                    samples[mode].append(_timed(modes[mode]))
            out[f"{name}_by_{dimension}"] = {
                f"{mode}_ms": round(statistics.median(values) * 1000, 2) for mode, values in samples.items()
            }
    return out


def main() -> None:
    url, end, repeats = sys.argv[1], date.fromisoformat(sys.argv[2]), int(sys.argv[3])
    engine = open_database(url, hold=True)  # as the app server holds the embedded file
    timings = run(engine, end, repeats)
    print(json.dumps({"timings": timings, "peak_rss_mib": peak_rss_mib()}))


if __name__ == "__main__":
    main()
