"""The Consolidado in a real browser: `streamlit run app.py` on a DuckDB file of the hand-made
campaigns (tests.test_consolidated), headless Debian Chromium, in three languages; the totals row is
compared with the Sent page's cards for the same link. A screenshot is kept in test-output/."""
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.app_server import serve_rows
from tests.test_consolidated import CAMPAIGN_MOS, CAMPAIGN_MTS
from tests.test_pages_consolidated import EXPECTED, GROUP_NAME, RESULTS

pytestmark = pytest.mark.browser

LINK = "from=2026-11-10&to=2026-11-12"
SHOWN_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    with serve_rows(tmp_path_factory.mktemp("consolidated"), CAMPAIGN_MTS, CAMPAIGN_MOS) as base:
        yield base


def row_texts(page: Page, group: str) -> list[str]:
    """The cells of the table row headed `group`, spaces as a reader sees them."""
    table = page.get_by_test_id("stTable")
    row = table.locator("tr").filter(has=page.locator("th", has_text=re.compile(f"^{re.escape(group)}$")))
    expect(row).to_have_count(1, timeout=SHOWN_MS)
    return [text.replace("\u00a0", " ").strip() for text in row.locator("td").all_inner_texts()]


@pytest.mark.parametrize("lang", ["pt-BR", "en", "es"])
def test_the_table_a_person_sees_in_three_languages(server, page, output_dir, lang):
    page.goto(f"{server}/consolidated?{LINK}&lang={lang}")
    expect(page.get_by_role("heading", name=RESULTS[lang], exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page.get_by_test_id("stTable").locator("th", has_text=GROUP_NAME[lang]).first).to_be_visible(timeout=SHOWN_MS)
    for group, texts in EXPECTED[lang].items():
        assert row_texts(page, group) == [text.replace("\u00a0", " ") for text in texts]
    if lang == "pt-BR":
        page.screenshot(path=output_dir / "consolidated.png", full_page=True)


def test_totals_row_matches_the_sent_cards_and_grouping_by_day(server, page):
    page.goto(f"{server}/sent?{LINK}&lang=en")
    expect(page.get_by_role("heading", name="8 results", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page.get_by_test_id("stMetricValue").nth(3)).to_be_visible(timeout=SHOWN_MS)
    cards = page.get_by_test_id("stMetricValue").all_inner_texts()
    page.goto(f"{server}/consolidated?{LINK}&lang=en")
    expect(page.get_by_role("heading", name="8 results", exact=True)).to_be_visible(timeout=SHOWN_MS)
    totals = row_texts(page, "Total")
    assert cards[:4] == [totals[12], totals[14], totals[16], totals[18]] == ["75.0%", "66.7%", "12.5%", "33.3%"]
    page.get_by_role("combobox", name="Group by").click()
    page.get_by_role("option", name="Day", exact=True).click()
    expect(page.get_by_test_id("stTable").locator("th", has_text="2026-11-11")).to_be_visible(timeout=SHOWN_MS)
    # a2 delivered, f1 read, h1 delivered on the 11th; nothing in the previous period's 8th but p1.
    assert row_texts(page, "2026-11-11")[:4] == ["3", "+2", "3", "+2"]
