"""Readers never starve a writer (SPEC section 7), measured: one large `python -m data_access.ingest`
(about 150,000 records of seeded webhooks and send logs) into an embedded file the app server owns,
side by side in one run:

- `no server`: the command alone opens the file (the way it runs when no server is up);
- `server, nobody reading`: the command goes through the idle app server;
- `server, N sessions`: the same while N browser sessions (headless Chromium) each open a new
  search every second (a different status filter each time, so the page queries again);
- `no server, N sessions elsewhere`: the command alone on its file while the same sessions use a
  server on another copy: what the machine's two cores cost, apart from sharing the server process.

Each case starts from a copy of the same database (a demo month, so the pages' queries cost what they
cost on real data) and ends by counting the MT rows. Run as
`python -m bench.owner [--records 150000] [--sessions 5] [--demo-rows 1000000]`; prints a table and
writes JSON.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from data_access.engine import open_database
from data_access.ingest import synthetic
from tests.app_server import CHROMIUM, CHROMIUM_ARGS, ROOT, serve_app

RECORDS_PER_MESSAGE = 3.45  # lines per message of `synthetic.webhook_lines` (measured on 20,000 messages)
PERIOD = "from=2025-05-01&to=2026-12-31"
STATUSES = ("read", "delivered", "sent", "undelivered", "opt_out")


def _ingest(url: str, path: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "data_access.ingest", "--db", url, str(path)], cwd=ROOT,
                          capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"ingest exited {done.returncode}: {done.stderr}")
    return took, done.stdout.strip().splitlines()[-1]


def _mt_rows(url: str) -> int:
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT count(*) FROM mt_message").scalar_one()
    finally:
        engine.dispose()


def _sessions(base: str, count: int, stop: threading.Event, ready: threading.Event, changes: list[int]) -> None:
    """`count` browser sessions, each opening a new search every second, until `stop`."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = [browser.new_context(viewport={"width": 1400, "height": 1000}).new_page() for _ in range(count)]
        for page in pages:
            page.goto(f"{base}/sent?{PERIOD}")
            page.get_by_role("heading", name="resultados").first.wait_for(timeout=120_000)
        ready.set()
        n = 0
        while not stop.is_set():
            started = time.monotonic()
            for i, page in enumerate(pages):
                page.goto(f"{base}/sent?{PERIOD}&status={STATUSES[(n + i) % len(STATUSES)]}", wait_until="commit")
            n += 1
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
        changes.append(n * count)
        browser.close()


def measure(folder: Path, base_file: Path, source: Path, sessions: int) -> dict:
    results = {}
    cases = ("no server", "server, nobody reading", f"server, {sessions} sessions",
             f"no server, {sessions} sessions elsewhere")
    for case in cases:
        db_file = folder / f"case-{len(results)}.duckdb"
        shutil.copy(base_file, db_file)
        url = f"duckdb:///{db_file}"
        served = url
        if case.endswith("elsewhere"):
            served = f"duckdb:///{folder / f'served-{len(results)}.duckdb'}"
            shutil.copy(base_file, served.removeprefix("duckdb:///"))
        row = {}
        if case == "no server":
            row["ingest_s"], row["summary"] = _ingest(url, source)
        else:
            with serve_app(served, folder / f"streamlit-{len(results)}.log") as base:
                stop, ready, changes = threading.Event(), threading.Event(), []
                readers = None
                if "sessions" in case:
                    readers = threading.Thread(target=_sessions, args=(base, sessions, stop, ready, changes))
                    readers.start()
                    if not ready.wait(300):
                        raise RuntimeError("the browser sessions did not open")
                try:
                    row["ingest_s"], row["summary"] = _ingest(url, source)
                finally:
                    stop.set()
                    if readers is not None:
                        readers.join(120)
                if changes:
                    row["filter_changes"] = changes[0]
        row["mt_rows_after"] = _mt_rows(url)
        results[case] = row
        print(f"{case:28} {row['ingest_s']:7.1f} s   {row['summary']}", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.owner", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=150_000, help="records in the ingested file (about)")
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--demo-rows", type=int, default=1_000_000, help="MT rows already in the database")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "owner.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="report-bench-owner-") as name:
        folder = Path(name)
        base_file = folder / "base.duckdb"
        subprocess.run([sys.executable, "-m", "data_access.demo", "--db", f"duckdb:///{base_file}",
                        "--rows", str(args.demo_rows), "--days", "30"], cwd=ROOT, check=True, capture_output=True)
        source = folder / "traffic.jsonl"
        messages = round(args.records / RECORDS_PER_MESSAGE)
        records = synthetic.write_jsonl(source, synthetic.webhook_lines(synthetic.generate(messages, seed=9), seed=9))
        print(f"{records:,} records ({source.stat().st_size / 1e6:.0f} MB) into a database of "
              f"{args.demo_rows:,} MT rows", flush=True)
        results = {"records": records, "demo_rows": args.demo_rows, "sessions": args.sessions,
                   "cases": measure(folder, base_file, source, args.sessions)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"JSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
