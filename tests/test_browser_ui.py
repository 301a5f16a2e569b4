"""The page around the report in a real browser: keyboard focus, the skip link and the heading order,
Streamlit's own words in the page's language, the phone width, and the Back button after a page
switch. Served by `streamlit run` on the factory week of tests/test_browser_pages.py."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.app_server import serve_rows
from tests.factories import at, mo_row
from tests.test_browser_pages import MOS, MTS, SHOWN_MS, TZ, WEEK, in_week

pytestmark = pytest.mark.browser

# The factory week plus one reply of each rarer content type: many thin slices in the donut, whose
# labels sit outside it.
RARE = ["video", "document", "interactive", "contacts", "other", "video", "document"]
REPLIES = MOS + [mo_row(message_id=f"wamid.RARE{i:03d}", received_at=at(11 + i % 5, 9, i), content_type=kind)
                 for i, kind in enumerate(RARE)]
SENT = sum(1 for r in MTS if in_week(r["sent_at"]))
RECEIVED = sum(1 for r in REPLIES if in_week(r["received_at"]))

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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run app.py -- --db URL` on a DuckDB file of the week above; its base URL."""
    with serve_rows(tmp_path_factory.mktemp("browser_ui"), MTS, REPLIES) as base:
        yield base


@pytest.fixture
def page(new_page):
    return new_page(viewport={"width": 1440, "height": 900}, locale="en-US")


@pytest.fixture
def phone(new_page):
    return new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)


def open_sent(page, server, query=WEEK, heading=f"{SENT} resultados"):
    page.goto(f"{server}/sent?{query}")
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page.get_by_test_id("stDataFrame").last).to_be_visible(timeout=SHOWN_MS)
    settled(page)


def settled(page) -> None:
    """Waits until the page's script runs are over (the last one draws the view switch)."""
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning", timeout=SHOWN_MS)


def test_every_keyboard_stop_shows_a_ring_of_at_least_2_px(server, page):
    open_sent(page, server)
    stops = []
    for _ in range(14):  # the skip link, the sidebar's fields and buttons, the view switch
        page.keyboard.press("Tab")
        stops.append((page.evaluate(FOCUSED), page.evaluate(FOCUS_RING)))
    assert [stop for stop, ring in stops if ring is None] == []
    assert any(stop.startswith("INPUT:") for stop, _ in stops)  # text and select fields included


def test_the_skip_link_comes_first_and_the_h1_before_any_other_heading(server, page):
    open_sent(page, server)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Pular para o conteúdo")
    expect(skip).to_be_focused(timeout=SHOWN_MS)
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.closest('[data-testid=stMain]') !== null")
    levels = page.evaluate("() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => h.tagName)")
    assert levels[0] == "H1" and levels.count("H1") == 1


@pytest.mark.parametrize("lang, words", [
    ("pt-BR", {"lang": "pt-BR", "download": "Baixar como CSV", "start": "Data: data inicial",
               "skip": "Pular para o conteúdo", "month": "novembro de 2026", "choose": "Escolher período"}),
    ("es", {"lang": "es", "download": "Descargar como CSV", "start": "Fecha: fecha inicial",
            "skip": "Saltar al contenido", "month": "noviembre de 2026", "choose": "Elegir período"}),
])
def test_streamlits_own_words_are_in_the_pages_language(server, page, lang, words):
    heading = f"{SENT} resultados"
    open_sent(page, server, f"{WEEK}&lang={lang}", heading)
    expect(page.locator("html")).to_have_attribute("lang", words["lang"], timeout=SHOWN_MS)
    expect(page.get_by_test_id("stSkipToContent")).to_have_text(words["skip"], timeout=SHOWN_MS)
    expect(page.get_by_label(words["download"]).first).to_be_attached(timeout=SHOWN_MS)
    expect(page.get_by_label(words["start"], exact=True)).to_have_count(1, timeout=SHOWN_MS)
    page.get_by_test_id("stDataFrame").last.hover()
    page.wait_for_timeout(500)
    left = [text for text in page.evaluate(LABELS) if any(re.search(rf"\b{re.escape(e)}\b", text) for e in ENGLISH)]
    assert left == []
    page.get_by_role("button", name=words["choose"], exact=True).click()  # the calendar, in an English browser
    calendar = page.get_by_test_id("stDateInputCalendar")
    expect(calendar).to_contain_text(words["month"], timeout=SHOWN_MS)
    expect(calendar).not_to_contain_text("November")


