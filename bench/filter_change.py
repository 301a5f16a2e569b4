"""A filter change for one person in headless Chromium: the app served on the benchmark's database,
/sent opened once (English, the period of `--days` days up to `--end`) and warmed, then the search
changed REPEATS times through the sidebar as a person does it, each change timed in the browser.

The changes: one value added to or removed from the Status or the Campaign multiselect (an option
picked in the opened list, or a chosen value's remove button clicked), the values taken alternately
from the two lists and toggled in the order of a Gray code, so that every change makes a search the
page has not made before (`new`). Then the same changes undone in reverse order, back to the opening
search: searches the server has run already (`cached`: its caches answer them).

Each change is timed in the page (`performance.now()`) from the input event that triggers it (the
pointer pressed on the option or the remove button) to:
- `release_ms`: the pointer released (the click's end: the widget changes its value on it);
- `send_ms`: the frontend sending the widget's new value on its websocket (the browser's part before
  the server);
- `first_message_ms`: the run's first websocket message arriving (the server started the run);
- `total_message_ms`: the websocket message holding the new total arriving (the server's answer);
- `total_ms`: the new total heading ("N results", a new N) in the DOM;
- `run_over_ms`: the run's end arriving (the websocket message saying the script finished);
- `complete_ms`: the page complete (the run over, and first_load's check: no grey skeleton, every
  chart and table drawn, the script state not running), as the last change to the page's main area.
`server_ms` = total_message_ms - send_ms and `render_ms` = total_ms - total_message_ms split the time
to the total between the server and the browser (`total_message_index`: which of the run's messages
held it, the ones before it applied by the page first; a message's arrival is seen when the page's main
thread gets to it: a busy page delays it too); `long_tasks` lists the main thread's tasks of 50 ms
or more during the change (what kept the browser from drawing). Medians, p95 and the worst of each,
per kind.

    python -m bench.filter_change DB_URL REPEATS [--end YYYY-MM-DD] [--days N] [--baseline GIT_REF]
                                                 [--trace FILE]

With `--baseline REF` the code of the git ref is served too (on a copy of an embedded database), one
page each, the changes alternating between the two. With `--trace FILE` the changes are traced with
Chromium's profiler (bench.load_profile's categories) and `profile` says, phase by phase, what the
main thread did: which kind of work, which script. Prints JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Locator, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from bench.first_load import COMPLETE, RECORDER, SHOWN_MS, TOTAL_PATTERN, VIEWPORT, load, served
from bench.load_profile import CATEGORIES, breakdown
from bench.sessions import compared_trees, percentile
from tests.app_server import CHROMIUM, CHROMIUM_ARGS

LISTS = ("Status", "Campaign")  # the sidebar's multiselects changed, by their English labels
TIMES = ("release_ms", "send_ms", "first_message_ms", "total_message_ms", "total_ms", "run_over_ms", "complete_ms",
         "server_ms", "render_ms")

# Installed before the page's own scripts (beside first_load's RECORDER, whose state COMPLETE reads).
# Once armed, the next pointer press or key is the change's start; then records the frontend's first
# websocket send, every message after it (the first, the one holding a new "N results" text and the
# run's end), the new total heading in the DOM, and the last change to the page's main area.
CHANGE_RECORDER = """
(() => {
  const total = new RegExp(%s), inMessage = /(\\d[\\d,]*) results?/g;
  const state = window.__filterChange = {armed: false};
  const totalText = () => {
    for (const h of document.querySelectorAll("h1, h2, h3"))
      if (total.test(h.textContent.trim())) return h.textContent.trim();
    return null;
  };
  // A ForwardMsg's `script_finished` (field 6, a varint: 0 = finished, 3 = a fragment's run finished,
  // 2 = stopped for a rerun), read from its top-level fields, or null when it has none.
  const finished = (bytes) => {
    let i = 0;
    const varint = () => {
      let value = 0, shift = 0, byte;
      do { byte = bytes[i++]; value += (byte & 127) * 2 ** shift; shift += 7; } while (byte & 128);
      return value;
    };
    while (i < bytes.length) {
      const tag = varint(), field = Math.floor(tag / 8), wire = tag %% 8;
      if (wire === 0) { const value = varint(); if (field === 6) return value; }
      else if (wire === 2) { const length = varint(); i += length; }  // `i += varint()` would add to the old i
      else if (wire === 1) i += 8;
      else if (wire === 5) i += 4;
      else return null;
    }
    return null;
  };
  state.arm = () => Object.assign(state, {armed: true, before: totalText(), start: null, release: null, send: null,
    firstMessage: null, messages: 0, totalMessageIndex: null,
    totalMessage: null, total: null, totalText: null, runOver: null, lastChange: null});
  const started = (event) => { if (state.armed && state.start === null) state.start = event.timeStamp; };
  const released = () => { if (state.start !== null && state.release === null) state.release = performance.now(); };
  window.addEventListener("pointerdown", started, true);
  window.addEventListener("keydown", started, true);
  window.addEventListener("pointerup", released, true);
  window.addEventListener("keyup", released, true);
  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        if (state.send === null || state.runOver !== null || !(event.data instanceof ArrayBuffer)) return;
        const now = performance.now(), bytes = new Uint8Array(event.data);
        state.messages += 1;
        if (state.firstMessage === null) state.firstMessage = now;
        if ([0, 3].includes(finished(bytes))) state.runOver = now;
        if (state.totalMessage === null)
          for (const [found] of new TextDecoder("latin1").decode(bytes).matchAll(inMessage))
            if (found !== state.before) { state.totalMessage = now; state.totalMessageIndex = state.messages; break; }
      });
    }
    send(data) {
      if (state.start !== null && state.send === null) state.send = performance.now();
      return super.send(data);
    }
  };
  new MutationObserver((records) => {
    if (!state.armed || state.start === null) return;
    const now = performance.now();
    if (records.some((r) => (r.target.closest ? r.target : r.target.parentElement)?.closest('[data-testid="stMain"]')))
      state.lastChange = now;
    if (state.total === null) {
      const shown = totalText();
      if (shown !== null && shown !== state.before) { state.total = now; state.totalText = shown; }
    }
  }).observe(document, {subtree: true, childList: true, characterData: true});
})();
""" % json.dumps(TOTAL_PATTERN)

# The change has been answered: a new total shown (or the run over with the total unchanged), and
# the page complete by first_load's check.
ANSWERED = f"""
() => {{
  const state = window.__filterChange;
  return state.start !== null && state.runOver !== null && ({COMPLETE})();
}}
"""

READ = """
() => {
  const s = window.__filterChange, since = (t) => t === null ? null : +(t - s.start).toFixed(1);
  const complete = Math.max(s.lastChange ?? 0, s.runOver);
  s.armed = false;
  return {start_at: s.start, total_text: s.totalText, messages: s.messages, total_message_index: s.totalMessageIndex,
          release_ms: since(s.release), send_ms: since(s.send),
          first_message_ms: since(s.firstMessage),
          total_message_ms: since(s.totalMessage), total_ms: since(s.total), run_over_ms: since(s.runOver),
          complete_ms: since(complete),
          // the main thread's tasks of 50 ms or more in the change ([start, duration]; first_load's recorder)
          long_tasks: window.__firstLoad.longTasks.filter(([at, duration]) => at + duration > s.start && at < complete)
            .map(([at, duration]) => [Math.round(at - s.start), duration])};
}
"""


@dataclass(frozen=True)
class Toggle:
    """One value of one of the sidebar's multiselects (`field`: its label)."""

    field: str
    value: str


