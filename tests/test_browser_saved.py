"""A saved search in headless Chromium: saved in one visit, applied in the next (a new session on the
same server and database) with the same total. The server, its data
and the browser are those of tests/test_browser_pages.py (this module gets its own server, so its saved
searches stay here)."""
import pytest
from playwright.sync_api import expect

from tests.test_browser_pages import MTS, SHOWN_MS, WEEK, in_week, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_a_search_saved_in_the_browser_applies_after_a_reload(server, page):  # noqa: F811
    everything = sum(1 for r in MTS if in_week(r["sent_at"]))
    n = sum(1 for r in MTS if in_week(r["sent_at"]) and r["status"] == "read" and r["campaign"] == "Natal")
    assert 0 < n < everything
    name = "Natal: lidas 🎄 <b>x</b>"
    sidebar = page.get_by_test_id("stSidebar")

    page.goto(f"{server}/sent?{WEEK}&status=read&campaign=Natal")
    expect(page.get_by_role("heading", name=f"{n} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    sidebar.get_by_role("textbox", name="Nome da busca").fill(name)
    sidebar.get_by_role("textbox", name="Nome da busca").press("Enter")
    sidebar.get_by_role("button", name="Salvar busca como modelo").click()
    saved = sidebar.get_by_test_id("stAlertContentSuccess").get_by_role("paragraph")
    expect(saved).to_have_text(f"Busca {name} salva.", timeout=SHOWN_MS)
    expect(saved.locator("code")).to_have_text(name)  # the name is text, its <b> no element
    expect(sidebar.get_by_role("textbox", name="Nome da busca")).to_have_value("")

    page.goto(f"{server}/sent?{WEEK}")  # a new session: the whole week, no filters
    expect(page.get_by_role("heading", name=f"{everything} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(sidebar.get_by_role("combobox", name="Buscas salvas")).to_have_value(name)  # the only one, picked
    sidebar.get_by_role("button", name="Aplicar", exact=True).click()
    expect(page.get_by_role("heading", name=f"{n} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(sidebar.get_by_test_id("stAlertContentSuccess").get_by_role("paragraph")).to_have_text(
        f"Busca {name} aplicada.")
    expect(page).to_have_url(f"{server}/sent?{WEEK}&tz=America%2FSao_Paulo&campaign=Natal&status=read&lang=pt-BR")
