"""`make bench`: one run that measures the report on the embedded DuckDB (and PostgreSQL) and prints
figures with the ratios against its baselines, side by side in the same run.

    python -m bench [--rows 10000000] [--pg-rows 1000000] [--db POSTGRESQL_URL] [--out bench/results/latest.json]
    python -m bench sessions --db URL [--levels 1,5,20] [--seconds 60] [--baseline GIT_REF] [--processes 1,2]
                                                                                     (bench/sessions.py)

On PostgreSQL the concurrent sessions and the webhooks run on --pg-processes app processes behind one
port (bench/balancer.py), as a team that outgrew the embedded file runs the report.

Medians of --repeats runs. Ratios: a/b = our refresh over the raw SQL floor (overhead of our
layer), c/a = the pandas peer over ours (how much faster we are), and peak memory of each.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from data_access.demo import generate
from data_access.engine import open_database

ROOT = Path(__file__).resolve().parent.parent


def _subprocess_json(*args: str) -> dict:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_refresh(url: str, end: date, repeats: int, with_peer: bool) -> dict:
    """(a) ours and (b) floor in one process, (c) peer in another; with ratios per scenario."""
    modes = ["layer"] + (["peer"] if with_peer else [])
    runs = {m: _subprocess_json("-m", "bench.refresh", m, url, end.isoformat(), str(repeats)) for m in modes}
    ours, floor = runs["layer"]["timings_ms"]["ours"], runs["layer"]["timings_ms"]["floor"]
    table = {}
    for name, ours_ms in ours.items():
        row = {"ours_ms": ours_ms, "floor_ms": floor[name], "a_over_b": round(ours_ms / floor[name], 2)}
        if with_peer:
            peer_ms = runs["peer"]["timings_ms"][name]
            row |= {"peer_ms": peer_ms, "c_over_a": round(peer_ms / ours_ms, 2)}
        table[name] = row
    # The floor shares the process of (a): it reads the same data, so the peak is (a)'s.
    peak = {"ours": runs["layer"]["peak_rss_mib"]} | ({"peer": runs["peer"]["peak_rss_mib"]} if with_peer else {})
    result = {"scenarios": table, "peak_rss_mib": peak}
    if with_peer:
        result["peer_load_ms"] = runs["peer"]["timings_ms"]["load_ms"]
        result["peak_ratio_ours_over_peer"] = round(peak["ours"] / peak["peer"], 3)
    return result


def measure_engine(url: str, rows: int, days: int, end: date, repeats: int, export_rows: int) -> dict:
    engine = open_database(url)
    started = time.perf_counter()
    generate(engine, rows=rows, days=days, seed=42, end=end)
    demo_s = time.perf_counter() - started
    engine.dispose()
    return {
        "rows": rows,
        "demo_s": round(demo_s, 2),
        "refresh": measure_refresh(url, end, repeats, with_peer=True),
        "exports": _subprocess_json("-m", "bench.exports", url, end.isoformat(), str(export_rows), str(export_rows)),
        "page": _subprocess_json("-m", "bench.first_load", url, str(repeats), "--end", end.isoformat(),
                                 "--days", str(days)),
        "filter_change": _subprocess_json("-m", "bench.filter_change", url, str(repeats),
                                          "--end", end.isoformat()),
        "consolidated": _subprocess_json("-m", "bench.consolidated", url, end.isoformat(), str(repeats)),
    }


def measure_ingest(url: str, messages: int) -> dict:
    return _subprocess_json("-m", "bench.ingest", url, str(messages))


def measure_webhooks(url: str, seconds: float, sessions: int, processes: int = 1) -> dict:
    """The app server's webhooks into the benchmark's database while `sessions` browsers load
    searches every second, against the ingest command on the same payloads (bench.webhooks); with
    `processes` app processes behind one port (PostgreSQL)."""
    return _subprocess_json("-m", "bench.webhooks", "--db", url, "--seconds", str(seconds),
                            "--sessions", str(sessions), "--processes", str(processes))



def measure_postgres(results: dict, args: argparse.Namespace) -> None:
    """The PostgreSQL part: on --db, else on a throwaway database dropped afterwards."""
    if args.db:
        url, drop = args.db, None
    elif os.environ.get("TEST_POSTGRES_URL"):
        from tests.postgres import new_postgres_database

        url, drop = new_postgres_database()
    else:
        print("PostgreSQL skipped: give --db URL, or run `make bench`, which starts a server", file=sys.stderr)
        return
    try:
        results["engines"]["postgresql"] = measure_engine(
            url, args.pg_rows, args.days, args.end, args.repeats, args.export_rows
        )
        # A team on PostgreSQL runs several app processes behind one port: measured so.
        if args.sessions_seconds and args.pg_sessions_levels:
            results["sessions_postgresql"] = measure_sessions(url, args.sessions_seconds, args.pg_sessions_levels,
                                                              args.pg_processes)
        if args.pg_webhook_seconds:  # last: it adds the webhooks' rows to the demo database
            results["webhooks_postgresql"] = measure_webhooks(url, args.pg_webhook_seconds, args.webhook_sessions,
                                                              args.pg_processes)
    finally:
        if drop is not None:
            drop()


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
    }


def print_table(results: dict) -> None:
    for engine_name, figures in results["engines"].items():
        print(f"\n{engine_name}: {figures['rows']:,} MT rows, demo load {figures['demo_s']} s")
        print(f"{'scenario':34} {'ours ms':>9} {'floor ms':>9} {'a/b':>6} {'peer ms':>9} {'c/a':>6}")
        for name, row in figures["refresh"]["scenarios"].items():
            print(f"{name:34} {row['ours_ms']:>9} {row['floor_ms']:>9} {row['a_over_b']:>6} "
                  f"{row.get('peer_ms', '-'):>9} {row.get('c_over_a', '-'):>6}")
        print("peak RSS MiB:", figures["refresh"]["peak_rss_mib"])
        print("exports:", figures["exports"])
        page = figures["page"]
        print("first load of /sent, warm browser:", page["first_load_warm_ms"], "ms; fresh browser, new search:",
              page["fresh_new_search"]["total_ms"], "ms to the total,", page["fresh_new_search"]["complete_ms"],
              "ms complete, CLS", page["fresh_new_search"]["cls"], "; cached search:",
              page["fresh_cached_search"]["total_ms"], "ms to the total")
        change = figures["filter_change"]
        print("filter change in the browser, to the total p50/p95 ms: new search", change["new"]["total_ms"]["p50"],
              "/", change["new"]["total_ms"]["p95"], "(server", change["new"]["server_ms"]["p50"], "); cached search",
              change["cached"]["total_ms"]["p50"], "/", change["cached"]["total_ms"]["p95"])
        print(f"{'Consolidado refresh':34} {'ours ms':>9} {'floor ms':>9} {'sent ms':>9}")
        for name, row in figures["consolidated"]["timings"].items():
            print(f"{name:34} {row['ours_ms']:>9} {row['floor_ms']:>9} {row['sent_ms']:>9}")


def measure_sessions(url: str, seconds: float, levels: str, processes: int = 1) -> dict:
    """Concurrent dashboard sessions through Streamlit's session protocol (bench.sessions), on
    `processes` app processes behind one port."""
    return _subprocess_json("-m", "bench.sessions", "--db", url, "--levels", levels, "--seconds", str(seconds),
                            "--processes", str(processes))


def main() -> int:
    if sys.argv[1:2] == ["sessions"]:  # `python -m bench sessions ...`
        from bench import sessions

        return sessions.main(sys.argv[2:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="MT rows on DuckDB (default 10M)")
    parser.add_argument("--pg-rows", type=int, default=1_000_000, help="MT rows on PostgreSQL; 0 skips it")
    parser.add_argument("--db", metavar="URL", help="PostgreSQL database to measure (its demo rows are replaced); "
                        "default: a throwaway database on the server of TEST_POSTGRES_URL, which `make bench` starts")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ingest-messages", type=int, default=50_000, help="messages of webhook traffic to ingest")
    parser.add_argument("--webhook-seconds", type=float, default=60,
                        help="seconds of webhook traffic from 50 senders to the app server; 0 skips it")
    parser.add_argument("--webhook-sessions", type=int, default=5,
                        help="browser sessions loading a search every second during the webhook traffic")
    parser.add_argument("--sessions-seconds", type=float, default=60,
                        help="seconds each level of concurrent sessions changes filters; 0 skips it")
    parser.add_argument("--sessions-levels", default="1,5,20", help="session counts of the concurrent-sessions part")
    parser.add_argument("--pg-processes", type=int, default=2,
                        help="app server processes behind one port for PostgreSQL's sessions and webhooks")
    parser.add_argument("--pg-sessions-levels", default="1,5,20",
                        help="session counts of the concurrent-sessions part on PostgreSQL; empty skips it")
    parser.add_argument("--pg-webhook-seconds", type=float, default=60,
                        help="seconds of webhook traffic to the PostgreSQL app processes; 0 skips it")
    parser.add_argument("--export-rows", type=int, default=1_000_000, help="rows of the CSV and XLSX exports")
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 20))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    args = parser.parse_args()
    results: dict = {"machine": machine(), "engines": {}}
    with tempfile.TemporaryDirectory(prefix="report-bench-") as folder:
        url = f"duckdb:///{folder}/bench.duckdb"
        results["engines"]["duckdb"] = measure_engine(url, args.rows, args.days, args.end, args.repeats, args.export_rows)
        results["ingest_duckdb"] = measure_ingest(f"duckdb:///{folder}/ingest.duckdb", args.ingest_messages)
        if args.sessions_seconds:
            results["sessions_duckdb"] = measure_sessions(url, args.sessions_seconds, args.sessions_levels)
        if args.webhook_seconds:  # on copies of the demo file (the server's and the command's)
            results["webhooks_duckdb"] = measure_webhooks(url, args.webhook_seconds, args.webhook_sessions)
    if args.pg_rows:
        measure_postgres(results, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print_table(results)
    print("\ningest into DuckDB:", results["ingest_duckdb"])
    if "sessions_duckdb" in results:
        print("\nconcurrent sessions on DuckDB:", json.dumps(results["sessions_duckdb"]["levels"]))
    if "webhooks_duckdb" in results:
        print("\nwebhooks into DuckDB:", results["webhooks_duckdb"])
    if "sessions_postgresql" in results:
        print(f"\nconcurrent sessions on PostgreSQL, {args.pg_processes} app processes:",
              json.dumps(results["sessions_postgresql"]["levels"]))
    if "webhooks_postgresql" in results:
        print(f"\nwebhooks into PostgreSQL, {args.pg_processes} app processes:", results["webhooks_postgresql"])
    print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
