"""Where a fresh browser's first load of /sent spends its time: one load traced with Chromium's own
profiler (the DevTools timeline, V8's compile and CPU-profile events, the network), read back as
phases and, within each, the main thread's time by kind of work and by script.

Phases, from the navigation's start: the page answer; the frontend's modules (fetched, compiled,
run: until DOMContentLoaded); the frontend starting up until its websocket is open; the script's
first messages until the total is drawn; plotly's module and the first chart; the rest until the
page is complete (charts, tables). For each: its wall time, the main thread's busy time, that time
split into compiling (V8's parse and compile), running script, style and layout, paint, garbage
collection and the rest; and the CPU profile's self time by script file (plotly's chunk, React's,
Streamlit's entry...). The moments of note (fonts, plotly's chunk, the websocket) are listed too.

    python -m bench.load_profile DB_URL [--end YYYY-MM-DD] [--days N] [--trace FILE] [--tree GIT_REF]

The app is served on the database (an embedded one is copied first), warmed with one page, then one
new search is opened in a new browser context and traced. Prints JSON. The profiler slows the
page down (about 1.5x): read the shares, not the absolute times.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from collections import defaultdict
from datetime import date
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.first_load import COMPLETE, FIGURES, RECORDER, SHOWN_MS, VIEWPORT, load, searches, served
from bench.sessions import code_of
from tests.app_server import CHROMIUM, CHROMIUM_ARGS, ROOT

CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8", "v8.execute",
              "disabled-by-default-v8.compile", "disabled-by-default-v8.cpu_profiler", "blink.user_timing",
              "loading", "toplevel"]

# Main-thread trace events by kind of work (their self time: children taken out).
KINDS: dict[str, tuple[str, ...]] = {
    "compile": ("V8.CompileCode", "V8.ParseFunction", "V8.PreParse", "v8.compile", "v8.compileModule",
                "V8.CompileIgnition", "V8.CompileIgnitionFinalization", "V8.OffThreadFinalization",
                "V8.CompileLazy", "V8.ParseProgram", "V8.Maglev", "V8.Turbofan", "V8.DeserializeContext",
                "FlushInstructionCache", "V8.BytecodeBudgetInterrupt", "V8.CompileEval"),
    "script": ("FunctionCall", "v8.evaluateModule", "EvaluateScript", "RunMicrotasks", "TimerFire",
               "EventDispatch", "FireAnimationFrame", "v8.run", "V8.Execute", "v8.callFunction",
               "FireIdleCallback", "XHRReadyStateChange"),
    "gc": ("V8.GC", "MinorGC", "MajorGC", "BlinkGC", "V8.GCScavenger", "V8.GCFinalizeMC", "ThreadState::"),
    "style_layout": ("UpdateLayoutTree", "Document::updateStyle", "Document::recalcStyle", "Layout",
                     "LocalFrameView::performLayout", "InlineNode", "ParseAuthorStyleSheet", "ScheduleStyleRecalculation",
                     "InvalidateLayout", "StyleEngine", "LayoutShift", "HitTest", "UpdateLayerTree"),
    "paint": ("Paint", "PrePaint", "Layerize", "Commit", "Canvas", "CompositeLayers", "RasterTask", "Decode",
              "UpdateLayer", "CanvasRenderingContext2D", "Canvas2DResourceProvider"),
    "html": ("ParseHTML",),
}


def kind_of(name: str) -> str:
    for kind, prefixes in KINDS.items():
        if name.startswith(prefixes):
            return kind
    return "other"


def _main_thread(events: list[dict], path: str) -> tuple[tuple[int, int], float]:
    """The renderer main thread of the page at `path` and its navigation's start (trace µs)."""
    starts = [e for e in events if e.get("name") == "navigationStart"
              and path in e.get("args", {}).get("data", {}).get("documentLoaderURL", "")]
    start = starts[0]
    return (start["pid"], start["tid"]), start["ts"]


