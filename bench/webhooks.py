"""Webhook throughput of the app server: 50 concurrent senders post signed Meta webhooks (seeded
synthetic traffic, as `bench.ingest` makes it) to `POST /webhooks/meta` on loopback for a bounded
time; then the bodies answered 200 are counted in the database (0 lost is the target), and the
`ingest` command loads the same bodies from a file into the database the server started from (a
copy of `--db`, or a fresh one) for comparison.

    python -m bench.webhooks [--postgres] [--seconds 60] [--senders 50] [--rate 1000]
                             [--sessions 5] [--session-driver chromium|protocol] [--rows 1000000]
                             [--processes 2] [--baseline GIT_REF] [--repeats 1] [--out FILE]

With `--rate`, the senders together offer that many requests per second, each request due at its
own time, and its time to the 200 counts from then (a sender held up by a slow answer makes the
next ones late, and that lateness is counted); `--rate 0` sends as fast as the server answers.

The dashboard sessions are headless Chromium pages (`chromium`) or, lighter on a small machine,
sessions driven through Streamlit's own protocol as `bench.sessions` drives them (`protocol`: each
changes its search every second, in a process of its own). With `--baseline REF`, the code of `REF`
(from `git archive`) and this tree run alternately on copies of the same database.

Prints JSON: the load average, requests/s, p50/p99/max time to the 200, the same for a probe
answered on the event loop with no I/O every 20 ms (the loop's own delay; one app process only),
the app server's CPU seconds (per request too), the events/s from the first request until the last
body is folded, and the `ingest` command's events/s on the same payloads: alone on the machine, and
(DuckDB, with sessions) into another copy while the same sessions use the app server again, as
they did during the webhooks. An app server that dies mid-run (a crash in a C library), or whose
fold stops catching up (it is sent SIGABRT), leaves the Python stack of each of its threads on
standard error (faulthandler), the crashing thread's first.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa
import uvloop

from bench.balancer import serve_balanced
from data_access.demo import generate
from data_access.engine import open_database
from data_access.ingest import synthetic
from data_access.schema import raw_payload, webhook_inbox
from tests.app_server import ROOT

APP_SECRET = "bench-app-secret"
ANSWER_TIMEOUT_S = 60  # a request unanswered this long means the server's event loop is stuck
LINES_PER_SECOND = 3_000  # payloads made per second of the run: senders never run out below this rate
PROBE_EVERY_S = 0.02


def payloads(seconds: float) -> list[bytes]:
    """Distinct webhook bodies (the synthetic traffic's duplicates removed: a resent body is a
    duplicate and not stored again, which would blur the count of what was lost)."""
    wanted = int(seconds * LINES_PER_SECOND)
    lines = synthetic.webhook_lines(synthetic.generate(max(1_000, wanted // 2), seed=11), seed=11,
                                    with_send_logs=False, duplicate_share=0.0)
    return [line.encode() for line in dict.fromkeys(lines)][:wanted]


async def _sender(port: int, bodies: list[bytes], state: dict, deadline: float, period: float, offset: float) -> None:
    """Posts one body after the other on a keep-alive connection; with a `period`, each request is
    due at its own time and its latency counts from then (a late start is the server's delay too)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    due = time.perf_counter() + offset
    try:
        while time.monotonic() < deadline and state["next"] < len(bodies):
            body = bodies[state["next"]]
            state["next"] += 1
            signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            head = (f"POST /webhooks/meta HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    f"X-Hub-Signature-256: {signature}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            if period:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                started, due = due, due + period
            else:
                started = time.perf_counter()
            writer.write(head + body)
            await writer.drain()
            async with asyncio.timeout(ANSWER_TIMEOUT_S):  # a stalled server ends the run (TimeoutError)
                status_line = await reader.readline()
            if not status_line:  # the server closed the connection: counted, and the sender connects again
                state["latencies"].append(time.perf_counter() - started)
                state["errors"] += 1
                state["error_statuses"]["closed"] = state["error_statuses"].get("closed", 0) + 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            state["latencies"].append(time.perf_counter() - started)
            if status_line.split()[1] == b"200":
                state["ok"].append(body)
            else:
                state["errors"] += 1
                status = status_line.split()[1].decode()
                state["error_statuses"][status] = state["error_statuses"].get(status, 0) + 1
    finally:
        writer.close()


async def _probe(port: int, sending: asyncio.Future, every_s: float, times: list[float]) -> None:
    """The event loop's own delay, apart from the spool's fsync: every `every_s` while the senders
    send, a request the server answers on its event loop with no I/O (`GET /webhooks/meta` without a
    verify token configured: 404), timed from when it was due."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"GET /webhooks/meta HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    due = time.perf_counter()
    try:
        while not sending.done():
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            started, due = due, due + every_s
            writer.write(request)
            length = 0
            async with asyncio.timeout(ANSWER_TIMEOUT_S):
                await reader.readline()
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            times.append(time.perf_counter() - started)
    finally:
        writer.close()


async def _send_all(port: int, bodies: list[bytes], senders: int, seconds: float, rate: float,
                    probe: bool = False) -> dict:
    state = {"next": 0, "latencies": [], "ok": [], "errors": 0, "error_statuses": {}, "probe": []}
    period = senders / rate if rate else 0.0
    started = time.monotonic()
    sending = asyncio.gather(*(_sender(port, bodies, state, started + seconds, period, period * i / senders)
                               for i in range(senders)))
    # the senders' time (they stop early when the bodies run out, as fast as answered)
    sending.add_done_callback(lambda _: state.update(seconds=time.monotonic() - started))
    await asyncio.gather(sending, *([_probe(port, sending, PROBE_EVERY_S, state["probe"])] if probe else []))
    return state


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # folded and removed since it was listed
        return 0


def spooled_bytes(spool: Path) -> int:
    """Bytes in a spool folder's segments: bodies answered and not folded yet."""
    return sum(_size(path) for path in spool.glob("segment-*.spool"))


def waiting(url: str) -> int:
    """Bodies not folded yet: bytes in the spool's segments, or rows in the inbox."""
    if url.startswith("duckdb"):
        return spooled_bytes(Path(url.removeprefix("duckdb:///")).with_suffix(".spool"))
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(webhook_inbox)).scalar_one()
    finally:
        engine.dispose()


def _stored(url: str) -> set[str]:
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.select(raw_payload.c.payload_id)).scalars())
    finally:
        engine.dispose()


