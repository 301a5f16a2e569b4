"""The first load of the Sent page in a fresh browser (no cache, no cookies), as issue 16 asks it:
the result total and the KPI cards come before the charts and tables, and once the total is drawn the
page holds still. Timed and measured in the page itself by the benchmark's recorder
(`bench.first_load`): when the total heading, each chart and each table first appear, and the layout
shifts Chromium reports (`PerformanceObserver`, 'layout-shift').

The threshold for the page's layout shifts after the total: 0.05. A layout-shift score is the share
of the viewport the moved elements cover times the share of it they moved by; Chromium calls a whole
visit "good" under 0.1. Each move the layout fixes removed scored 0.1 to 0.2 after the total: the row
of views drawn after the run, 56 px above everything, and the KPI cards growing from Streamlit's
40 px skeleton to their 76 px metrics, twice 36 px. What is left measured 0.01 to 0.025 at this
width: Streamlit drawing the language and time-zone selectors and the view row's links over their
skeletons (the row's height is kept by the page's style, which may arrive a little after the row).
Left out, and reported by the benchmark as `cls_frame`: Streamlit applying the wide layout and opening
the sidebar, which its frontend does when it gets to them, on a busy machine after the first elements
(the whole page pushed sideways), not something the page's layout decides.
"""
import statistics
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from bench.first_load import RECORDER, load
from exports.insight_charts import format_duration
from tests.app_server import serve_rows
from tests.factories import at, mt_row

pytestmark = pytest.mark.browser

WEEK = "from=2026-11-10&to=2026-11-16"
SHOWN_MS = 60_000
PAGE_SHIFT_LIMIT = 0.05


def week() -> list[dict]:
    """42 sends over the week: 18 read, 12 delivered, 7 failed, 5 only sent."""
    statuses = ["read"] * 18 + ["delivered"] * 12 + ["undelivered"] * 7 + ["sent"] * 5
    rows = []
    for i, status in enumerate(statuses):
        sent = at(10 + i % 7, 9 + i % 9, (i * 11) % 60)
        rows.append(mt_row(
            sent_at=sent, status=status, campaign=("Black Friday", "Natal")[i % 2],
            error_code="131049" if status == "undelivered" else None,
            error_title="This message was not delivered." if status == "undelivered" else None,
            delivered_at=sent + timedelta(seconds=10) if status in ("read", "delivered") else None,
            read_at=sent + timedelta(minutes=3 + i * 7) if status == "read" else None,
        ))
    return rows


ROWS = week()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve_rows(tmp_path_factory.mktemp("first_load"), ROWS, []) as base:
        yield base


def fresh_load(new_page, server: str, viewport: dict[str, int]) -> tuple[dict, object]:
    page = new_page(viewport=viewport, locale="en-US")
    page.context.add_init_script(RECORDER)
    return load(page, f"{server}/sent?lang=en&{WEEK}"), page


def test_the_total_comes_first_and_then_the_page_holds_still(server, new_page):
    figures, page = fresh_load(new_page, server, {"width": 1440, "height": 1000})
    total = len(ROWS)
    delivered, read, failed = 30, 18, 7
    expect(page.get_by_role("heading", name=f"{total} results", exact=True)).to_be_visible(timeout=SHOWN_MS)
    values = page.get_by_test_id("stMetricValue").all_inner_texts()
    assert values == [f"{delivered / total:.1%}", f"{read / delivered:.1%}", f"{failed / total:.1%}", "0.0%"]
    # funnel, statuses, daily delivery rate (the insights stay closed until asked for); the failure
    # reasons and the detail
    assert (figures["charts"], figures["tables"]) == (3, 2)
    assert figures["total_ms"] < figures["first_chart_ms"]
    assert figures["total_ms"] < figures["first_table_ms"]
    assert figures["cls_page_after_total"] < PAGE_SHIFT_LIMIT, figures["shifts"]


def test_the_cards_keep_their_height_while_streamlit_draws_them(server, new_page):
    """The metric's place is given to Streamlit (76 px), so a card is as tall before its metric is
    drawn as after; the view row is drawn before the page, in the place it keeps."""
    figures, page = fresh_load(new_page, server, {"width": 1440, "height": 1000})
    heights = page.get_by_test_id("stMetric").evaluate_all(
        "els => els.map(el => el.closest('[data-testid=stElementContainer]').getBoundingClientRect().height)")
    assert heights == [76] * 4  # the four rates (the insights' cards wait, closed, below the charts)
    title = page.get_by_role("heading", name="Detailed Report – Sent (MT)", exact=True)
    switch = page.get_by_test_id("stMain").get_by_role("link", name="Received (MO)")
    assert switch.bounding_box()["y"] < title.bounding_box()["y"]
    assert figures["cls_page_after_total"] < PAGE_SHIFT_LIMIT, figures["shifts"]


