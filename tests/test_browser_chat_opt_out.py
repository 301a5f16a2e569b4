"""The Chat (MT + MO) and Opt-out reports as a person sees them: the app served by `streamlit run` on a
DuckDB file of the rows of tests/test_chat.py and tests/test_opt_out.py, in headless Debian Chromium,
in three languages; a chat opens by clicking a phone's chat link in a table (a new tab)."""
import csv
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from data_access.accounts import set_business_number
from tests import test_chat, test_opt_out
from tests.app_server import serve_rows
from tests.test_opt_out import A, B, C, H

pytestmark = pytest.mark.browser

SHOWN_MS = 30_000
PERIOD = "from=2026-11-10&to=2026-11-15"
ROW_PX, HEADER_PX = 35, 35  # st.dataframe's row and header heights


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    with serve_rows(tmp_path_factory.mktemp("chat_opt_out"), test_chat.MTS + test_opt_out.MTS,
                    test_chat.MOS + test_opt_out.MOS,
                    lambda engine: set_business_number(engine, test_chat.MAPPED_NUMBER, "Atacado")) as base:
        yield base


@pytest.fixture
def page(new_page) -> Page:
    return new_page(accept_downloads=True)


CHAT_WORDS = {
    "pt-BR": ("Chat com", "3 enviadas · 3 recebidas", "Lida", "Sessão inválida"),
    "en": ("Chat with", "3 sent · 3 received", "Read", "Invalid session"),
    "es": ("Chat con", "3 enviados · 3 recibidos", "Leído", "Sesión inválida"),
}


