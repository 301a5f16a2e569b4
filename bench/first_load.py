"""First load of /sent once warm: the app served on the benchmark's database, a page opened once to
warm the server (imports, engine, cached option lists) and the browser's cache, then new pages timed
from navigation until the result total, the charts and the table are on screen in headless Chromium.

Run as `python -m bench.first_load DB_URL REPEATS`; prints JSON.
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.app_server import CHROMIUM, CHROMIUM_ARGS, serve_app

SHOWN_MS = 120_000


def main() -> None:
    url, repeats = sys.argv[1], int(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix="report-bench-app-") as folder, \
            serve_app(url, Path(folder) / "streamlit.log") as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # One context: a returning user, whose browser has the app's static files (plotly.js) cached.
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        samples = []
        for attempt in range(repeats + 1):
            page = context.new_page()
            started = time.perf_counter()
            page.goto(f"{base}/sent?lang=en")
            page.get_by_role("heading", name="results").or_(page.get_by_role("heading", name="result")).first.wait_for(
                timeout=SHOWN_MS
            )
            page.locator(".js-plotly-plot").first.wait_for(timeout=SHOWN_MS)
            page.get_by_test_id("stDataFrame").first.wait_for(timeout=SHOWN_MS)
            if attempt:  # the first visit warms the server
                samples.append(time.perf_counter() - started)
            page.close()
        browser.close()
    print(json.dumps({"first_load_warm_ms": round(statistics.median(samples) * 1000, 1),
                      "samples_ms": [round(s * 1000, 1) for s in samples]}))


if __name__ == "__main__":
    main()
