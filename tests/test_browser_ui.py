"""The page around the report in a real browser: keyboard focus, the skip link and the heading order,
Streamlit's own words in the page's language, the phone width, and the Back button after a page
switch. Served by `streamlit run` on the factory week of tests/test_browser_pages.py."""
import re

import pytest
from playwright.sync_api import expect

from tests.test_browser_pages import MOS, MTS, SHOWN_MS, WEEK, browser, in_week, server  # noqa: F401

pytestmark = pytest.mark.browser

SENT = sum(1 for r in MTS if in_week(r["sent_at"]))
RECEIVED = sum(1 for r in MOS if in_week(r["received_at"]))

# The ring around the focused element, or around the frame of the field that holds it (up to 7 levels up).
FOCUS_RING = """() => {
  let el = document.activeElement;
  for (let i = 0; i < 8 && el; i++, el = el.parentElement) {
    const style = getComputedStyle(el);
    if (style.outlineStyle === "solid" && parseFloat(style.outlineWidth) >= 2) return style.outlineWidth;
  }
  return null;
}"""
FOCUSED = """() => { const el = document.activeElement;
  return el.tagName + ":" + (el.getAttribute("aria-label") || el.innerText || "").trim().slice(0, 40); }"""
# Words Streamlit 1.67 writes in English whatever the page's language (labels read by screen readers,
# tooltips, the skip link); none may be left on a pt-BR or es page.
ENGLISH = ["Skip to main content", "Show/hide columns", "Download as CSV", "Search", "Fullscreen",
           "Choose date range", "Clear dates", "start date", "end date", "Open", "Help for", "Collapse sidebar",
           "Next page", "Previous page", "Pagination", "Sidebar", "App pages"]
LABELS = """() => [...document.querySelectorAll("[aria-label], [title], [placeholder]")]
  .flatMap(el => ["aria-label", "title", "placeholder"].map(name => el.getAttribute(name)).filter(Boolean))"""


@pytest.fixture
def page(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


def open_sent(page, server, query=WEEK, heading=f"{SENT} resultados"):  # noqa: F811
    page.goto(f"{server}/sent?{query}")
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page.get_by_test_id("stDataFrame").last).to_be_visible(timeout=SHOWN_MS)


def test_every_keyboard_stop_shows_a_ring_of_at_least_2_px(server, page):  # noqa: F811
    open_sent(page, server)
    stops = []
    for _ in range(14):  # the skip link, the sidebar's fields and buttons, the view switch
        page.keyboard.press("Tab")
        stops.append((page.evaluate(FOCUSED), page.evaluate(FOCUS_RING)))
    assert [stop for stop, ring in stops if ring is None] == []
    assert any(stop.startswith("INPUT:") for stop, _ in stops)  # text and select fields included


def test_the_skip_link_comes_first_and_the_h1_before_any_other_heading(server, page):  # noqa: F811
    open_sent(page, server)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Pular para o conteúdo")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.closest('[data-testid=stMain]') !== null")
    levels = page.evaluate("() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => h.tagName)")
    assert levels[0] == "H1" and levels.count("H1") == 1


@pytest.mark.parametrize("lang, words", [
    ("pt-BR", {"lang": "pt-BR", "download": "Baixar como CSV", "start": "Data: data inicial",
               "skip": "Pular para o conteúdo"}),
    ("es", {"lang": "es", "download": "Descargar como CSV", "start": "Fecha: fecha inicial",
            "skip": "Saltar al contenido"}),
])
def test_streamlits_own_words_are_in_the_pages_language(server, page, lang, words):  # noqa: F811
    heading = f"{SENT} resultados"
    open_sent(page, server, f"{WEEK}&lang={lang}", heading)
    expect(page.locator("html")).to_have_attribute("lang", words["lang"])
    expect(page.get_by_test_id("stSkipToContent")).to_have_text(words["skip"])
    expect(page.get_by_label(words["download"]).first).to_be_attached()
    expect(page.get_by_label(words["start"], exact=True)).to_have_count(1)
    page.get_by_test_id("stDataFrame").last.hover()
    page.wait_for_timeout(500)
    left = [text for text in page.evaluate(LABELS) if any(re.search(rf"\b{re.escape(e)}\b", text) for e in ENGLISH)]
    assert left == []