def gray_steps(count: int) -> list[int]:
    """The value toggled at each of `count` steps of a reflected Gray code: no set of chosen values
    comes twice, and the lowest values change most often."""
    return [((step & -step).bit_length() - 1) for step in range(1, count + 1)]


def plan(offered: dict[str, list[str]], repeats: int) -> list[Toggle]:
    """The toggles of `repeats` new searches: values alternately of each list, as many as the Gray
    code needs."""
    steps = gray_steps(repeats)
    needed = max(steps, default=-1) + 1
    values = [Toggle(field, offered[field][i]) for i in range(max(map(len, offered.values())))
              for field in LISTS if i < len(offered[field])]
    if needed > len(values):
        raise ValueError(f"{repeats} changes need {needed} values to toggle; the lists offer {len(values)}")
    return [values[i] for i in steps]


def multiselect(page: Page, field: str) -> Locator:
    return page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(
        has=page.get_by_label(field, exact=True))


def offered(page: Page, field: str) -> list[str]:
    """The values the multiselect `field` offers, read from its opened list."""
    multiselect(page, field).get_by_role("combobox").click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=SHOWN_MS)
    values = options.all_inner_texts()
    close_list(page)
    return values


def close_list(page: Page) -> None:
    """Closes the opened list (Escape) and leaves the box, and waits until the list is gone (it may
    cover the next list). Left focused, the box swallows the next click on another box's remove button."""
    page.keyboard.press("Escape")
    page.get_by_role("option").first.wait_for(state="detached", timeout=SHOWN_MS)
    page.evaluate("() => document.activeElement?.blur()")