def _ingest_command(url: str, bodies: list[bytes], folder: Path, tree: Path) -> dict:
    path = folder / "same-payloads.jsonl"
    path.write_bytes(b"".join(body + b"\n" for body in bodies))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "data_access.ingest", "--db", url, str(path)], cwd=tree,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"ingest failed: {done.stderr.strip()}")
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.startswith("format")).split()
    total = next(line for line in lines if line.startswith("total")).split()
    events = int(total[header.index("events")].replace(",", ""))  # by name: the summary gains columns
    own = re.search(r"events in ([\d.]+) s", done.stdout)  # the run's own clock, without the start-up
    return {"events": events, "wall_s": round(wall, 2), "events_per_s": round(events / wall),
            "events_per_s_run": round(events / float(own.group(1))) if own and float(own.group(1)) else None}


class Sessions(threading.Thread):
    """People using the dashboard meanwhile: `count` headless Chromium pages, each loading a search
    of /sent every `every_s` seconds (alternating two searches) until stopped."""

    def __init__(self, base: str, count: int, every_s: float = 1.0) -> None:
        super().__init__(name="dashboard-sessions", daemon=True)
        self.base, self.count, self.every_s = base, count, every_s
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.timings: list[float] = []
        self.failures = 0

    def begin(self, seconds: float) -> None:
        """Starts the pages; returns once every page has loaded once."""
        self.start()
        self.ready.wait(120)

    def end(self) -> dict:
        self.stop.set()
        self.join()
        return {"session_loads": len(self.timings),
                "session_load_p50_ms": round(_percentile(self.timings, 0.5) * 1000) if self.timings else None,
                "session_failures": self.failures}

    def run(self) -> None:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        from tests.app_server import CHROMIUM, CHROMIUM_ARGS

        searches = [f"{self.base}/sent?lang=en", f"{self.base}/sent?lang=en&status=read"]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages = [browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
                     for _ in range(self.count)]
            turn = 0
            while not self.stop.is_set():
                started = time.perf_counter()
                for page in pages:  # one after the other: Playwright's sync API is one thread
                    loading = time.perf_counter()
                    try:
                        page.goto(searches[turn % 2])
                        page.get_by_role("heading", name="results").or_(
                            page.get_by_role("heading", name="result")).first.wait_for(timeout=30_000)
                        self.timings.append(time.perf_counter() - loading)
                    except PlaywrightError:
                        self.failures += 1
                self.ready.set()
                turn += 1
                self.stop.wait(max(0.0, self.every_s - (time.perf_counter() - started)))
            browser.close()


