"""Export throughput: CSV and XLSX of about a million rows, PDF of the first 10,000 rows with charts
(timed twice: the first one in a process also starts the chart browser).

Run as `python -m bench.exports DB_URL END_DATE CSV_ROWS XLSX_ROWS`; prints JSON. Each export goes to
a temporary file; the search is the shortest window ending at END_DATE that holds the wanted rows.

`python -m bench.exports memory DB_URL END_DATE ROWS [ROWS...] [--server] [--tree DIR]`: the peak
memory of every export (Sent CSV, XLSX and PDF, the Consolidado's three files, the Opt-out's two) of
searches of about ROWS rows, each in a process of its own through `python -m exports` (the Opt-out,
which the command does not offer, through its writer), one JSON line per file. With `--server` the
app server owns the file and runs the exports (the command hands them over), and the figure is the
server's peak during each export. `--tree` runs another checkout's code (a baseline).

`python -m bench.exports page DB_URL END_DATE ROWS [--formats csv,xlsx] [--tree DIR]`: the app
server's peak memory while Chromium downloads the Sent page's files of a search of about ROWS rows
through the export panel, as a person does (a link to the download route; a download button in
earlier code, whose file the server held in memory), one JSON line per file.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.memory import peak_rss_mib, reset_peak
from data_access.engine import open_database
from data_access.filters import MtFilters
from data_access.opt_out import OptOutFilters
from data_access.report import count
from exports import opt_out_export
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


MEMORY_FILES = (("mt", "csv"), ("mt", "xlsx"), ("mt", "pdf"), ("mc", "csv"), ("mc", "xlsx"), ("mc", "pdf"),
                ("opt_out", "csv"), ("opt_out", "xlsx"))
MEMORY_SCRIPT = Path(__file__).with_name("memory.py")


def memory(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.exports memory")
    parser.add_argument("url")
    parser.add_argument("end", type=date.fromisoformat)
    parser.add_argument("rows", type=int, nargs="+")
    parser.add_argument("--server", action="store_true", help="the app server owns the file and runs the exports")
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--files", default=",".join(f"{v}:{f}" for v, f in MEMORY_FILES))
    args = parser.parse_args(argv)
    files = [tuple(pair.split(":")) for pair in args.files.split(",")]
    if args.server:  # the command does not offer the Opt-out; the page builds it in the server as here
        files = [(v, f) for v, f in files if v != "opt_out"]
    engine = open_database(args.url)
    windows = [window_with(engine, args.end, rows) for rows in args.rows]
    engine.dispose()
    env = {**os.environ, "PYTHONPATH": str(args.tree)}
    env.pop("DATABASE_URL", None)
    app = _start_app(args.url, args.tree) if args.server else None
    try:
        with tempfile.TemporaryDirectory(prefix="report-bench-export-") as folder:
            for filters, rows in windows:
                for view, fmt in files:
                    out = Path(folder) / f"bench.{fmt}"
                    if app is not None:
                        reset_peak(app.proc.pid)
                    started = time.perf_counter()
                    done = subprocess.run(
                        [sys.executable, "-P", str(MEMORY_SCRIPT), *_command(view, fmt, args.url, filters, out)],
                        cwd=args.tree, env=env, capture_output=True, text=True, timeout=1800,
                    )
                    seconds = round(time.perf_counter() - started, 1)
                    lines = done.stdout.strip().splitlines()
                    child = json.loads(lines[-1]) if lines else {"exit": done.returncode, "peak_rss_mib": None}
                    figure = {"rows": rows, "view": view, "format": fmt, "days": (filters.date_to - filters.date_from).days + 1,
                              "seconds": seconds, "exit": child["exit"],
                              "file_mib": round(out.stat().st_size / 2**20, 1) if out.exists() else None,
                              "peak_rss_mib": peak_rss_mib(app.proc.pid) if app is not None else child["peak_rss_mib"]}
                    if child["exit"]:
                        figure["error"] = done.stderr.strip().splitlines()[-1:]
                    print(json.dumps(figure), flush=True)
                    out.unlink(missing_ok=True)
    finally:
        if app is not None:
            app.stop()


def _command(view: str, fmt: str, url: str, filters: MtFilters, out: Path) -> list[str]:
    period = ["--from", filters.date_from.isoformat(), "--to", filters.date_to.isoformat()]
    if view == "opt_out":
        return ["bench.exports", "opt-out", url, fmt, str(out), *period]
    return ["exports", "--view", view, "--format", fmt, "-o", str(out), "--db", url, "--tz", TZ, *period]


def opt_out(argv: list[str]) -> None:
    """`opt-out URL FORMAT OUT --from D --to D`: the Opt-out file of the period, as the page builds it."""
    url, fmt, out, _, start, _, end = argv
    engine = open_database(url)
    filters = OptOutFilters(date_from=date.fromisoformat(start), date_to=date.fromisoformat(end), tz=TZ)
    with open(out, "wb") as file:
        opt_out_export.export(engine, filters, fmt, "pt-BR", file)
    engine.dispose()


def _start_app(url: str, tree: Path):
    from tests.app_server import AppProcess

    app = AppProcess(url, Path(tempfile.gettempdir()) / f"report-bench-export-app-{os.getpid()}.log", tree=tree)
    app.start(timeout_s=120)
    return app


def page(argv: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    from tests.app_server import CHROMIUM, CHROMIUM_ARGS

    parser = argparse.ArgumentParser(prog="python -m bench.exports page")
    parser.add_argument("url")
    parser.add_argument("end", type=date.fromisoformat)
    parser.add_argument("rows", type=int)
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--timeout-s", type=float, default=1800)
    args = parser.parse_args(argv)
    engine = open_database(args.url)
    filters, rows = window_with(engine, args.end, args.rows)
    engine.dispose()
    app = _start_app(args.url, args.tree)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            tab = browser.new_page(accept_downloads=True)
            query = f"from={filters.date_from}&to={filters.date_to}&tz={TZ}&lang=en"
            tab.goto(f"{app.base}/sent?{query}", timeout=args.timeout_s * 1000)
            tab.get_by_role("heading", name="Export").wait_for(timeout=args.timeout_s * 1000)
            for fmt in args.formats.split(","):
                link = tab.get_by_role("link", name=fmt.upper())
                control = link.or_(tab.get_by_role("button", name=fmt.upper(), exact=True))
                control.wait_for(timeout=args.timeout_s * 1000)
                reset_peak(app.proc.pid)
                at_click = peak_rss_mib(app.proc.pid)  # the server's memory with the page drawn
                started = time.perf_counter()
                with tab.expect_download(timeout=args.timeout_s * 1000) as download:
                    control.click()
                path = download.value.path()  # once the whole file is in
                figure = {"rows": rows, "format": fmt, "seconds": round(time.perf_counter() - started, 1),
                          "file_mib": round(path.stat().st_size / 2**20, 1),
                          "rss_at_click_mib": at_click, "peak_rss_mib": peak_rss_mib(app.proc.pid),
                          "via": "link" if link.count() else "button"}
                print(json.dumps(figure), flush=True)
                download.value.delete()
            browser.close()
    finally:
        app.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["memory"]:
        memory(sys.argv[2:])
    elif sys.argv[1:2] == ["page"]:
        page(sys.argv[2:])
    elif sys.argv[1:2] == ["opt-out"]:
        opt_out(sys.argv[2:])
    else:
        main()
