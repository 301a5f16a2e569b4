"""Several app server processes behind one port, as a team outgrowing the embedded file runs the
report on PostgreSQL: a loopback TCP load balancer that hands each new connection to the next
process in turn (round robin per connection), so a Streamlit session, which is one websocket,
stays on the process that took it, as behind a proxy's upstream of several processes.

    python -m bench.balancer [--port 0] BACKEND_PORT...

It listens on 127.0.0.1 only, prints `listening on PORT` once bound, skips a process that refuses the
connection (the next one takes it), and on SIGTERM or SIGINT prints the connections each process got
as JSON (`{"connections": {"PORT": N, ...}, "refused": N}`) and exits.

`serve_balanced` runs N app processes (tests/app_server.py) and, for more than one, this balancer in
front of them, for the benchmarks (bench/sessions.py, bench/webhooks.py).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import uvloop

if TYPE_CHECKING:  # the balancer's own process imports none of the app's code
    from tests.app_server import AppProcess

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CHUNK = 256 * 1024


class RoundRobin:
    """The balancer's state: the backends' ports, whose turn it is, and what each one got."""

    def __init__(self, ports: Sequence[int]) -> None:
        self.ports = list(ports)
        self.turn = 0
        self.connections = dict.fromkeys(self.ports, 0)
        self.refused = 0

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to the next backend that accepts one, starting with the one whose turn it is."""
        for _ in range(len(self.ports)):
            port = self.ports[self.turn % len(self.ports)]
            self.turn += 1
            try:
                streams = await asyncio.open_connection(HOST, port)
            except OSError:
                self.refused += 1
                continue
            self.connections[port] += 1
            return streams
        raise ConnectionRefusedError("no backend accepted the connection")

    async def handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            backend_reader, backend_writer = await self.connect()
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(_pipe(client_reader, backend_writer), _pipe(backend_reader, client_writer))
        except asyncio.CancelledError:
            pass  # the balancer stops with this connection open: it ends here, quietly
        finally:
            for writer in (backend_writer, client_writer):
                writer.close()

    def report(self) -> dict:
        return {"connections": {str(port): n for port, n in self.connections.items()}, "refused": self.refused}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copies one direction until its end, then half-closes the other side (as the peer did); a reset
    closes the other side too, so the opposite direction ends as well."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        writer.close()


async def serve(port: int, backends: Sequence[int]) -> dict:
    """Balances connections on `port` (0: any free one) over `backends` until SIGTERM or SIGINT."""
    balancer = RoundRobin(backends)
    server = await asyncio.start_server(balancer.handle, HOST, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"listening on {server.sockets[0].getsockname()[1]}", flush=True)
    await stop.wait()
    server.close()  # open connections are cut when the loop ends: nothing waits for them
    return balancer.report()


@dataclass
class Balanced:
    """N app processes and the one base URL that reaches them (the balancer's, or the one process's)."""

    base: str
    port: int
    apps: list[AppProcess]
    balancer: subprocess.Popen | None = None
    report: dict = field(default_factory=dict)  # the balancer's connection counts, once stopped

    def cpu_seconds(self) -> dict:
        """CPU time used so far (user + system) by each app process (with its running children: the
        fold's reader) and by the balancer."""
        def used(pid: int) -> float:
            process = psutil.Process(pid)
            total = 0.0
            for each in (process, *process.children(recursive=True)):
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = each.cpu_times()
                    total += times.user + times.system
            return total

        result = {"apps": [round(used(app.proc.pid), 2) for app in self.apps]}
        if self.balancer is not None:
            result["balancer"] = round(used(self.balancer.pid), 2)
        return result

    @property
    def log_paths(self) -> list[Path]:
        return [app.log_path for app in self.apps]


def start_balancer(backends: Sequence[int], timeout_s: float = 10) -> tuple[subprocess.Popen, int]:
    """`python -m bench.balancer` over these ports on a free port: the process and its port."""
    proc = subprocess.Popen([sys.executable, "-m", "bench.balancer", *map(str, backends)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()  # the balancer writes it once bound, or exits
        if not first.startswith("listening on "):
            raise RuntimeError(f"the balancer did not start: {first!r}")
    except BaseException:
        proc.kill()
        proc.wait(timeout_s)
        raise
    return proc, int(first.split()[-1])


def stop_balancer(proc: subprocess.Popen, timeout_s: float = 10) -> dict:
    """SIGTERM; returns the connection counts it printed."""
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {}
    lines = out.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


@contextlib.contextmanager
def serve_balanced(db_url: str, processes: int, log_dir: Path, name: str = "app", tree: Path | None = None,
                   env: dict[str, str] | None = None, timeout_s: float = 120) -> Iterator[Balanced]:
    """`processes` app servers on `db_url` (logs `log_dir/NAME-I.log`), behind the balancer when
    more than one; stops them all when the block ends."""
    from tests.app_server import AppProcess

    apps = [AppProcess(db_url, log_dir / f"{name}-{i}.log", env, tree=tree) for i in range(processes)]
    balanced: Balanced | None = None
    try:
        with ThreadPoolExecutor(len(apps)) as starting:  # side by side: each start mostly waits
            list(starting.map(lambda app: app.start(timeout_s), apps))
        if processes == 1:
            balanced = Balanced(apps[0].base, apps[0].port, apps)
        else:
            proc, port = start_balancer([app.port for app in apps])
            balanced = Balanced(f"http://{HOST}:{port}", port, apps, proc)
        yield balanced
    finally:
        if balanced is not None and balanced.balancer is not None:
            balanced.report = stop_balancer(balanced.balancer)
        for app in apps:
            app.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.balancer", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port to listen on, on 127.0.0.1 (0: a free one)")
    parser.add_argument("backends", nargs="+", type=int, metavar="BACKEND_PORT", help="the app processes' ports")
    args = parser.parse_args(argv)
    print(json.dumps(uvloop.run(serve(args.port, args.backends))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