def test_back_after_switching_views_returns_to_the_view_left(server, page):
    read = sum(1 for r in MTS if in_week(r["sent_at"]) and r["status"] == "read")
    open_sent(page, server, f"{WEEK}&status=read", f"{read} resultados")  # a filter only Sent has
    page.get_by_role("link", name="Recebido (MO)").first.click()
    expect(page.get_by_role("heading", name=f"{RECEIVED} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page).to_have_url(f"{server}/received?{WEEK}&tz=America%2FSao_Paulo&lang=pt-BR")
    page.go_back()
    expect(page.get_by_role("heading", name=f"{read} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page).to_have_url(f"{server}/sent?{WEEK}&tz=America%2FSao_Paulo&status=read&lang=pt-BR")
    page.go_forward()
    expect(page.get_by_role("heading", name=f"{RECEIVED} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page).to_have_url(f"{server}/received?{WEEK}&tz=America%2FSao_Paulo&lang=pt-BR")


# Per chart (by its title): the figure's width, its plotting area's width, and how far its texts reach
# past the figure's edges (0 when none is cut).
CHART_GEOMETRY = """(title) => {
  const plot = [...document.querySelectorAll(".js-plotly-plot")].find(p => p.querySelector(".gtitle")?.textContent === title);
  const figure = plot.querySelector(".main-svg").getBoundingClientRect();
  const area = plot.querySelector(".nsewdrag")?.getBoundingClientRect();
  const texts = [...plot.querySelectorAll(".pielayer text, .ytick text, .legendtext")].map(t => t.getBoundingClientRect());
  return {figure: figure.width, area: area ? area.width : null,
          cut: Math.max(0, ...texts.map(t => Math.max(figure.left - t.left, t.right - figure.right,
                                                      figure.top - t.top, t.bottom - figure.bottom)))};
}"""


def test_at_phone_width_the_view_switch_the_view_name_and_the_charts_fit(server, phone):
    phone.goto(f"{server}/sent?{WEEK}")
    expect(phone.get_by_role("heading", name=f"{SENT} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(phone.locator("h1")).to_contain_text("Enviado (MT)")
    switch = phone.get_by_test_id("stMain").get_by_role("link", name="Recebido (MO)")
    expect(switch).to_be_visible(timeout=SHOWN_MS)  # on the page, not in the closed drawer
    expect(phone.locator(".js-plotly-plot").nth(2)).to_be_visible(timeout=SHOWN_MS)  # the report's charts
    settled(phone)
    bars = phone.evaluate(CHART_GEOMETRY, "Status das mensagens")
    assert bars["area"] >= 0.6 * bars["figure"], bars  # the bars keep most of the width beside their names
    assert bars["cut"] == 0
    switch.click()
    expect(phone.get_by_role("heading", name=f"{RECEIVED} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(phone.locator("h1")).to_contain_text("Recebido (MO)")
    expect(phone.locator(".js-plotly-plot").nth(2)).to_be_visible(timeout=SHOWN_MS)  # the report's charts
    settled(phone)
    phone.wait_for_timeout(1000)
    donut = phone.evaluate(CHART_GEOMETRY, "Tipos de conteúdo")
    assert donut["cut"] == 0, donut  # every percentage and legend entry inside the figure


def test_enter_on_a_typed_status_picks_that_status_alone(server, page):
    read = sum(1 for r in MTS if in_week(r["sent_at"]) and r["status"] == "read")
    open_sent(page, server)
    status = page.get_by_role("combobox", name="Status")
    status.click()
    status.fill("Lida")  # also matches "Sessão inválida" and "Limite de tier do WhatsApp"
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    apply(page)
    expect(page.get_by_role("heading", name=f"{read} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page).to_have_url(f"{server}/sent?{WEEK}&tz=America%2FSao_Paulo&status=read&lang=pt-BR")


def apply(page) -> None:
    page.get_by_test_id("stSidebar").get_by_role("button", name="Aplicar filtros", exact=True).click()


def test_a_change_runs_the_search_and_aplicar_runs_a_typed_date(server, page):
    open_sent(page, server)
    page.get_by_role("combobox", name="Campanha").click()
    page.get_by_role("option", name="Natal", exact=True).click()
    page.keyboard.press("Escape")
    natal = sum(1 for r in MTS if in_week(r["sent_at"]) and r["campaign"] == "Natal")
    expect(page.get_by_role("heading", name=f"{natal} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    start = page.get_by_label("Data: data inicial", exact=True)  # typed, not picked: applied by the button
    start.get_by_role("spinbutton").first.click()
    page.keyboard.type("12112026")
    apply(page)
    n = sum(1 for r in MTS if date(2026, 11, 12) <= r["sent_at"].astimezone(TZ).date() <= date(2026, 11, 16)
            and r["campaign"] == "Natal")
    expect(page.get_by_role("heading", name=f"{n} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page).to_have_url(f"{server}/sent?from=2026-11-12&to=2026-11-16&tz=America%2FSao_Paulo&campaign=Natal"
                             "&lang=pt-BR")

