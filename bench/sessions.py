"""Many people at once: N concurrent dashboard sessions on one app server, driven through Streamlit's
own session protocol (the `BackMsg` / `ForwardMsg` protobufs of the installed streamlit, over the
websocket at `/_stcore/stream`), as the browser's page does it, without a browser per session.

    python -m bench sessions --db URL [--levels 1,5,20] [--seconds 60] [--every 2]
                             [--period FROM,TO] [--baseline GIT_REF] [--processes 1,2] [--out FILE]
                             [--profile DIR [--profile-rate 200]]

Each session opens /sent (language en), then every `--every` seconds changes its search by sending
`rerun_script` with a new address (the campaign and status parameters changed in the query string the
app last wrote, as the back button or a shared link does it: the page rebuilds its filter value from
the address and reruns everything a widget change reruns). Changes alternate between shared searches (the
same few searches for every session, at the same moment) and distinct ones (a subset of campaigns
and statuses drawn from the session's own seed). A change is timed from sending it to the
`ForwardMsg` carrying the new result total (the "N results" heading of the new run) and to the end
of the run (`script_finished`). A change still unanswered when the next one is due delays it: the
next change is sent once the run ended: each session makes `--seconds / --every` changes, never
skipping one, so every code gets the same sequence of searches (a slow one takes longer).

A session fails when its connection drops, a run shows an exception, or a change is not answered
within `--timeout` seconds. The levels run one after the other, each on a freshly started server
(opened once by a warm-up session first); with `--baseline REF` every level runs on the code of
`REF` (from `git archive`) and on this tree, alternately, on the same database: side by side in one run.
With `--processes N` (PostgreSQL: every process connects to the server), N app processes serve each
level behind one port (bench/balancer.py, a new connection to the next process in turn: each session
stays on one process); `--processes 1,2` runs each level both ways, alternately.

Prints JSON: per level and code, the changes made, p50/p95/max to the total and to the run's end,
how long the changes took in all, the median bytes a change brought, the app processes' (and the
balancer's) CPU seconds during the level and the apps' CPU milliseconds per change (user + system time,
first loads included: on a machine shared with other work this moves far less than the wall times
do), the failed sessions with their reasons, and the load average before and after. With `--profile DIR`,
py-spy samples each app process while its level changes searches (only samples holding the interpreter
lock, `--profile-rate` a second) into DIR/NAME-SESSIONS-I.txt (collapsed stacks: a stack a line, its
count last). On a machine busy with other work these shares are unreliable: a thread holding the lock
while the system runs another process is sampled as holding it.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from urllib import parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.RootContainer_pb2 import RootContainer

from bench.balancer import serve_balanced
from data_access.filters import MtFilters

ROOT = Path(__file__).resolve().parent.parent
QUERY = "lang=en"
PAGE = "sent"
TOTAL = re.compile(r"^[\d,]+ results?$")  # the results header in English
CAMPAIGN_KEY = "mt.campaign"
SIDEBAR = RootContainer.SIDEBAR  # the first number of an element's delta path: where it is drawn
STATUSES = MtFilters.FIELDS["status"].choices
# The shared searches: every session asks the same one at the same tick (positions in STATUSES).
SHARED_STATUSES = ((), (0,), (1, 2), (3,))


@dataclass
class Run:
    """What one script run sent back, and when."""

    to_total_s: float | None = None
    total: str | None = None
    query_string: str | None = None  # the address the app wrote (the browser sends it with the next run)
    to_end_s: float | None = None
    bytes_received: int = 0
    error: str | None = None
    widgets: dict[str, list[str]] = field(default_factory=dict)  # user key -> widget id, options
    sidebar_before_total: int = 0  # elements the run drew in the sidebar before its total
    sidebar_elements: int = 0


@dataclass
class SessionResult:
    changes: list[tuple[float, float, int]] = field(default_factory=list)  # (to total, to end, bytes) per change
    totals: set[str] = field(default_factory=set)  # the totals shown: proof that the changes applied
    first_total_s: float | None = None
    failure: str | None = None


def rerun_message(query_string: str) -> bytes:
    """The `rerun_script` message the page sends for this address (the /sent page, in São Paulo)."""
    message = BackMsg()
    state = message.rerun_script
    state.query_string = query_string
    state.page_name = PAGE
    state.context_info.timezone = "America/Sao_Paulo"
    state.context_info.locale = "en-US"
    return message.SerializeToString()


async def one_run(ws: websockets.ClientConnection, payload: bytes, timeout_s: float) -> Run:
    """Sends a rerun and reads its messages until its `script_finished` (a run that stopped early
    for another run, as the page's first request does, is followed to the end of the next)."""
    run = Run()
    started = time.perf_counter()
    await ws.send(payload)
    deadline = started + timeout_s
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            run.error = f"no end of run within {timeout_s:.0f} s"
            return run
        try:
            data = await asyncio.wait_for(ws.recv(), left)
        except TimeoutError:
            continue
        run.bytes_received += len(data)
        msg = ForwardMsg.FromString(data)
        kind = msg.WhichOneof("type")
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            if msg.metadata.delta_path[0] == SIDEBAR:
                run.sidebar_elements += 1
                run.sidebar_before_total += run.to_total_s is None
            what = element.WhichOneof("type")
            if what == "heading" and run.to_total_s is None and TOTAL.match(element.heading.body):
                run.to_total_s = time.perf_counter() - started
                run.total = element.heading.body
            elif what == "exception":
                run.error = f"exception: {element.exception.type}: {element.exception.message[:200]}"
            elif what == "multiselect":
                key = element.multiselect.id.rsplit("-", 1)[-1]
                run.widgets[key] = [element.multiselect.id, *element.multiselect.options]
        elif kind == "page_info_changed":
            run.query_string = msg.page_info_changed.query_string
        elif kind == "script_finished":
            status = msg.script_finished
            if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                continue
            if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                run.error = "script compile error"
            run.to_end_s = time.perf_counter() - started
            if run.to_total_s is None and run.error is None:
                run.error = "run ended without a result total"
            return run


def search_for(session: int, change: int, campaigns: list[str], query: str) -> str:
    """The address of the next search: even changes the shared search of this tick, odd ones this
    session's own draw of campaigns and statuses; the rest of the address (period, zone, language) kept."""
    kept = [(k, v) for k, v in parse.parse_qsl(query) if k not in ("campaign", "status")]
    if change % 2 == 0:
        picked = [STATUSES[i] for i in SHARED_STATUSES[(change // 2) % len(SHARED_STATUSES)]]
        chosen: list[str] = []
    else:
        draw = random.Random(session * 100_003 + change)
        chosen = draw.sample(campaigns, draw.randint(1, min(3, len(campaigns)))) if campaigns else []
        picked = draw.sample(STATUSES, draw.randint(1, len(STATUSES) // 2))
    return parse.urlencode([*kept, *(("campaign", c) for c in chosen), *(("status", s) for s in picked)])


async def session(number: int, base: str, seconds: float, every: float, timeout_s: float, start_at: float,
                  opening: str) -> SessionResult:
    result = SessionResult()
    ws_url = base.replace("http://", "ws://") + "/_stcore/stream"
    try:
        async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=timeout_s,
                                      ping_interval=None) as ws:
            first = await one_run(ws, rerun_message(opening), timeout_s)
            if first.error:
                result.failure = f"first load: {first.error}"
                return result
            result.first_total_s = first.to_total_s
            query = first.query_string or opening
            if CAMPAIGN_KEY not in first.widgets:
                result.failure = f"campaign filter not found among {sorted(first.widgets)}"
                return result
            campaigns = first.widgets[CAMPAIGN_KEY][1:]
            # Every session starts its changes on the same clock, so shared searches coincide.
            await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
            change = 0
            while (due := start_at + change * every) < start_at + seconds:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                query = search_for(number, change, campaigns, query)
                run = await one_run(ws, rerun_message(query), timeout_s)
                if run.error:
                    result.failure = f"change {change}: {run.error}"
                    return result
                result.changes.append((run.to_total_s, run.to_end_s, run.bytes_received))
                result.totals.add(run.total)
                query = run.query_string or query
                change += 1  # a late answer delays the next change (sent at once), never skips it
    except (OSError, websockets.WebSocketException) as exc:
        result.failure = f"connection: {type(exc).__name__}: {exc}"
    return result


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


async def level(base: str, sessions: int, seconds: float, every: float, timeout_s: float, opening: str) -> dict:
    load_before = os.getloadavg()
    start_at = time.perf_counter() + 3.0 + 0.2 * sessions  # time for every session's first load
    results = await asyncio.gather(*(session(i, base, seconds, every, timeout_s, start_at, opening) for i in range(sessions)))
    totals = [c[0] for r in results for c in r.changes]
    ends = [c[1] for r in results for c in r.changes]
    sizes = [c[2] for r in results for c in r.changes]
    firsts = [r.first_total_s for r in results if r.first_total_s is not None]
    return {
        "sessions": sessions,
        "changes": len(totals),
        "changes_took_s": round(time.perf_counter() - start_at, 1),  # from the first change to the last answer
        "to_total_ms": {"p50": _ms(percentile(totals, 0.5)), "p95": _ms(percentile(totals, 0.95)),
                        "max": _ms(max(totals, default=None))},
        "to_end_ms": {"p50": _ms(percentile(ends, 0.5)), "p95": _ms(percentile(ends, 0.95))},
        "bytes_per_change_p50": percentile(sizes, 0.5),
        "first_load_to_total_ms": {"p50": _ms(percentile(firsts, 0.5)), "max": _ms(max(firsts, default=None))},
        "distinct_totals": len(set().union(*(r.totals for r in results))),
        "failed_sessions": sum(r.failure is not None for r in results),
        "failures": [r.failure for r in results if r.failure][:5],
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


async def _warm(base: str, timeout_s: float, opening: str) -> None:
    """One session opens the page twice (the process's imports and the option lists, before timing)."""
    async with websockets.connect(base.replace("http://", "ws://") + "/_stcore/stream", subprotocols=["streamlit"],
                                  max_size=None, open_timeout=timeout_s, ping_interval=None) as ws:
        for _ in range(2):
            run = await one_run(ws, rerun_message(opening), timeout_s)
            if run.error:
                raise RuntimeError(f"warm-up: {run.error}")


async def _warm_all(bases: list[str], timeout_s: float, opening: str) -> None:
    """Warms each process directly (through the balancer, it would pick the process for us)."""
    await asyncio.gather(*(_warm(base, timeout_s, opening) for base in bases))


@contextlib.contextmanager
def code_of(ref: str) -> Iterator[Path]:
    """The tree of git `ref`, unpacked in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="report-bench-code-") as folder:
        archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        yield Path(folder)


@contextlib.contextmanager
def compared_trees(baseline: str | None) -> Iterator[dict[str, Path]]:
    """The code trees a benchmark serves: this tree as "current", and with `baseline` (a git ref) that
    ref's tree as "baseline" (first), unpacked for the block's duration."""
    if baseline is None:
        yield {"current": ROOT}
        return
    with code_of(baseline) as tree:
        yield {"baseline": tree, "current": ROOT}


@contextlib.contextmanager
def profiled(pids: Sequence[int], profile_dir: Path | None, name: str, seconds: float,
             rate: int = 200) -> Iterator[None]:
    """py-spy on each process for the block's duration (at most `seconds`), `rate` samples a second holding
    the lock only."""
    if profile_dir is None:
        yield
        return
    profile_dir.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    spies = [subprocess.Popen([spy, "record", "--gil", "--rate", str(rate), "--format", "raw", "--duration",
                               str(round(seconds)), "--pid", str(pid), "-o", str(profile_dir / f"{name}-{i}.txt")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i, pid in enumerate(pids)]
    try:
        yield
    finally:
        for process in spies:
            process.send_signal(2)  # SIGINT: py-spy writes what it sampled and exits
        for process in spies:
            process.wait(30)


def measure(db_url: str, levels: list[int], seconds: float, every: float, timeout_s: float,
            trees: dict[str, Path], log_dir: Path, opening: str = QUERY, processes: Sequence[int] = (1,),
            profile_dir: Path | None = None, profile_rate: int = 200) -> dict:
    """Each level on each code and each count of app processes (behind the balancer when more than
    one), one after the other; a run is named by its code, and by its process count when several
    are measured ("current-2p")."""
    out: dict = {"levels": {}}
    for sessions in levels:
        for name, tree in trees.items():
            for count in processes:
                run_name = name if len(processes) == 1 else f"{name}-{count}p"
                with serve_balanced(db_url, count, log_dir, f"streamlit-{run_name}-{sessions}", tree) as apps:
                    asyncio.run(_warm_all([app.base for app in apps.apps], timeout_s, opening))
                    cpu_before = apps.cpu_seconds()
                    with profiled([app.proc.pid for app in apps.apps], profile_dir, f"{run_name}-{sessions}",
                                  seconds + 60, profile_rate):
                        figures = asyncio.run(level(apps.base, sessions, seconds, every, timeout_s, opening))
                    cpu_after = apps.cpu_seconds()
                figures["processes"] = count
                figures["cpu_s"] = {"apps": [round(b - a, 2) for a, b in zip(cpu_before["apps"], cpu_after["apps"])]}
                changes, apps_cpu = figures["changes"], sum(figures["cpu_s"]["apps"])
                figures["server_cpu_ms_per_change"] = round(1000 * apps_cpu / changes, 1) if changes else None
                if "balancer" in cpu_before:
                    figures["cpu_s"]["balancer"] = round(cpu_after["balancer"] - cpu_before["balancer"], 2)
                    figures["connections"] = apps.report.get("connections")
                out["levels"].setdefault(str(sessions), {})[run_name] = figures
                print(f"{sessions} sessions, {run_name}: {figures}", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench sessions", description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="database URL with demo data (no account: loopback is open)")
    parser.add_argument("--levels", default="1,5,20", help="comma-separated session counts, run one after the other")
    parser.add_argument("--seconds", type=float, default=60, help="how long each level changes filters")
    parser.add_argument("--every", type=float, default=2, help="seconds between one session's changes")
    parser.add_argument("--timeout", type=float, default=60, help="a change unanswered this long fails its session")
    parser.add_argument("--baseline", metavar="GIT_REF", help="also run the code of this git ref, alternately")
    parser.add_argument("--processes", default="1", help="app server processes behind one port (bench/balancer.py); "
                        "comma-separated counts run one after the other, e.g. 1,2")
    parser.add_argument("--period", metavar="FROM,TO", help="the searches' period (YYYY-MM-DD,YYYY-MM-DD); "
                        "default: the page's own (the last 7 days)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--profile", type=Path, metavar="DIR", help="py-spy each app process during each level "
                        "(samples holding the interpreter lock) into DIR")
    parser.add_argument("--profile-rate", type=int, default=200, help="py-spy's samples a second")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.levels.split(",")]
    processes = [int(n) for n in args.processes.split(",")]
    if max(processes) > 1 and not args.db.startswith("postgresql"):
        parser.error("--processes above 1 needs PostgreSQL: one app process owns the embedded file")
    opening = QUERY
    if args.period:
        start, end = args.period.split(",")
        opening = parse.urlencode({"from": start, "to": end, "lang": "en"})
    with contextlib.ExitStack() as stack:
        trees = stack.enter_context(compared_trees(args.baseline))
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="report-bench-sessions-")))
        result = {"db": args.db.rsplit("/", 1)[-1], "period": args.period, "seconds": args.seconds, "every_s": args.every,
                  "baseline": args.baseline, "processes": processes, "cpus": os.cpu_count()}
        result |= measure(args.db, levels, args.seconds, args.every, args.timeout, trees, log_dir, opening, processes,
                          args.profile, args.profile_rate)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