class Person:
    """One page on /sent and the values chosen in its sidebar."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.chosen: dict[str, list[str]] = {field: [] for field in LISTS}

    def change(self, toggle: Toggle, kind: str) -> dict:
        """Adds the value or removes it, as a person does, and returns the change's figures."""
        box = multiselect(self.page, toggle.field)
        removing = toggle.value in self.chosen[toggle.field]
        if not removing:  # the list opened first: picking in it is the change
            box.get_by_role("combobox").click()
            target = self.page.get_by_role("option", name=toggle.value, exact=True)
        else:
            target = box.get_by_role("button", name=f"Remove {toggle.value}", exact=True)
        target.wait_for(timeout=SHOWN_MS)
        self.page.evaluate("() => window.__filterChange.arm()")
        target.click()
        try:
            self.page.wait_for_function(ANSWERED, timeout=SHOWN_MS, polling=50)
        except PlaywrightTimeoutError as error:
            state = self.page.evaluate("() => JSON.stringify(window.__filterChange)")
            raise RuntimeError(f"{toggle} not answered within {SHOWN_MS} ms: {state}") from error
        self.page.wait_for_timeout(200)  # the last drawing's changes, after the check saw it complete
        figures = self.page.evaluate(READ)
        if not removing:
            close_list(self.page)
            self.chosen[toggle.field].append(toggle.value)
        else:
            self.chosen[toggle.field].remove(toggle.value)
        shown = figures.pop("total_text")
        figures["total"] = int(re.sub(r"\D", "", shown)) if shown else None
        if None not in (figures["send_ms"], figures["total_message_ms"], figures["total_ms"]):
            figures["server_ms"] = round(figures["total_message_ms"] - figures["send_ms"], 1)
            figures["render_ms"] = round(figures["total_ms"] - figures["total_message_ms"], 1)
        else:
            figures["server_ms"] = figures["render_ms"] = None
        return {"kind": kind, "change": f"{toggle.field} {'-' if removing else '+'}{toggle.value}",
                "chosen": {field: list(values) for field, values in self.chosen.items()}, **figures}


def summary(samples: list[dict]) -> dict:
    """p50, p95 and the worst of each figure, over the samples."""
    out: dict = {"changes": len(samples), "total_unchanged": sum(s["total"] is None for s in samples)}
    for name in TIMES:
        values = [s[name] for s in samples if s[name] is not None]
        out[name] = {"p50": percentile(values, 0.5), "p95": percentile(values, 0.95), "max": max(values, default=None)}
    out["samples"] = samples
    return out


def opening(end: date, days: int) -> str:
    """The query string of the opening search: the `days` days up to `end`, in English."""
    return f"lang=en&from={(end - timedelta(days=days - 1)).isoformat()}&to={end.isoformat()}"


# A traced change's phases, each ending at its mark (ms after the change's start).
PHASES = {"input (to send)": "send_ms", "server (to the total's message)": "total_message_ms",
          "render (to the total drawn)": "total_ms", "rest (to complete)": "complete_ms"}