# Every module the page's elements need, but the small ones they import (under 30 KB), is asked for
# by the page answer's preload list (server/preload.py), before the page's own scripts have run (the
# DOMContentLoaded event): a module imported only when its element arrives would be fetched after it.
MODULES = """
() => ({
  started: performance.getEntriesByType("navigation")[0].domContentLoadedEventStart,
  fetched: performance.getEntriesByType("resource").filter((e) => /\\/static\\/js\\/[^/]+\\.js$/.test(e.name))
    .map((e) => [e.name.split("/").pop(), e.startTime, e.encodedBodySize]),
})
"""


def test_the_elements_code_is_fetched_with_the_page_not_after_it(server, new_page):
    figures, page = fresh_load(new_page, server, {"width": 1440, "height": 1000})
    assert (figures["charts"], figures["tables"]) == (3, 2)
    modules = page.evaluate(MODULES)
    names = [name for name, _, _ in modules["fetched"]]
    assert len(names) == len(set(names)) > 100  # each fetched once: the imports found their preloads
    late = [(name, size) for name, at, size in modules["fetched"] if at >= modules["started"]]
    assert late and all(size < 30_000 for _, size in late), late
    assert any(name.startswith("PlotlyChart.") for name in names)
    assert figures["plotly_fetch_ms"][0] < figures["total_ms"]  # asked for with the page, not when the first chart came
    assert figures["cls_page_after_total"] < PAGE_SHIFT_LIMIT, figures["shifts"]



# The fonts of the icons and of the code spans asked for with the page (server/preload.py), in use
# once the page is complete.
TRANSFER = """
() => ({
  started: performance.getEntriesByType("navigation")[0].domContentLoadedEventStart,
  files: performance.getEntriesByType("resource").filter((e) => /\\/static\\//.test(e.name))
    .map((e) => [e.name.split("/").pop(), e.startTime, e.encodedBodySize, e.decodedBodySize]),
  fonts: [...document.fonts].filter((f) => f.status === "loaded").map((f) => `${f.family} ${f.style}`),
})
"""


def test_the_fonts_come_with_the_page(server, new_page):
    figures, page = fresh_load(new_page, server, {"width": 1440, "height": 1000})
    transfer = page.evaluate(TRANSFER)
    files = {name: (at, encoded, decoded) for name, at, encoded, decoded in transfer["files"]}
    for font in ("MaterialSymbols-Rounded.", "SourceCodeVF-Upright.ttf."):
        (at, encoded, decoded), = [v for name, v in files.items() if name.startswith(font)]
        assert at < transfer["started"], font  # asked for by the page answer's list, not by the layout
        assert encoded == decoded > 50_000, font
    assert {"Material Symbols Rounded normal", "Source Code Pro normal"} <= set(transfer["fonts"])
    assert figures["cls_page_after_total"] < PAGE_SHIFT_LIMIT, figures["shifts"]


def test_the_insights_open_on_a_click_below_the_charts(server, new_page):
    """Closed on the first load, the insights expander opens on a click on its summary and shows the
    unique recipients and the two median times to read of the search, below the daily chart."""
    page = new_page(viewport={"width": 1440, "height": 1000}, locale="en-US")
    page.goto(f"{server}/sent?lang=en&{WEEK}")
    expect(page.locator(".js-plotly-plot")).to_have_count(3, timeout=SHOWN_MS)
    summary = page.get_by_text("Unique recipients, time to read and best hours", exact=True)
    daily = page.locator(".js-plotly-plot").nth(2)
    assert summary.bounding_box()["y"] > daily.bounding_box()["y"]
    summary.click()
    expect(page.locator(".js-plotly-plot")).to_have_count(5, timeout=SHOWN_MS)  # time to read, reads by hour
    read = [r for r in ROWS if r["read_at"]]
    waits = sorted((r["read_at"] - r["delivered_at"]).total_seconds() for r in read)
    sends = sorted((r["read_at"] - r["sent_at"]).total_seconds() for r in read)
    total, delivered, read_n, failed = len(ROWS), 30, len(read), 7
    expect(page.get_by_test_id("stMetricValue")).to_have_text([
        f"{delivered / total:.1%}", f"{read_n / delivered:.1%}", f"{failed / total:.1%}", "0.0%",
        str(len({r["phone"] for r in ROWS})),  # 42: one phone per send
        format_duration(statistics.median(waits), "en"), format_duration(statistics.median(sends), "en"),
    ], timeout=SHOWN_MS)
