"""Export throughput: CSV and XLSX of about a million rows, PDF of the first 10,000 rows with charts
(timed twice: the first one in a process also starts the chart browser).

Run as `python -m bench.exports DB_URL END_DATE CSV_ROWS XLSX_ROWS`; prints JSON. Each export goes to
a temporary file; the search is the shortest window ending at END_DATE that holds the wanted rows.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.memory import peak_rss_mib
from data_access.engine import open_database
from data_access.filters import MtFilters
from data_access.report import count
from exports.export import export

TZ = "America/Sao_Paulo"
PDF_ROWS = 10_000


def window_with(engine, end: date, rows: int) -> tuple[MtFilters, int]:
    """The shortest search ending at `end` that holds at least `rows` MTs (or all of them)."""
    with engine.connect() as conn:
        days, filters = 1, MtFilters(date_from=end, date_to=end, tz=TZ)
        while count(conn, filters) < rows and days < 3660:
            days = min(days * 2, 3660)
            filters = filters.replace(date_from=end - timedelta(days=days - 1))
        low, high = days // 2, days
        while low + 1 < high:  # narrow down to the shortest window
            middle = (low + high) // 2
            candidate = filters.replace(date_from=end - timedelta(days=middle - 1))
            if count(conn, candidate) >= rows:
                high = middle
            else:
                low = middle
        filters = filters.replace(date_from=end - timedelta(days=high - 1))
        return filters, count(conn, filters)


def timed_export(engine, filters, fmt: str, folder: Path) -> float:
    started = time.perf_counter()
    export(engine, filters, fmt, "pt-BR", folder / f"bench.{fmt}")
    return round(time.perf_counter() - started, 2)


def main() -> None:
    url, end = sys.argv[1], date.fromisoformat(sys.argv[2])
    csv_rows, xlsx_rows = int(sys.argv[3]), int(sys.argv[4])
    engine = open_database(url)
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="report-bench-export-") as folder:
        for fmt, wanted in (("csv", csv_rows), ("xlsx", xlsx_rows), ("pdf", PDF_ROWS)):
            filters, rows = window_with(engine, end, wanted)
            seconds = timed_export(engine, filters, fmt, Path(folder))
            shown = min(rows, PDF_ROWS) if fmt == "pdf" else rows
            out[fmt] = {"rows": shown, "seconds": seconds, "rows_per_s": round(shown / seconds) if seconds else None}
            if fmt == "pdf":  # the first PDF of a process starts the chart browser; the app keeps it alive
                out[fmt] |= {"seconds_first": seconds, "seconds": timed_export(engine, filters, fmt, Path(folder))}
    out["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
