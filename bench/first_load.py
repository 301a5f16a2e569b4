"""First load of /sent in headless Chromium: the app served on the benchmark's database, opened once
to warm the server (imports, engine, cached option lists), then pages timed from navigation.

- fresh browser, new search: a new browser context (empty cache: the app's scripts are fetched and
  compiled) opening a shared link whose search the server has not seen (a period of its own);
- fresh browser, cached search: another new context opening the same link again (the server's
  caches answer it);
- warm browser: one context kept for every page (a returning user, scripts from its cache).

Each page is timed in the browser itself (`performance.now()`, from the navigation's start): to the
result total ("N results"), and to the page complete (every chart drawn by plotly, every table drawn
on its canvas, no element left as Streamlit's grey skeleton, the script's run over). Layout shifts
are read from a `PerformanceObserver` of 'layout-shift' entries: the cumulative layout shift of the
whole load, of the shifts after the first contentful paint, after the total was drawn, and of those
after the total that moved the page itself (not only the sidebar), leaving out the app's frame laid
out again (Streamlit's wide layout and sidebar, applied when its frontend gets to them: `cls_frame`,
and `frame_after_total` when that came after the total). Where the time went: when plotly's chunk
was asked for and had arrived (`plotly_fetch_ms`, from the Resource Timing entries: asked for with the
page when the page answer's preload list names it, else when the first chart came) and the main
thread's tasks of 100 ms or more (`long_tasks`, [start, duration]: plotly's chunk evaluated, the
charts laid out). Medians over REPEATS pages each. For one load traced phase by phase with Chromium's
profiler: `python -m bench.load_profile`.

    python -m bench.first_load DB_URL REPEATS [--end YYYY-MM-DD] [--days N] [--baseline GIT_REF]

With `--baseline REF` the code of the git ref (from `git archive`) is served too, on a copy of an
embedded database, and pages alternate between the two servers. Prints JSON.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from bench.sessions import compared_trees
from tests.app_server import CHROMIUM, CHROMIUM_ARGS, AppProcess

SHOWN_MS = 120_000
VIEWPORT = {"width": 1440, "height": 1000}
TOTAL_PATTERN = r"^[\d,]+ results?$"  # the results header in English

# Installed before the page's own scripts: records, in ms since the navigation started, when the total
# heading, each chart (plotly's SVG in it) and each table (its canvas) first appear, when the last grey
# skeleton went, and every layout shift not caused by input.
RECORDER = """
(() => {
  const state = window.__firstLoad = {total: null, charts: new Map(), tables: new Map(), shifts: [], settled: null,
                                      longTasks: []};
  // where the main thread was busy (tasks of 50 ms or more: scripts compiled and run, layout); 100 ms or more reported
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) state.longTasks.push([Math.round(entry.startTime), Math.round(entry.duration)]);
  }).observe({type: "longtask", buffered: true});
  const total = new RegExp(%s);
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput)
      state.shifts.push({
        at: entry.startTime, value: entry.value,
        sources: (entry.sources || []).map((s) => {
          const name = s.node?.dataset?.testid || String(s.node?.className || s.node?.nodeName || "").split(" ")[0];
          const [a, b] = [s.previousRect, s.currentRect];
          return `${name} "${(s.node?.textContent || "").slice(0, 24)}" ${a.x},${a.y} ${a.width}x${a.height} -> `
            + `${b.x},${b.y} ${b.width}x${b.height}`;
        }),
        // whether it moved the page itself (not only the sidebar)
        main: (entry.sources || []).some((s) => (s.node?.closest ? s.node : s.node?.parentElement)?.closest('[data-testid="stMain"]')),
        // the app's frame laid out again: the wide layout and the sidebar, which Streamlit applies when
        // it gets to them, sometimes after the first elements (the page pushed sideways by 100 px or more)
        frame: (entry.sources || []).some((s) => Math.abs(s.currentRect.x - s.previousRect.x) >= 100
                                                   || Math.abs(s.currentRect.width - s.previousRect.width) >= 100),
      });
  }).observe({type: "layout-shift", buffered: true});
  const look = () => {
    const now = performance.now();
    if (state.total === null)
      for (const h of document.querySelectorAll("h1, h2, h3"))
        if (total.test(h.textContent.trim())) { state.total = now; break; }
    for (const el of document.querySelectorAll(".js-plotly-plot"))
      if (!state.charts.has(el) && el.querySelector(".main-svg .plot, .main-svg .funnellayer, .main-svg .cartesianlayer"))
        state.charts.set(el, now);
    for (const el of document.querySelectorAll('[data-testid="stDataFrame"]'))
      if (!state.tables.has(el) && el.querySelector("canvas")) state.tables.set(el, now);
    // the last moment a grey skeleton (an element Streamlit has not drawn yet) went away
    if (document.querySelector('[data-testid="stSkeleton"]')) state.settled = null;
    else if (state.settled === null) state.settled = now;
  };
  new MutationObserver(look).observe(document, {subtree: true, childList: true, characterData: true});
})();
""" % json.dumps(TOTAL_PATTERN)

# True once the run is over and everything on the page is drawn (read from Python, polled).
COMPLETE = """
() => {
  const state = window.__firstLoad;
  if (!state || state.total === null) return false;
  if (document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState !== "notRunning") return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;  // an element not drawn yet
  const charts = document.querySelectorAll(".js-plotly-plot");
  const tables = document.querySelectorAll('[data-testid="stDataFrame"]');
  return charts.length > 0 && tables.length > 0
    && [...charts].every((el) => state.charts.has(el)) && [...tables].every((el) => state.tables.has(el));
}
"""

FIGURES = """
() => {
  const state = window.__firstLoad;
  const drawn = [...state.charts.values(), ...state.tables.values(), state.settled ?? 0];
  const cls = (from, page) => state.shifts.filter((s) => s.at >= from && (!page || (s.main && !s.frame)))
    .reduce((sum, s) => sum + s.value, 0);
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  // when plotly's chunk (Streamlit's PlotlyChart element) was asked for and had arrived
  const plotly = performance.getEntriesByType("resource").find((e) => /\\/PlotlyChart\\.[^/]*\\.js$/.test(e.name));
  return {total_ms: state.total, complete_ms: Math.max(state.total, ...drawn),
          first_paint_ms: paint ? paint.startTime : null, charts: state.charts.size, tables: state.tables.size,
          first_chart_ms: Math.min(...state.charts.values()), first_table_ms: Math.min(...state.tables.values()),
          cls: cls(0, false), cls_after_paint: cls(paint ? paint.startTime : 0, false), cls_after_total: cls(state.total, false),
          cls_page_after_total: cls(state.total, true),
          cls_frame: state.shifts.filter((s) => s.frame).reduce((sum, s) => sum + s.value, 0),
          frame_after_total: state.shifts.some((s) => s.frame && s.at >= state.total),
          plotly_fetch_ms: plotly ? [Math.round(plotly.startTime), Math.round(plotly.responseEnd)] : null,
          long_tasks: state.longTasks.filter(([, duration]) => duration >= 100),
          shifts: state.shifts.filter((s) => s.value >= 0.001).map((s) => [Math.round(s.at), +s.value.toFixed(4), s.sources.join(" | ")])};
}
"""


def load(page: Page, url: str) -> dict:
    """Opens `url` in `page` and returns its figures once the page is complete."""
    page.goto(url, wait_until="commit", timeout=SHOWN_MS)
    page.wait_for_function(COMPLETE, timeout=SHOWN_MS, polling=100)
    page.wait_for_timeout(300)  # shifts from the last drawing are reported in the frame after it
    return page.evaluate(FIGURES)


def fresh_load(browser: Browser, url: str) -> dict:
    """`url` in a new browser context: nothing cached, no cookies."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(RECORDER)
    try:
        return load(context.new_page(), url)
    finally:
        context.close()