def breakdown(events: list[dict], path: str, marks: dict[str, float]) -> dict:
    """The phases between `marks` (ms since the navigation's start, in order) of the trace `events`
    of the page at `path`: wall, busy, busy by kind, CPU-profile self time by script."""
    main, t0 = _main_thread(events, path)
    names = list(marks)
    edges = [0.0] + [marks[n] for n in names]
    phases = [{"phase": name, "from_ms": round(a), "to_ms": round(b), "wall_ms": round(b) - round(a)}
              for name, a, b in zip(names, edges, edges[1:])]

    def phase_of(ms: float) -> int | None:
        for i, (a, b) in enumerate(zip(edges, edges[1:])):
            if a <= ms < b:
                return i
        return None

    busy = [0.0] * len(phases)
    kinds = [defaultdict(float) for _ in phases]
    spans = sorted((e for e in events if (e.get("pid"), e.get("tid")) == main and e.get("ph") == "X" and e.get("dur")),
                   key=lambda e: (e["ts"], -e["dur"]))
    stack: list[tuple[float, dict]] = []
    for event in spans:
        start, end = event["ts"], event["ts"] + event["dur"]
        while stack and stack[-1][0] <= start:
            stack.pop()
        index = phase_of((start - t0) / 1000)
        if stack:  # the parent's self time loses this child's
            parent = stack[-1][1]
            parent_index = phase_of((parent["ts"] - t0) / 1000)
            if parent_index is not None:
                kinds[parent_index][kind_of(parent["name"])] -= event["dur"] / 1000
        elif index is not None:
            busy[index] += event["dur"] / 1000
        if index is not None:
            kinds[index][kind_of(event["name"])] += event["dur"] / 1000
        stack.append((end, event))

    scripts = [defaultdict(float) for _ in phases]
    nodes: dict[int, dict] = {}
    for event in events:
        if event.get("name") != "ProfileChunk" or event.get("pid") != main[0]:
            continue
        profile = event["args"]["data"].get("cpuProfile", {})
        for node in profile.get("nodes", []):
            nodes[node["id"]] = node
    profile_start = next((e["args"]["data"]["startTime"] for e in events
                          if e.get("name") == "Profile" and e.get("pid") == main[0]), None)
    if profile_start is not None:
        ts = profile_start
        for event in sorted((e for e in events if e.get("name") == "ProfileChunk" and e.get("pid") == main[0]),
                            key=lambda e: e["ts"]):
            data = event["args"]["data"]
            for node_id, delta in zip(data.get("cpuProfile", {}).get("samples", []), data.get("timeDeltas", [])):
                ts += delta
                index = phase_of((ts - t0) / 1000)
                frame = nodes.get(node_id, {}).get("callFrame", {})
                script = frame.get("url", "").rsplit("/", 1)[-1].split("?")[0] or frame.get("functionName") or "?"
                if index is not None and script not in ("(idle)", "(root)"):
                    scripts[index][script] += delta / 1000

    for i, phase in enumerate(phases):
        phase["busy_ms"] = round(busy[i])
        phase["by_kind_ms"] = {k: round(v) for k, v in sorted(kinds[i].items(), key=lambda kv: -kv[1]) if v >= 1}
        phase["by_script_ms"] = {k: round(v) for k, v in sorted(scripts[i].items(), key=lambda kv: -kv[1])[:6] if v >= 5}
    return {"phases": phases, "moments_ms": moments(events, main, t0)}


