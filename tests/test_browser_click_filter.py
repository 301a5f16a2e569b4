"""Click to filter, as a person does it in Chromium: clicking the "Read" status bar filters the Sent
page by status=read (total, sidebar and URL follow), and clicking the funnel's "Delivered" stage
filters it by the statuses that stage counts."""
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from data_access.engine import open_database
from tests.app_server import CHROMIUM, CHROMIUM_ARGS, served_app
from tests.factories import at, insert, mt_row

pytestmark = pytest.mark.browser

SHOWN_MS = 30_000
WEEK = "from=2026-11-10&to=2026-11-16"
STATUSES = ["read"] * 5 + ["delivered"] * 3 + ["sent"] * 2 + ["undelivered"]
MTS = [mt_row(sent_at=at(10 + i % 5, 13, i), status=s, error_code="131049" if s == "undelivered" else None)
       for i, s in enumerate(STATUSES)]


@pytest.fixture
def page(tmp_path) -> Iterator[Page]:
    url = f"duckdb:///{tmp_path / 'report.duckdb'}"
    engine = open_database(url)
    insert(engine, MTS)
    engine.dispose()
    with served_app(url, tmp_path / "streamlit.log") as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000}, base_url=base)
        yield page
        browser.close()


def ending(path: str) -> re.Pattern:
    return re.compile(re.escape(path) + "$")


def click_point(page: Page, key: str, name: str, total: int) -> None:
    """Clicks the bar (or funnel stage) of the chart with Streamlit key `key` whose axis word is `name`,
    once the chart drawn is the one of the search with `total` messages (its bars add up to it, or its
    first stage is it) and the app is idle, so the click cannot land on a chart being replaced."""
    selector = f".st-key-{key.replace('.', '-')} .js-plotly-plot"
    page.wait_for_function(
        """([selector, total]) => {
            const plots = document.querySelectorAll(selector);
            if (plots.length !== 1 || !plots[0].data) return false;
            const trace = plots[0].data[0];
            const drawn = trace.type === "funnel" ? trace.x[0] : trace.x.reduce((a, b) => a + b, 0);
            return drawn === total && !document.querySelector('[data-testid="stStatusWidget"]');
        }""",
        arg=[selector, total], timeout=SHOWN_MS,
    )
    chart = page.locator(selector).first
    expect(chart).to_be_visible(timeout=SHOWN_MS)
    index = chart.evaluate("(plot, name) => plot.data[0].y.findIndex(y => y.split('<br>')[0] === name)", name)
    assert index >= 0
    chart.evaluate("plot => plot.scrollIntoView({block: 'center'})")
    point = chart.locator("g.point").nth(index)
    expect(point).to_be_visible(timeout=SHOWN_MS)
    box = point.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)  # plotly finds the point under the pointer, as for a person
    page.mouse.click(x, y)


def test_clicking_a_bar_or_a_stage_filters_the_page(page):
    page.goto(f"/sent?{WEEK}&lang=en")
    expect(page.get_by_role("heading", name=f"{len(MTS)} results", exact=True)).to_be_visible(timeout=SHOWN_MS)

    click_point(page, "mt.status_breakdown", "Read", len(MTS))
    read = STATUSES.count("read")
    expect(page.get_by_role("heading", name=f"{read} results", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page).to_have_url(ending(f"/sent?{WEEK}&tz=America%2FSao_Paulo&status=read&lang=en"))
    expect(page.get_by_test_id("stSidebar").get_by_text("Read", exact=True)).to_be_visible()

    page.get_by_role("button", name="Clear filters").click()
    expect(page.get_by_role("heading", name=f"{len(MTS)} results", exact=True)).to_be_visible(timeout=SHOWN_MS)
    click_point(page, "mt.funnel", "Delivered", len(MTS))
    delivered = STATUSES.count("read") + STATUSES.count("delivered")
    expect(page.get_by_role("heading", name=f"{delivered} results", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page).to_have_url(ending(f"/sent?{WEEK}&tz=America%2FSao_Paulo&status=delivered&status=read&lang=en"))
