"""What a person sees: the app served by `streamlit run` on a DuckDB file of factory rows, driven in
headless Debian Chromium. Screenshots of both pages are kept in test-output/; `make screenshots` also
copies them to docs/screenshots/ for the README (a plain run leaves the work tree as it was).
"""
import os
import random
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.app_server import ROOT, serve_rows
from tests.factories import at, mo_row, mt_row

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "docs" / "screenshots"
UPDATE_SCREENSHOTS = "UPDATE_SCREENSHOTS"  # set to 1 by `make screenshots`
TZ = ZoneInfo("America/Sao_Paulo")
WEEK = "from=2026-11-10&to=2026-11-16"
FIRST_DAY, LAST_DAY = date(2026, 11, 10), date(2026, 11, 16)
SHOWN_MS = 30_000

CAMPAIGNS = [("Black Friday", "promo_bf"), ("Natal", "natal_2026"), ("Boas-vindas", "boas_vindas")]
TEXTS = {
    "Black Friday": "Olá, {name}! Black Friday: até 70% off em todo o site 🎉 Responda SIM para receber o cupom.",
    "Natal": "{name}, o Natal chegou mais cedo 🎄 Frete grátis até 24/12.",
    "Boas-vindas": "Bem-vinda, {name}! Seu cadastro foi concluído ✅",
}
NAMES = ["João", "Conceição", "Ana Lúcia", "Marcos", "Júlia", "Antônio", "Beatriz"]
SELLERS = [("Varejo", "ana.souza"), ("Varejo", "bruno.lima"), ("Atacado", "carla.dias")]
FAILURES = [
    ("undelivered", "131049", "This message was not delivered to maintain healthy ecosystem engagement."),
    ("opt_out", "131050", "User has opted out of marketing messages."),
    ("invalid_session", "131047", "More than 24 hours have passed since the customer last replied."),
    ("invalid_content", "132001", "Template name does not exist in the translation."),
    ("tier_limit", "130429", "Rate limit hit."),
]
BUTTONS = {"Black Friday": ["Sim, quero!", "Não, obrigado"], "Natal": ["Ver ofertas", "Falar com atendente"]}


