"""The insights expander of the report pages keeps its state for the session: opened, it stays open
when the language changes (its label, which Streamlit identifies it by together with its key, changes)
and when the person goes to another page and back; closed, it stays closed the same way, and nothing
in it is queried. AppTest on both engines, then the app for real in Chromium."""
import pytest
import streamlit as st
from playwright.sync_api import expect
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from pages.insights_view import MO_OPEN_KEY, MT_OPEN_KEY
from tests.app_server import serve_rows
from tests.factories import at, insert, mo_row, mt_row
from tests.test_pages import APP, NOVEMBER
from tests.test_pages_insights import insight_statements, statements

MT_LABEL = {"en": "Unique recipients, time to read and best hours",
            "es": "Destinatarios únicos, tiempo hasta la lectura y mejores horas",
            "pt-BR": "Destinatários únicos, tempo até a leitura e melhores horários"}
MO_LABEL = {"en": "Unique senders and best hours", "es": "Remitentes únicos y mejores horas",
            "pt-BR": "Remetentes únicos e melhores horários"}
MTS = [mt_row(sent_at=at(4, 12), phone=f"+55119000000{i:02d}", status="read", delivered_at=at(4, 12), read_at=at(4, 13))
       for i in range(3)]
MOS = [mo_row(received_at=at(4, 14), phone="+5511900000001"), mo_row(received_at=at(5, 14), phone="+5511900000001")]
SHOWN_MS = 60_000


@pytest.fixture
def served(engine: Engine, db_url: str, monkeypatch) -> Engine:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("REPORT_LANG", raising=False)
    monkeypatch.delenv("REPORT_TZ", raising=False)
    insert(engine, MTS, MOS)
    yield engine
    st.cache_data.clear()
    st.cache_resource.clear()


def insights_expander(app: AppTest, labels: dict[str, str]) -> tuple[str, bool]:
    """(label, open) of the page's insights expander."""
    (found,) = [e for e in app.get("expander") if e.label in labels.values()]
    return found.label, found.proto.expanded


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.main.metric}


def ran(app: AppTest) -> AppTest:
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_opened_it_stays_open_in_another_language_and_after_another_page(served):
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update({**NOVEMBER, "lang": "en"})
    ran(app)
    assert insights_expander(app, MT_LABEL) == (MT_LABEL["en"], False)
    app.session_state[MT_OPEN_KEY] = True  # what a click on it leaves
    ran(app)
    assert metrics(app)["Unique recipients"] == "3"

    app.selectbox(key="lang").set_value("es")
    ran(app)
    assert insights_expander(app, MT_LABEL) == (MT_LABEL["es"], True)
    assert metrics(app)["Destinatarios únicos"] == "3"

    app.switch_page("../pages/received.py")
    ran(app)
    assert insights_expander(app, MO_LABEL) == (MO_LABEL["es"], False)  # each page's own
    app.session_state[MO_OPEN_KEY] = True
    ran(app)
    assert metrics(app)["Remitentes únicos"] == "1"
    app.switch_page("../pages/sent.py")
    ran(app)
    assert insights_expander(app, MT_LABEL) == (MT_LABEL["es"], True)
    assert metrics(app)["Destinatarios únicos"] == "3"
    app.switch_page("../pages/received.py")
    ran(app)
    assert insights_expander(app, MO_LABEL) == (MO_LABEL["es"], True)


def test_closed_it_stays_closed_and_queries_nothing(served):
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update({**NOVEMBER, "lang": "en"})
    ran(app)
    app.session_state[MT_OPEN_KEY] = True
    ran(app)
    app.session_state[MT_OPEN_KEY] = False  # closed again by a click
    ran(app)
    with statements() as sent:
        app.selectbox(key="lang").set_value("pt-BR")
        ran(app)
        assert insights_expander(app, MT_LABEL) == (MT_LABEL["pt-BR"], False)
        app.switch_page("../pages/received.py")
        ran(app)
        app.switch_page("../pages/sent.py")
        ran(app)
        assert insights_expander(app, MT_LABEL) == (MT_LABEL["pt-BR"], False)
    assert "Destinatários únicos" not in metrics(app)
    assert sent and insight_statements(sent) == []


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve_rows(tmp_path_factory.mktemp("insights_expander"), MTS, MOS) as base:
        yield base


@pytest.mark.browser
def test_in_the_browser_it_stays_open_across_a_language_change_and_the_received_page(server, new_page):
    page = new_page(viewport={"width": 1440, "height": 1000}, locale="en-US")
    page.goto(f"{server}/sent?lang=en&from=2026-11-01&to=2026-11-30")
    page.get_by_text(MT_LABEL["en"], exact=True).click()
    expect(page.get_by_test_id("stMetricLabel").filter(has_text="Unique recipients")).to_be_visible(timeout=SHOWN_MS)

    language = page.get_by_role("combobox", name="Language")
    language.click()
    language.press("ArrowDown")  # opens its list when the click only focused it
    page.get_by_role("option", name="Español", exact=True).click()
    expect(page.get_by_text(MT_LABEL["es"], exact=True)).to_be_visible(timeout=SHOWN_MS)
    expect(page.get_by_test_id("stMetricLabel").filter(has_text="Destinatarios únicos")).to_be_visible(
        timeout=SHOWN_MS)

    page.get_by_test_id("stMain").get_by_role("link", name="Recibido (MO)").click()
    expect(page.get_by_text(MO_LABEL["es"], exact=True)).to_be_visible(timeout=SHOWN_MS)
    page.get_by_test_id("stMain").get_by_role("link", name="Enviado (MT)").click()
    expect(page.get_by_test_id("stMetricLabel").filter(has_text="Destinatarios únicos")).to_be_visible(
        timeout=SHOWN_MS)
    expect(page.get_by_test_id("stMetricValue")).to_have_count(7)  # the four rates, then the insights' three