def profile(trace: bytes, samples: list[dict]) -> dict:
    """Where the changes' time went, by phase (`PHASES`), from Chromium's trace of them: the mean
    per change of the phase's wall time, the main thread's busy time, that time by kind of work and
    by script (bench.load_profile's breakdown; the profiler slows the page: read the shares)."""
    events = json.loads(trace)["traceEvents"]
    sums: dict[str, dict] = {name: {"wall_ms": 0.0, "busy_ms": 0.0, "by_kind_ms": defaultdict(float),
                                    "by_script_ms": defaultdict(float)} for name in PHASES}
    for sample in samples:
        marks = {"before": sample["start_at"], **{name: sample["start_at"] + sample[mark]
                                                  for name, mark in PHASES.items()}}
        for phase in breakdown(events, "/sent", marks)["phases"][1:]:
            into = sums[phase["phase"]]
            into["wall_ms"] += phase["wall_ms"]
            into["busy_ms"] += phase["busy_ms"]
            for part in ("by_kind_ms", "by_script_ms"):
                for key, value in phase[part].items():
                    into[part][key] += value
    count = len(samples)
    return {"changes": count, "phases": {
        name: {"wall_ms": round(into["wall_ms"] / count), "busy_ms": round(into["busy_ms"] / count),
               **{part: {k: round(v / count) for k, v in sorted(into[part].items(), key=lambda kv: -kv[1])[:6]
                         if v / count >= 1} for part in ("by_kind_ms", "by_script_ms")}}
        for name, into in sums.items()}}


def measure(db_url: str, repeats: int, end: date, days: int, trees: dict[str, Path],
            trace_file: Path | None = None) -> dict:
    """The changes' figures per tree and kind; with `trace_file`, the current tree's page is traced
    with Chromium's profiler from its warm load on (written there) and read back as `profile`."""
    runs: dict[str, dict[str, list]] = {name: {"new": [], "cached": []} for name in trees}
    with tempfile.TemporaryDirectory(prefix="report-bench-app-") as folder, \
            served(db_url, trees, Path(folder)) as bases, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        people: dict[str, Person] = {}
        for name, base in bases.items():
            context = browser.new_context(viewport=VIEWPORT, locale="en-US")
            context.add_init_script(RECORDER)
            context.add_init_script(CHANGE_RECORDER)
            page = context.new_page()
            load(page, f"{base}/sent?{opening(end, days)}")  # the opening search
            if trace_file is not None and name == "current":  # from a navigation: the page's clock's start
                browser.start_tracing(page=page, categories=CATEGORIES)
            load(page, f"{base}/sent?{opening(end, days)}")  # warm: the browser's cache and the server's
            people[name] = Person(page)
        toggles = plan({field: offered(next(iter(people.values())).page, field) for field in LISTS}, repeats)
        for kind, order in (("new", toggles), ("cached", toggles[::-1])):
            for toggle in order:
                for name, person in people.items():  # alternating: a busy neighbour weighs on both alike
                    runs[name][kind].append(person.change(toggle, kind))
        trace = browser.stop_tracing() if trace_file is not None else None
        browser.close()
    result = {name: {kind: summary(samples) for kind, samples in kinds.items()} for name, kinds in runs.items()}
    if trace is not None:
        trace_file.write_bytes(trace)
        result["current"]["profile"] = {kind: profile(trace, samples) for kind, samples in runs["current"].items()}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.filter_change", description=__doc__.splitlines()[0])
    parser.add_argument("db_url")
    parser.add_argument("repeats", type=int, help="new searches made (then undone: as many cached ones)")
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 20), help="the period's last day")
    parser.add_argument("--days", type=int, default=31, help="days of the period searched, up to --end")
    parser.add_argument("--baseline", metavar="GIT_REF", help="also serve the code of this git ref, alternately")
    parser.add_argument("--trace", type=Path, help="trace the changes with Chromium's profiler, written here (JSON, "
                        "for DevTools), and say where their time went (`profile`; the profiler slows the page)")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    with compared_trees(args.baseline) as trees:
        figures = measure(args.db_url, args.repeats, args.end, args.days, trees, args.trace)
    result = {"period": opening(args.end, args.days), **figures["current"],
              "load_average_before": [round(x, 2) for x in load_before],
              "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    if args.baseline:
        result["baseline"] = {"ref": args.baseline, **figures["baseline"]}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