def traffic() -> tuple[list[dict], list[dict]]:
    """A week of plausible sends and replies, the same on every run."""
    rng = random.Random(2026)
    mts, mos = [], []
    for i in range(140):
        campaign, template = CAMPAIGNS[i % 3]
        subaccount, user = SELLERS[(i // 3) % 3]
        sent = at(10 + i % 7, 11 + (i * 7) % 10, (i * 13) % 60)
        draw = rng.random()
        status, code, title = ("read", None, None) if draw < 0.45 else ("delivered", None, None) if draw < 0.75 \
            else ("sent", None, None) if draw < 0.83 else FAILURES[i % len(FAILURES)]
        session = i % 5 == 0
        mts.append(mt_row(
            message_id=f"wamid.HBgM{i:06d}", sent_at=sent, status=status, error_code=code, error_title=title,
            subaccount=subaccount, user_name=user, campaign=campaign, template_name=template,
            content_type="text" if session else "template", sent_with_session=session,
            message=TEXTS[campaign].format(name=NAMES[i % len(NAMES)]), correlation_id=f"pedido-{4000 + i}",
            conversation_id=f"c{i // 3:04d}" if status != "sent" else None,
            conversation_type="user_initiated" if session else "business_initiated",
            # delivered within a minute; read from a few minutes to two days later (a spread for the charts)
            delivered_at=sent + timedelta(seconds=5 + (i * 7) % 50) if status in ("read", "delivered") else None,
            read_at=sent + timedelta(minutes=1 + (i * i * 37) % 2900) if status == "read" else None,
        ))
        if status in ("read", "delivered") and campaign in BUTTONS and rng.random() < 0.5:
            button = BUTTONS[campaign][rng.random() < 0.35]
            mos.append(mo_row(
                message_id=f"wamid.MO{i:06d}", received_at=sent + timedelta(minutes=20 + i % 40),
                phone=mts[-1]["phone"], wa_user_id=mts[-1]["wa_user_id"], profile_name=NAMES[i % len(NAMES)],
                in_reply_to=mts[-1]["message_id"], subaccount=subaccount, user_name=user, campaign=campaign,
                template_name=template, content_type="button", message=button, button_payload=button.upper(),
                button_text=button,
            ))
    for j, kind in enumerate(["text", "image", "audio", "text", "location", "text", "sticker", "text"]):
        mos.append(mo_row(message_id=f"wamid.FREE{j:04d}", received_at=at(10 + j % 7, 14, j * 7), content_type=kind,
                          message={"text": "Qual o horário de atendimento? 🙂"}.get(kind, "")))
    return mts, mos


MTS, MOS = traffic()


def in_week(when) -> bool:
    return FIRST_DAY <= when.astimezone(TZ).date() <= LAST_DAY


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """`streamlit run app.py -- --db URL` on a filled DuckDB file; its base URL."""
    with serve_rows(tmp_path_factory.mktemp("browser"), MTS, MOS) as base:
        yield base




def test_a_link_opens_its_search(server, page):
    n = sum(1 for r in MTS if in_week(r["sent_at"]) and r["status"] == "read")
    page.goto(f"{server}/sent?{WEEK}&status=read&lang=en")
    expect(page.get_by_role("heading", name=f"{n} results", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page.get_by_test_id("stSidebar").get_by_text("Filters", exact=True)).to_be_visible()
    # No "Page not found" on the way, whichever request of the server's this is (router/dashboard.py).
    expect(page.get_by_role("dialog", name="Page not found")).to_have_count(0)
    # the sidebar's widgets are sent before the total, but Chromium may mount them after drawing it
    expect(page.get_by_role("combobox", name="Status")).to_be_visible(timeout=SHOWN_MS)
    assert page.url == f"{server}/sent?{WEEK}&tz=America%2FSao_Paulo&status=read&lang=en"


def test_a_sidebar_filter_changes_the_url_and_the_total(server, page):
    everything = sum(1 for r in MTS if in_week(r["sent_at"]))
    natal = sum(1 for r in MTS if in_week(r["sent_at"]) and r["campaign"] == "Natal")
    page.goto(f"{server}/sent?{WEEK}")
    expect(page.get_by_role("heading", name=f"{everything} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    page.get_by_role("combobox", name="Campanha").click()
    page.get_by_role("option", name="Natal", exact=True).click()
    page.keyboard.press("Escape")
    expect(page.get_by_role("heading", name=f"{natal} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page).to_have_url(f"{server}/sent?{WEEK}&tz=America%2FSao_Paulo&campaign=Natal&lang=pt-BR")
    page.go_back()  # each search is a history entry
    expect(page.get_by_role("heading", name=f"{everything} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page).to_have_url(f"{server}/sent?{WEEK}&tz=America%2FSao_Paulo&lang=pt-BR")


def test_the_table_pages_through_the_results(server, page):
    total = sum(1 for r in MTS if in_week(r["sent_at"]))
    assert total == 140
    page.goto(f"{server}/sent?{WEEK}")
    expect(page.get_by_text("Linhas 1–25 de 140", exact=True)).to_be_visible(timeout=SHOWN_MS)
    page.get_by_role("button", name="Próxima página").click()
    expect(page.get_by_text("Linhas 26–50 de 140", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page.get_by_role("button", name="Página 2")).to_have_attribute("aria-current", "page")
    page.get_by_role("button", name="Página 6").click()
    expect(page.get_by_text("Linhas 126–140 de 140", exact=True)).to_be_visible(timeout=SHOWN_MS)


@pytest.mark.parametrize("name, path, total", [
    ("sent", "sent", sum(1 for r in MTS if in_week(r["sent_at"]))),
    ("received", "received", sum(1 for r in MOS if in_week(r["received_at"]))),
])
def test_screenshots_of_both_pages(server, page, output_dir, name, path, total):
    page.goto(f"{server}/{path}?{WEEK}")
    expect(page.get_by_role("heading", name=f"{total} resultados", exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page.get_by_test_id("stDataFrame").last).to_be_visible(timeout=SHOWN_MS)
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=SHOWN_MS)
    height = page.get_by_test_id("stMain").evaluate("main => main.scrollHeight")
    page.set_viewport_size({"width": 1440, "height": height})
    page.wait_for_timeout(1500)  # charts and the table settle into the new size
    shot = output_dir / f"{name}.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 50_000
    if os.environ.get(UPDATE_SCREENSHOTS) == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOTS / shot.name)