def _protocol_level(base: str, count: int, seconds: float, answer: multiprocessing.Queue) -> None:
    from bench.sessions import QUERY, level

    answer.put(asyncio.run(level(base, count, seconds, 1.0, 60.0, QUERY)))


class ProtocolSessions:
    """People using the dashboard meanwhile, without a browser: `count` sessions driven through
    Streamlit's own protocol (`bench.sessions`), each changing its search every second, in a
    process of their own (so that their work does not share the senders' interpreter)."""

    def __init__(self, base: str, count: int) -> None:
        self.base, self.count = base, count
        self._answer: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()
        self._process: multiprocessing.Process | None = None

    def begin(self, seconds: float) -> None:
        """Starts the sessions; returns when their first changes are due (`bench.sessions.level`
        gives every session 3 s + 0.2 s per session to load the page first)."""
        self._process = multiprocessing.get_context("spawn").Process(
            target=_protocol_level, args=(self.base, self.count, seconds, self._answer), daemon=True)
        started = time.perf_counter()
        self._process.start()
        time.sleep(max(0.0, 3.0 + 0.2 * self.count + 1.0 - (time.perf_counter() - started)))

    def end(self) -> dict:
        level = self._answer.get(timeout=180)
        self._process.join()
        return {"session_changes": level["changes"], "session_to_total_ms": level["to_total_ms"],
                "session_failures": level["failed_sessions"], "session_failure_reasons": level["failures"]}


def last_words(log: str, lines: int = 60) -> str:
    """What a dead app server said last: its last `lines` lines, and when it wrote a fatal error (the
    stacks of all its threads, the crashing one's first), the `lines` lines before it and all of it."""
    fatal = log.rfind("Fatal Python error")
    before, after = (log[:fatal], log[fatal:]) if fatal >= 0 else (log, "")
    return "\n".join([*before.splitlines()[-lines:], *after.splitlines()])