@pytest.mark.parametrize("lang", ["pt-BR", "en", "es"])
def test_the_chat_of_a_contact(server, page, lang):
    title, counts, read, invalid = CHAT_WORDS[lang]
    page.goto(f"{server}/chat?phone=%2B{test_chat.PHONE[1:]}&lang={lang}")
    expect(page.get_by_role("heading", name=f"{title} {test_chat.PHONE}", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page.get_by_text(counts, exact=True)).to_be_visible()
    bubbles = page.get_by_test_id("stChatMessage")
    expect(bubbles).to_have_count(6)
    expect(bubbles.nth(0)).to_contain_text(read)
    expect(bubbles.nth(4)).to_contain_text(invalid)
    expect(bubbles.nth(4)).to_contain_text("131047: Re-engagement message")
    # The hostile text is shown as typed, twice (the MT and the MO); no markup of it reached the page.
    expect(page.get_by_text(test_chat.HOSTILE, exact=True)).to_have_count(2)
    expect(page.locator("b", has_text="negrito")).to_have_count(0)
    expect(page.locator("script", has_text="alert(1)")).to_have_count(0)
    expect(page).to_have_url(f"{server}/chat?lang={lang}&tz=America%2FSao_Paulo&phone=%2B{test_chat.PHONE[1:]}")


OPT_OUT_WORDS = {
    "pt-BR": ("4 resultados", "Contatos com opt-out", "Não entregue por opt-out", "Mensagem de saída"),
    "en": ("4 results", "Opted-out contacts", "Not delivered (opt-out)", "Stop message"),
    "es": ("4 resultados", "Contactos con opt-out", "No entregado por opt-out", "Mensaje de baja"),
}


@pytest.mark.parametrize("lang", ["pt-BR", "en", "es"])
def test_the_opt_out_report_downloads_its_contacts_and_links_to_their_chats(server, page, lang, tmp_path):
    total, contacts, failure, stop = OPT_OUT_WORDS[lang]
    page.goto(f"{server}/opt-out?{PERIOD}&lang={lang}")
    expect(page.get_by_role("heading", name=total, exact=True)).to_be_visible(timeout=SHOWN_MS)
    metrics = page.get_by_test_id("stMetricValue")
    expect(metrics).to_have_text(["4", "1", "3", "2", "3"])
    expect(page.get_by_test_id("stMetricLabel").first).to_have_text(contacts)

    link = page.get_by_role("link", name="CSV")
    assert link.get_attribute("href").startswith("/download/")  # the app server's route, not Streamlit's memory
    with page.expect_download(timeout=SHOWN_MS) as download:
        link.click()
    path = tmp_path / "opt-out.csv"
    download.value.save_as(path)
    with path.open(encoding="utf-8", newline="") as back:
        rows = list(csv.reader(back))
    assert download.value.suggested_filename.endswith("_2026-11-10_2026-11-15.csv")
    assert [row[:4] for row in rows[1:]] == [
        [C, "2026-11-15T23:30:00-03:00", stop, "PARAR"],
        [H, "2026-11-13T05:00:00-03:00", stop, "\u00a0Stop\u3000"],
        [B, "2026-11-12T12:00:00-03:00", failure, "131050"],
        [A, "2026-11-11T09:00:00-03:00", stop, "  Saír \n"],
    ]

    # The chat link of the third contact (B) opens its conversation in a new tab.
    chat = open_link_in_table(page, row=2)
    expect(chat.get_by_role("heading", name=f"{CHAT_WORDS[lang][0]} {B}", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(chat.get_by_test_id("stChatMessage")).to_have_count(3)  # B1, B0 and the blocked B2


@pytest.mark.parametrize("path", ["opt-out", "chat"])
def test_a_fresh_server_s_first_request_opens_the_page_asked_for(tmp_path, page, path):
    """The first page a fresh process serves is the one asked for, with no "Page not found" on the way
    (once shown, Streamlit's dialog stayed over the page and made it inert)."""
    query = PERIOD if path == "opt-out" else f"phone=%2B{test_chat.PHONE[1:]}"
    with serve_rows(tmp_path, test_chat.MTS + test_opt_out.MTS, test_chat.MOS + test_opt_out.MOS) as base:
        page.goto(f"{base}/{path}?{query}&lang=en")
        heading = "4 results" if path == "opt-out" else f"Chat with {test_chat.PHONE}"
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=SHOWN_MS)
        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=SHOWN_MS)  # the run is over
        expect(page.get_by_role("dialog")).to_have_count(0)
        page.get_by_role("link", name="Opt-out report").click(trial=True)  # nothing over the page


def settled_box(page: Page, locator: Locator) -> dict:
    """The locator's box once it stays put for 300 ms (the grid draws its rows after scrolling, and
    the page may still be laying out on a busy machine)."""
    box = locator.bounding_box()
    assert box is not None, "not shown"
    for _ in range(50):
        page.wait_for_timeout(300)
        box, before = locator.bounding_box(), box
        if box == before:
            return box
    raise AssertionError(f"the box kept moving: {before} -> {box}")


def open_link_in_table(page: Page, row: int, column_x: int = 17) -> Page:
    """Clicks the link in the first column of the last table's `row` (0-based); returns the new tab."""
    grid = page.get_by_test_id("stDataFrame").last
    expect(grid).to_be_visible(timeout=SHOWN_MS)
    page.keyboard.press("Escape")  # closes any dialog over the table
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning", timeout=SHOWN_MS)
    grid.scroll_into_view_if_needed()
    box = settled_box(page, grid)
    x, y = box["x"] + column_x, box["y"] + HEADER_PX + row * ROW_PX + ROW_PX / 2
    page.mouse.move(x, y)
    with page.context.expect_page(timeout=SHOWN_MS) as opened:
        page.mouse.click(x, y)
    return opened.value


def test_clicking_a_phone_in_the_sent_table_opens_its_chat(server, page):
    # The Sent page on the 10th, phone prefix of the contact: its MT (wamid.C2) and that of the longer number
    # (wamid.X1), at the same instant, so by message id descending: the contact's is the second row.
    page.goto(f"{server}/sent?from=2026-11-10&to=2026-11-10&phone=%2B{test_chat.PHONE[1:]}&lang=en")
    expect(page.get_by_role("heading", name="2 results", exact=True)).to_be_visible(timeout=SHOWN_MS)
    chat = open_link_in_table(page, row=1)
    expect(chat).to_have_url(f"{server}/chat?phone=%2B{test_chat.PHONE[1:]}&lang=en&tz=America%2FSao_Paulo",
                             timeout=SHOWN_MS)
    expect(chat.get_by_role("heading", name=f"Chat with {test_chat.PHONE}", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(chat.get_by_text("3 sent · 3 received", exact=True)).to_be_visible()
    expect(chat.get_by_test_id("stChatMessage")).to_have_count(6)  # every date, not only the 10th