def moments(events: list[dict], main: tuple[int, int], t0: float) -> dict:
    """When the page answer, the last module, the fonts and plotly's chunk were asked for and had
    arrived, and when the websocket opened (ms since the navigation's start)."""
    requests: dict[str, dict] = {}
    for event in events:
        data = event.get("args", {}).get("data", {})
        if event.get("name") == "ResourceSendRequest" and data.get("url", "").startswith("http"):
            requests[data["requestId"]] = {"url": data["url"], "asked": (event["ts"] - t0) / 1000}
        elif event.get("name") == "ResourceFinish" and data.get("requestId") in requests:
            requests[data["requestId"]]["arrived"] = (event["ts"] - t0) / 1000
    out: dict[str, object] = {}
    mine = [r for r in requests.values() if r["asked"] >= 0 and "arrived" in r]
    for label, test in (("page", lambda u: "/static/" not in u and "/_stcore/" not in u),
                        ("plotly", lambda u: "/PlotlyChart." in u),
                        ("icons_font", lambda u: "/MaterialSymbols-" in u),
                        ("code_font", lambda u: "/SourceCodeVF-Upright" in u)):
        found = [r for r in mine if test(r["url"])]
        if found:
            out[label] = [round(found[0]["asked"]), round(found[0]["arrived"])]
    scripts = [r for r in mine if r["url"].endswith(".js")]
    out["scripts"] = len(scripts)
    if scripts:
        out["scripts_arrived_by"] = round(max(r["arrived"] for r in scripts if "/PlotlyChart." not in r["url"]))
    sockets = [e for e in events if e.get("name") == "WebSocketReceiveHandshakeResponse"]
    received = sorted(e["ts"] for e in events if e.get("name") == "WebSocketReceive")
    if sockets:
        out["websocket_open"] = round((sockets[0]["ts"] - t0) / 1000)
    if received:
        out["first_message"] = round((received[0] - t0) / 1000)
    after = t0 + out.get("page", [0, 0])[1] * 1000  # the page's own events, not the blank page's before it
    for name in ("domContentLoadedEventEnd", "firstContentfulPaint"):
        found = [e["ts"] for e in events if e.get("name") == name and (e.get("pid"), e.get("tid")) == main
                 and e["ts"] >= after]
        if found:
            out[name] = round((found[0] - t0) / 1000)
    return out


def trace_load(base: str, query: str, trace_file: Path | None, warm_query: str = "lang=en") -> dict:
    """One warm-up page (`warm_query`: another search), then `query` in a new context, traced;
    returns figures and breakdown."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        warm = browser.new_context(viewport=VIEWPORT)  # the server's imports and caches, not this page's
        warm.add_init_script(RECORDER)
        load(warm.new_page(), f"{base}/sent?{warm_query}")
        warm.close()

        context = browser.new_context(viewport=VIEWPORT)
        context.add_init_script(RECORDER)
        page = context.new_page()
        browser.start_tracing(page=page, categories=CATEGORIES)
        page.goto(f"{base}/sent?{query}", wait_until="commit", timeout=SHOWN_MS)
        page.wait_for_function(COMPLETE, timeout=SHOWN_MS, polling=100)
        page.wait_for_timeout(300)
        figures = page.evaluate(FIGURES)
        raw = browser.stop_tracing()
        browser.close()
    if trace_file is not None:
        trace_file.write_bytes(raw)
    events = json.loads(raw)["traceEvents"]
    found = moments(events, *_main_thread(events, "/sent"))
    marks = {"page answer": found["page"][1]}
    marks["modules (to DOMContentLoaded)"] = found.get("domContentLoadedEventEnd", marks["page answer"])
    marks["frontend start (to websocket open)"] = found.get("websocket_open", marks["modules (to DOMContentLoaded)"])
    marks["script's messages (to total)"] = figures["total_ms"]
    marks["plotly and first chart"] = figures["first_chart_ms"]
    marks["rest (to complete)"] = figures["complete_ms"] + 1
    result = breakdown(events, "/sent", marks)
    result["figures"] = {k: figures[k] for k in ("total_ms", "complete_ms", "first_paint_ms", "first_chart_ms",
                                                 "first_table_ms", "cls_page_after_total", "long_tasks")}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_profile", description=__doc__.splitlines()[0])
    parser.add_argument("db_url")
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 20), help="the data's last day")
    parser.add_argument("--days", type=int, default=90, help="days of data up to --end")
    parser.add_argument("--trace", type=Path, help="also write Chromium's trace here (JSON, for DevTools)")
    parser.add_argument("--tree", metavar="GIT_REF", help="serve the code of this git ref instead of this tree")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        tree = stack.enter_context(code_of(args.tree)) if args.tree else ROOT
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="report-bench-profile-")))
        bases = stack.enter_context(served(args.db_url, {"current": tree}, folder))
        result = trace_load(bases["current"], searches(args.end, args.days, 1)[0], args.trace)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