def measure(url: str, compare_url: str, seconds: float, senders: int, rate: float, folder: Path,
            sessions: int = 0, driver: str = "chromium", tree: Path = ROOT, processes: int = 1,
            busy_compare_url: str | None = None) -> dict:
    """With `processes` above 1 (PostgreSQL), that many app processes take the traffic and the
    sessions behind one port (bench/balancer.py) and share the fold. With sessions and a
    `busy_compare_url`, the `ingest` command also loads the same bodies into that database while
    the same sessions keep the app server busy again (the webhooks' conditions), besides alone."""
    bodies = payloads(seconds)
    reading: dict = {}
    command_busy: dict | None = None
    # a process that dies of a fatal signal (a crash in a C library) writes every thread's Python stack
    env = {"META_APP_SECRET": APP_SECRET, "PYTHONFAULTHANDLER": "1"}
    with serve_balanced(url, processes, folder, "app", tree=tree, env=env) as apps:
        def people() -> ProtocolSessions | Sessions:
            return ProtocolSessions(apps.base, sessions) if driver == "protocol" else Sessions(apps.base, sessions)

        readers = people() if sessions else None
        load_before = os.getloadavg()
        try:
            if readers:
                readers.begin(seconds)
            cpu_before = sum(apps.cpu_seconds()["apps"])
            # the client's own CPU lowered by uvloop; the loop's probe when one process takes it all
            try:
                state = uvloop.run(_send_all(apps.port, bodies, senders, seconds, rate, probe=processes == 1))
                sent_until = time.monotonic()
                while waiting(url):
                    if time.monotonic() - sent_until > 60:
                        raise RuntimeError("the fold did not catch up within 60 s")
                    time.sleep(0.05)
            except (OSError, RuntimeError):  # the app server died or stalled: its last words, before
                for app in apps.apps:  # its folder is removed (SIGABRT makes a stalled one write its stacks)
                    if app.proc.poll() is None:
                        app.proc.send_signal(signal.SIGABRT)
                        try:
                            app.proc.wait(15)
                        except subprocess.TimeoutExpired:  # still writing a core dump, say
                            app.kill()
                    print(f"{app.log_path.name}:", last_words(app.log_path.read_text()), sep="\n", file=sys.stderr)
                raise
            fold_lag = time.monotonic() - sent_until
            server_cpu_s = sum(apps.cpu_seconds()["apps"]) - cpu_before
            load_after = os.getloadavg()
        finally:
            if readers:
                reading = readers.end()
        if readers and busy_compare_url:
            again = people()
            again.begin(seconds)
            try:
                command_busy = _ingest_command(busy_compare_url, state["ok"], folder, tree)
            finally:
                busy_reading = again.end()
            # the sessions' own figures beside it: whether they ran, and for how long
            command_busy |= {"sessions_seconds": seconds, **busy_reading}
    answered = state["ok"]
    ids = {hashlib.sha256(body).hexdigest() for body in answered}
    lost = len(ids - _stored(url))
    command = _ingest_command(compare_url, answered, folder, tree)
    latencies = state["latencies"]
    folds = [(int(n), float(t)) for log in apps.log_paths
             for n, t in re.findall(r"fold: (\d+) bodies in ([\d.]+) s", log.read_text())]
    folded = [sum(int(n) for n in re.findall(r"fold: (\d+) bodies", log.read_text())) for log in apps.log_paths]
    over_http_s = state["seconds"] + fold_lag
    # what the app server said last, when some answers were not 200 (the run's folder is removed after)
    log_tail = [line for log in apps.log_paths for line in last_words(log.read_text(), 20).splitlines()] \
        if state["errors"] else []
    return {
        "processes": processes,
        "connections": apps.report.get("connections"),  # per process, through the balancer
        "folded_per_process": folded,
        "senders": senders,
        "dashboard_sessions": sessions,
        "session_driver": driver if sessions else None,
        **reading,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "offered_rate": rate or "as fast as answered",
        "seconds": round(state["seconds"], 2),
        "requests": len(latencies),
        "answered_200": len(answered),
        "errors": state["errors"],
        "error_statuses": state["error_statuses"],  # how many of each answer other than 200 ("closed": none)
        "app_log_tail": log_tail,
        "requests_per_s": round(len(latencies) / state["seconds"]),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        # the event loop's delay alone (one process: a request answered on the loop with no I/O, every 20 ms)
        "loop_probe_ms": {"p50": round(_percentile(state["probe"], 0.50) * 1000, 1),
                          "p99": round(_percentile(state["probe"], 0.99) * 1000, 1),
                          "max": round(max(state["probe"]) * 1000, 1)} if state["probe"] else None,
        "fold_lag_s": round(fold_lag, 2),
        # the app processes' CPU from the first request until the last body was folded, the
        # sessions' page scripts included: less sensitive to the machine's other load than times
        "server_cpu_s": round(server_cpu_s, 2),
        "server_cpu_ms_per_request": round(1000 * server_cpu_s / len(latencies), 3),
        "fold_rounds": len(folds),
        "fold_round_max_s": max((t for _, t in folds), default=0.0),
        "fold_round_max_bodies": max((n for n, _ in folds), default=0),
        "lost": lost,
        "events_per_s_over_http": round(command["events"] / over_http_s),
        "ingest_command": command,
        # the same command while the same sessions use the app server again (None without sessions)
        "ingest_command_with_sessions": command_busy,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__.splitlines()[0])
    parser.add_argument("--db", metavar="URL", help="an existing database for the server (such as the "
                        "benchmark's demo database): a DuckDB file is copied for the server and for the command at "
                        "each run (the file itself is not changed); on PostgreSQL the server runs on it and the "
                        "command's comparison on a fresh database; default: a fresh one")
    parser.add_argument("--postgres", action="store_true", help="throwaway PostgreSQL databases on the server of "
                        "TEST_POSTGRES_URL (`bash .ci/with-postgres` starts one) instead of fresh DuckDB files")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--rate", type=float, default=1_000,
                        help="requests per second offered by all senders together; 0: each sends as soon as "
                             "its last request is answered")
    parser.add_argument("--sessions", type=int, default=0,
                        help="dashboard sessions loading or changing a search of /sent every second meanwhile")
    parser.add_argument("--session-driver", choices=["chromium", "protocol"], default="chromium",
                        help="headless Chromium pages, or sessions driven through Streamlit's protocol")
    parser.add_argument("--rows", type=int, default=0, help="demo MT rows in the server's database first")
    parser.add_argument("--processes", type=int, default=1, help="app server processes behind one port "
                        "(bench/balancer.py), sharing the traffic and the fold: PostgreSQL only")
    parser.add_argument("--baseline", metavar="GIT_REF", help="also run the code of this git ref, alternately "
                        "with this tree, each on its own copy of the database (DuckDB only)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each code")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    postgres = args.postgres or (args.db or "").startswith("postgresql")
    if args.processes > 1 and not postgres:
        parser.error("--processes above 1 needs PostgreSQL: one app process owns the embedded file")
    if postgres and (args.baseline or args.repeats > 1):
        parser.error("--baseline and --repeats are for DuckDB files")
    with tempfile.TemporaryDirectory(prefix="report-bench-webhooks-") as name, contextlib.ExitStack() as drops:
        folder = Path(name)
        from bench.sessions import compared_trees

        trees = drops.enter_context(compared_trees(args.baseline))
        if postgres:
            from tests.postgres import new_postgres_database

            url = args.db
            if url is None:
                url, drop = new_postgres_database()
                drops.callback(drop)
            if os.environ.get("TEST_POSTGRES_URL"):
                compare, drop_compare = new_postgres_database()
                drops.callback(drop_compare)
            else:  # no server to make a fresh database on
                compare = f"duckdb:///{folder}/command.duckdb"
            if args.rows:
                engine = open_database(url)
                generate(engine, rows=args.rows, days=90, seed=42, end=date.today())
                engine.dispose()
            result = measure(url, compare, args.seconds, args.senders, args.rate, folder, args.sessions,
                             args.session_driver, processes=args.processes)
            result["ingest_command"]["engine"] = compare.split(":", 1)[0].split("+", 1)[0]
            runs = [("current", result)]
        else:
            template = Path(args.db.removeprefix("duckdb:///")) if args.db else None
            if args.rows:
                template = folder / "template.duckdb"
                engine = open_database(f"duckdb:///{template}")
                generate(engine, rows=args.rows, days=90, seed=42, end=date.today())
                engine.dispose()
            runs = []
            for repeat in range(args.repeats):
                for code, tree in trees.items():
                    run_folder = folder / f"{code}-{repeat}"
                    run_folder.mkdir()
                    names = ("webhooks.duckdb", "command.duckdb", "command-busy.duckdb")[:3 if args.sessions else 2]
                    url, compare, *busy_compare = (f"duckdb:///{run_folder / name}" for name in names)
                    if template is not None:  # the server and the commands start from the same database
                        for name in names:
                            shutil.copyfile(template, run_folder / name)
                    result = measure(url, compare, args.seconds, args.senders, args.rate, run_folder,
                                     args.sessions, args.session_driver, tree,
                                     busy_compare_url=busy_compare[0] if busy_compare else None)
                    print(f"{code} #{repeat + 1}: {json.dumps(result)}", file=sys.stderr)
                    runs.append((code, result))
                    shutil.rmtree(run_folder)
    result = {"engine": "postgresql" if postgres else "duckdb", "baseline": args.baseline,
              "runs": [{"code": code, **figures} for code, figures in runs]}
    text = json.dumps(result)
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0 if all(figures["lost"] == 0 for _, figures in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
