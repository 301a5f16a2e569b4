"""axe-core (the engine behind browser accessibility audits, bundled by axe-playwright-python) on both
pages in pt-BR, served by `streamlit run` and drawn in headless Chromium, with the insights expander
and every chart's data table opened: no serious or critical violation (contrast of text, captions and
inline code included).
"""
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.test_browser_pages import MOS, MTS, SHOWN_MS, WEEK, in_week, server  # noqa: F401

pytestmark = pytest.mark.browser

CHART_TABLES = {
    "sent": ["Funil de entrega", "Status das mensagens", "Taxa de entrega por dia", "Tempo até a leitura",
             "Leituras por dia da semana e hora"],
    "received": ["Cliques em botões de resposta rápida", "Respostas por dia", "Tipos de conteúdo",
                 "Respostas por dia da semana e hora"],
}
# The insights expander of each page (collapsed by default) and how many of its charts it holds.
INSIGHTS = {"sent": ("Destinatários únicos, tempo até a leitura e melhores horários", 2),
            "received": ("Remetentes únicos e melhores horários", 1)}


@pytest.mark.parametrize("path, total", [
    ("sent", sum(1 for r in MTS if in_week(r["sent_at"]))),
    ("received", sum(1 for r in MOS if in_week(r["received_at"]))),
])
def test_no_serious_or_critical_accessibility_violation_in_portuguese(server, page, path, total):
    page.goto(f"{server}/{path}?{WEEK}")
    expect(page.get_by_role("heading", name=f"{total} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    label, insight_charts = INSIGHTS[path]
    expect(page.locator(".js-plotly-plot")).to_have_count(len(CHART_TABLES[path]) - insight_charts, timeout=SHOWN_MS)
    page.get_by_text(label, exact=True).click()
    expect(page.locator(".js-plotly-plot")).to_have_count(len(CHART_TABLES[path]), timeout=SHOWN_MS)
    for title in CHART_TABLES[path]:
        page.get_by_text(f"Ver dados: {title}", exact=True).click()
    expect(page.get_by_role("table")).to_have_count(len(CHART_TABLES[path]), timeout=SHOWN_MS)
    expect(page.get_by_test_id("stDataFrame").last).to_be_visible(timeout=SHOWN_MS)
    height = page.get_by_test_id("stMain").evaluate("main => main.scrollHeight")
    page.set_viewport_size({"width": 1440, "height": height})  # the whole page on screen: axe checks what is drawn
    page.wait_for_timeout(1500)
    report = Axe().run(page).response
    serious = [(v["id"], v["impact"], [node["target"] for node in v["nodes"]])
               for v in report["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == []
    assert len(report["passes"]) >= 40  # the rules ran on the drawn page