def searches(end: date, days: int, repeats: int) -> list[str]:
    """Query strings of `repeats` searches the server has not seen: periods of a third of the data
    (about a month of the demo), each one day earlier than the one before."""
    span = max(days // 3, 1)
    return [f"lang=en&from={(end - timedelta(days=span + k)).isoformat()}&to={(end - timedelta(days=k)).isoformat()}"
            for k in range(1, repeats + 1)]


def summary(samples: list[dict]) -> dict:
    """Medians (and the worst) of the samples' figures."""
    out = {}
    for name in ("total_ms", "complete_ms", "first_paint_ms", "cls", "cls_after_paint", "cls_after_total",
                 "cls_page_after_total", "cls_frame"):
        values = [s[name] for s in samples if s[name] is not None]
        digits = 4 if name.startswith("cls") else 1
        out[name] = round(statistics.median(values), digits) if values else None
        out[f"{name}_max"] = round(max(values), digits) if values else None
    out["frame_after_total"] = sum(1 for s in samples if s["frame_after_total"])
    out["samples"] = samples
    return out


@contextlib.contextmanager
def served(db_url: str, trees: dict[str, Path], folder: Path) -> Iterator[dict[str, str]]:
    """One app server per tree, each on its own copy of an embedded database (one owner per file)."""
    apps: dict[str, AppProcess] = {}
    try:
        for name, tree in trees.items():
            url = db_url
            if len(trees) > 1 and db_url.startswith("duckdb:///"):
                copy = folder / f"{name}.duckdb"
                shutil.copyfile(db_url.removeprefix("duckdb:///"), copy)
                url = f"duckdb:///{copy}"
            apps[name] = AppProcess(url, folder / f"streamlit-{name}.log", tree=tree)
        yield {name: app.start() for name, app in apps.items()}
    finally:
        for app in apps.values():
            app.stop()


def measure(db_url: str, repeats: int, end: date, days: int, trees: dict[str, Path]) -> dict:
    queries = searches(end, days, repeats)
    # the page's default period (the last 7 days) as of the data's last day, not the calendar's
    home = f"lang=en&from={(end - timedelta(days=6)).isoformat()}&to={end.isoformat()}"
    runs: dict[str, dict[str, list]] = {name: {"new": [], "cached": [], "warm": []} for name in trees}
    with tempfile.TemporaryDirectory(prefix="report-bench-app-") as folder, \
            served(db_url, trees, Path(folder)) as bases, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        warm = {}
        for name, base in bases.items():  # warms the server and this browser's cache
            warm[name] = browser.new_context(viewport=VIEWPORT)
            warm[name].add_init_script(RECORDER)
            load(warm[name].new_page(), f"{base}/sent?{home}")
        for query in queries:
            for name, base in bases.items():  # alternating: a busy neighbour weighs on both alike
                url = f"{base}/sent?{query}"
                runs[name]["new"].append(fresh_load(browser, url))
                runs[name]["cached"].append(fresh_load(browser, url))
                page = warm[name].new_page()
                runs[name]["warm"].append(load(page, f"{base}/sent?{home}"))
                page.close()
        browser.close()
    return {name: {kind: summary(samples) for kind, samples in kinds.items()} for name, kinds in runs.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.first_load", description=__doc__.splitlines()[0])
    parser.add_argument("db_url")
    parser.add_argument("repeats", type=int)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 20), help="the data's last day")
    parser.add_argument("--days", type=int, default=90, help="days of data up to --end")
    parser.add_argument("--baseline", metavar="GIT_REF", help="also serve the code of this git ref, alternately")
    args = parser.parse_args(argv)
    with compared_trees(args.baseline) as trees:
        figures = measure(args.db_url, args.repeats, args.end, args.days, trees)
    current = figures["current"]
    result = {
        "first_load_warm_ms": current["warm"]["complete_ms"],  # the earlier rounds' figure
        "fresh_new_search": current["new"],
        "fresh_cached_search": current["cached"],
        "warm_browser": current["warm"],
        "load_average": os.getloadavg(),
    }
    if args.baseline:
        result["baseline"] = {"ref": args.baseline, **figures["baseline"]}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
