"""Several app processes behind one port (bench/balancer.py): the balancer hands connections to the
processes in turn and skips one that is gone; dashboard sessions through it on two app processes on
PostgreSQL each stay on one process and see their searches; the sessions harness reports it; the
webhook bench's traffic through it is stored and folded once."""
import asyncio
import json
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa
import websockets

from bench.balancer import serve_balanced, start_balancer, stop_balancer
from bench.sessions import one_run, rerun_message
from data_access.engine import open_database
from data_access.schema import raw_payload, webhook_inbox
from tests.app_server import ROOT, free_port, refusing_port
from tests.factories import at, insert, mt_row
from tests.postgres import new_postgres_database

PERIOD = "from=2026-11-01&to=2026-11-20&lang=en"
STATUSES = ["delivered"] * 3 + ["read"] * 2 + ["undelivered"] * 2


def static_server(folder: Path, name: str) -> tuple[subprocess.Popen, int]:
    """`python -m http.server` on a free loopback port, serving a file `who.txt` that says `name`."""
    folder.mkdir()
    (folder / "who.txt").write_text(name)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "-d", str(folder), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/who.txt", timeout=2):
                return proc, port
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.1)


def who(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/who.txt", timeout=5) as answer:
        return answer.read().decode()


def test_the_balancer_hands_connections_in_turn_and_skips_a_process_that_is_gone(tmp_path) -> None:
    servers = [static_server(tmp_path / name, name) for name in ("a", "b")]
    try:
        with refusing_port() as closed:  # nothing listens there
            balancer, port = start_balancer([servers[0][1], servers[1][1], closed])
            try:
                in_turn = [who(port) for _ in range(6)]
                servers[1][0].kill()  # b is gone: its turns go to the next one that accepts
                servers[1][0].wait()
                after = [who(port) for _ in range(3)]
            finally:
                report = stop_balancer(balancer)
    finally:
        for proc, _ in servers:
            proc.kill()
            proc.wait()
    # Turns a, b, closed (refused: a takes it), ...: two refusals in six requests; then b and the
    # closed port refuse each turn (1 + 2 + 2) and a takes every request.
    assert in_turn == ["a", "b", "a", "b", "a", "b"]
    assert after == ["a", "a", "a"]
    assert report == {"connections": {str(servers[0][1]): 6, str(servers[1][1]): 3, str(closed): 0},
                      "refused": 2 + 5}
    assert balancer.returncode == 0


def receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size and (chunk := sock.recv(size - len(data))):
        data += chunk
    return data


def test_bytes_pass_both_ways_unchanged_a_half_close_is_passed_on_and_a_stop_still_reports() -> None:
    backend = socket.create_server(("127.0.0.1", 0))
    backend_port = backend.getsockname()[1]
    balancer, port = start_balancer([backend_port])
    payload = random.Random(7).randbytes(1_000_000)
    try:
        client = socket.create_connection(("127.0.0.1", port), timeout=10)
        conn, _ = backend.accept()
        conn.settimeout(10)
        sending = threading.Thread(target=client.sendall, args=(payload,))
        sending.start()
        upstream = receive(conn, len(payload))
        sending.join()
        conn.sendall(payload[::-1])
        downstream = receive(client, len(payload))
        client.shutdown(socket.SHUT_WR)  # the client is done sending: the backend sees the end
        end_seen = conn.recv(1)
        conn.sendall(b"still open")  # while the other direction goes on
        after = receive(client, len(b"still open"))
        report = stop_balancer(balancer)  # with the connection still open
    finally:
        balancer.kill()
        balancer.wait()
        backend.close()
    assert (upstream == payload, downstream == payload[::-1], end_seen, after) == (True, True, b"", b"still open")
    assert report == {"connections": {str(backend_port): 1}, "refused": 0}
    assert balancer.returncode == 0


def demo_database() -> tuple[str, Callable[[], None]]:
    url, drop = new_postgres_database()
    engine = open_database(url)
    insert(engine, [mt_row(sent_at=at(10 + i), status=status) for i, status in enumerate(STATUSES)])
    engine.dispose()
    return url, drop


def established(pid: int, port: int) -> int:
    """Connections accepted on `port` by the process `pid` that are open now."""
    return sum(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
               for c in psutil.Process(pid).net_connections("tcp"))


@pytest.mark.slow
def test_two_sessions_through_the_balancer_each_stay_on_their_own_app_process(tmp_path) -> None:
    url, drop = demo_database()

    async def two_sessions(base: str, pids_ports: list[tuple[int, int]]) -> tuple[list, list, list]:
        stream = base.replace("http://", "ws://") + "/_stcore/stream"
        async with (websockets.connect(stream, subprotocols=["streamlit"], max_size=None) as one,
                    websockets.connect(stream, subprotocols=["streamlit"], max_size=None) as two):
            opened = [await one_run(ws, rerun_message(PERIOD), 60) for ws in (one, two)]
            on_each = [established(pid, port) for pid, port in pids_ports]
            changed = [await one_run(one, rerun_message(PERIOD + "&status=read"), 60),
                       await one_run(two, rerun_message(PERIOD + "&status=undelivered&status=read"), 60)]
        return opened, changed, on_each

    try:
        with serve_balanced(url, 2, tmp_path, "app") as apps:
            assert apps.balancer is not None and apps.base != apps.apps[0].base
            opened, changed, on_each = asyncio.run(
                two_sessions(apps.base, [(app.proc.pid, app.port) for app in apps.apps]))
        for app in apps.apps:
            assert "Traceback" not in app.log_path.read_text()
    finally:
        drop()
    assert [(run.error, run.total) for run in opened] == [(None, "7 results")] * 2
    assert [(run.error, run.total) for run in changed] == [(None, "2 results"), (None, "4 results")]
    assert on_each == [1, 1]  # one session's websocket on each process
    assert apps.report["connections"] == {str(app.port): 1 for app in apps.apps}


@pytest.mark.slow
def test_the_sessions_harness_reports_two_processes_behind_one_port(tmp_path) -> None:
    url, drop = demo_database()
    out = tmp_path / "sessions.json"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench", "sessions", "--db", url, "--processes", "2", "--levels", "2",
             "--seconds", "2", "--every", "1", "--period", "2026-11-01,2026-11-20", "--out", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    finally:
        drop()
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert json.loads(done.stdout.strip().splitlines()[-1]) == result
    assert result["processes"] == [2]
    level = result["levels"]["2"]["current"]
    assert level["processes"] == 2
    assert (level["sessions"], level["changes"], level["failed_sessions"], level["failures"]) == (2, 4, 0, [])
    assert sorted(level["connections"].values()) == [1, 1]  # the two sessions, one on each process
    assert len(level["cpu_s"]["apps"]) == 2 and all(seconds > 0 for seconds in level["cpu_s"]["apps"])
    assert level["cpu_s"]["balancer"] >= 0
    assert level["to_total_ms"]["p50"] > 0


def test_the_sessions_harness_refuses_two_processes_on_the_embedded_file(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "sessions", "--db", f"duckdb:///{tmp_path / 'report.duckdb'}",
         "--processes", "2"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "--processes above 1 needs PostgreSQL" in done.stderr
    assert not (tmp_path / "report.duckdb").exists()


@pytest.mark.slow
def test_the_webhook_bench_on_two_processes_folds_every_body_once(tmp_path) -> None:
    url, drop = new_postgres_database()
    out = tmp_path / "webhooks.json"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.webhooks", "--db", url, "--processes", "2", "--seconds", "2",
             "--senders", "4", "--rate", "200", "--out", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
        engine = open_database(url)
        with engine.connect() as conn:
            stored = conn.execute(sa.select(sa.func.count()).select_from(raw_payload)).scalar_one()
            waiting = conn.execute(sa.select(sa.func.count()).select_from(webhook_inbox)).scalar_one()
        engine.dispose()
    finally:
        drop()
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert (report["engine"], len(report["runs"])) == ("postgresql", 1)
    result = report["runs"][0]
    assert (result["processes"], result["lost"]) == (2, 0)
    # four keep-alive senders, two on each process (round robin), and one more for each connection a
    # server closed (the sender connects again)
    connections = sorted(result["connections"].values())
    assert connections[0] >= 2 and sum(connections) == 4 + result["error_statuses"].get("closed", 0)
    # How many are sent, and whether an overloaded machine makes the server answer some with an
    # error (which a provider retries), depends on the machine; every answer is counted either way.
    assert result["answered_200"] + result["errors"] == result["requests"] > 0
    assert sum(result["error_statuses"].values()) == result["errors"]
    assert waiting == 0 and stored >= result["answered_200"] > 0  # nothing answered 200 is missing
    assert sum(result["folded_per_process"]) == stored  # every body stored was folded once, by one process
    assert result["server_cpu_s"] > 0  # both processes' CPU, and its share per request
    assert abs(result["server_cpu_ms_per_request"] * result["requests"] / 1000 - result["server_cpu_s"]) < 0.01
    assert result["ingest_command"]["engine"] == "postgresql"
