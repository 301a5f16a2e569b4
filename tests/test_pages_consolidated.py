"""The Consolidado page driven with AppTest on a real database, in three languages: the grouped table
with its totals row and changes, grouping and order, the empty state, and the totals row against the
Sent page's figures for the same link. Expected texts come from the hand-made campaigns of
tests.test_consolidated (search 10-12 Nov, previous period 7-9 Nov)."""
import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from data_access.accounts import audit_entries
from data_access.consolidated import ConsolidatedFilters, consolidated
from data_access.engine import open_database
from data_access.i18n import t
from exports.consolidated_export import Layout
from pages import consolidated_view
from tests.factories import insert
from tests.test_consolidated import BF, CAMPAIGN_MOS, CAMPAIGN_MTS, HYPERLINK
from tests.test_pages import _clean_settings  # noqa: F401 (autouse fixture: no REPORT_* settings, caches emptied)

APP = str(Path(__file__).resolve().parent.parent / "router" / "dashboard.py")
PAGE = "../pages/consolidated.py"
LINK = {"from": "2026-11-10", "to": "2026-11-12"}

# Each row's texts in each language: sent, Δ, delivered, Δ, read, Δ, failed, Δ, replied, Δ, clicks, Δ,
# then the four rates, each with its change in percentage points.
EXPECTED = {
    "pt-BR": {
        "Natal": ["4", "+2", "2", "+1", "1", "0", "1", "0", "2", "+1", "2", "+1",
                  "50,0%", "0,0\u00a0p.p.", "50,0%", "-50,0\u00a0p.p.", "25,0%", "-25,0\u00a0p.p.", "100,0%", "0,0\u00a0p.p."],
        "(não informado)": ["1", "+1", "1", "+1", "1", "+1", "0", "0", "0", "0", "0", "0",
                            "100,0%", "–", "100,0%", "–", "0,0%", "–", "0,0%", "–"],
        "Total": ["8", "+4", "6", "+3", "4", "+1", "1", "0", "2", "+1", "2", "+1",
                  "75,0%", "0,0\u00a0p.p.", "66,7%", "-33,3\u00a0p.p.", "12,5%", "-12,5\u00a0p.p.", "33,3%", "0,0\u00a0p.p."],
    },
    "en": {
        "Natal": ["4", "+2", "2", "+1", "1", "0", "1", "0", "2", "+1", "2", "+1",
                  "50.0%", "0.0\u00a0pp", "50.0%", "-50.0\u00a0pp", "25.0%", "-25.0\u00a0pp", "100.0%", "0.0\u00a0pp"],
        "(not set)": ["1", "+1", "1", "+1", "1", "+1", "0", "0", "0", "0", "0", "0",
                      "100.0%", "–", "100.0%", "–", "0.0%", "–", "0.0%", "–"],
        "Total": ["8", "+4", "6", "+3", "4", "+1", "1", "0", "2", "+1", "2", "+1",
                  "75.0%", "0.0\u00a0pp", "66.7%", "-33.3\u00a0pp", "12.5%", "-12.5\u00a0pp", "33.3%", "0.0\u00a0pp"],
    },
}
# Spanish writes numbers as Brazilian Portuguese does; only the empty group's name differs.
EXPECTED["es"] = {("(sin dato)" if name == "(não informado)" else name): texts for name, texts in EXPECTED["pt-BR"].items()}
HEADERS = {
    "pt-BR": ["Enviadas", "Δ Enviadas", "Entregues", "Δ Entregues"],
    "en": ["Sent", "Δ Sent", "Delivered", "Δ Delivered"],
    "es": ["Enviados", "Δ Enviados", "Entregados", "Δ Entregados"],
}
GROUP_NAME = {"pt-BR": "Campanha", "en": "Campaign", "es": "Campaña"}
RESULTS = {"pt-BR": "8 resultados", "en": "8 results", "es": "8 resultados"}


@pytest.fixture
def campaigns_app(tmp_path, monkeypatch) -> Iterator[Engine]:
    url = f"duckdb:///{tmp_path / 'report.duckdb'}"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = open_database(url)
    insert(engine, CAMPAIGN_MTS, CAMPAIGN_MOS)
    yield engine
    engine.dispose()


def open_page(params: dict) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update(params)
    app.switch_page(PAGE).run()  # a link to /consolidated
    assert not app.exception, [e.value for e in app.exception]
    return app


def table_rows(app: AppTest) -> dict[str, list[str]]:
    frame = app.table[0].value
    return {name: list(row) for name, row in zip(frame.index, frame.itertuples(index=False))}


@pytest.mark.parametrize("lang", ["pt-BR", "en", "es"])
def test_grouped_table_with_totals_and_changes_in_three_languages(campaigns_app, lang):
    app = open_page({**LINK, "lang": lang})
    assert app.main.header[0].value == RESULTS[lang]
    frame = app.table[0].value
    assert frame.index.name == GROUP_NAME[lang]
    assert list(frame.columns[:4]) == HEADERS[lang]
    rows = table_rows(app)
    assert list(rows)[:2] == ["Natal", BF] and list(rows)[-1] == "Total"
    for name, texts in EXPECTED[lang].items():
        assert rows[name] == texts
    assert HYPERLINK in rows  # shown as typed, never run


def test_group_by_day_sorted_by_read_rate_without_the_comparison(campaigns_app):
    app = open_page({**LINK, "lang": "en"})
    app.selectbox(key="consolidated.group_by").set_value("day").run()
    app.selectbox(key="consolidated.sort").set_value("read_rate").run()
    app.toggle(key="consolidated.compare").set_value(False).run()
    rows = table_rows(app)
    # 10th: a1 read, b1 read -> 100%; 11th: a2 delivered, f1 read, h1 delivered -> 33.3%;
    # 12th: a3 opt-out, a4 sent, f2 read -> 100% (1 of 1 delivered).
    assert list(rows) == ["2026-11-10", "2026-11-12", "2026-11-11", "Total"]
    assert rows["2026-11-11"] == ["3", "3", "1", "0", "1", "0", "100.0%", "33.3%", "0.0%", "33.3%"]
    assert rows["2026-11-12"] == ["3", "1", "1", "1", "0", "0", "33.3%", "100.0%", "33.3%", "0.0%"]
    assert app.table[0].value.index.name == "Day"


def test_totals_row_equals_the_sent_page_for_the_same_link(campaigns_app):
    sent = AppTest.from_file(APP, default_timeout=60)
    sent.query_params.update({**LINK, "lang": "en", "campaign": "Natal"})
    sent.run()
    rate_cards = [t(f"metric.{rate}", "en") for rate in ("delivery_rate", "read_rate", "failure_rate", "reply_rate")]
    cards = [m.value for m in sent.main.metric if m.label in rate_cards]
    page = open_page({**LINK, "lang": "en", "campaign": "Natal"})
    totals = table_rows(page)["Total"]
    assert sent.main.header[0].value == page.main.header[0].value == "4 results"
    assert cards == [totals[12], totals[14], totals[16], totals[18]] == ["50.0%", "50.0%", "25.0%", "100.0%"]


def test_a_search_with_nothing_shows_the_empty_state(campaigns_app):
    app = open_page({"from": "2026-10-01", "to": "2026-10-02", "lang": "pt-BR"})
    assert app.main.header[0].value == "0 resultados"
    assert not app.table
    assert app.main.info[0].value.startswith("**")


def test_a_download_writes_the_table_and_an_audit_entry(campaigns_app):
    """What a download button runs when clicked: the file of the table on screen, then the audit entry."""
    search = ConsolidatedFilters(date_from=date(2026, 11, 10), date_to=date(2026, 11, 12), campaign=("Natal",))
    with campaigns_app.connect() as conn:
        report = consolidated(conn, search, "template")
    layout = Layout("template", sort="group", descending=False, compare=False)
    build = consolidated_view._builder(campaigns_app, report, search, layout, "csv", "en", "ana@example.com", "10.0.0.7")
    header, *rows = list(csv.reader(io.StringIO(build().getvalue().decode("utf-8"))))
    assert header[:3] == ["Template", "Sent", "Delivered"]
    assert rows == [["promo_bf", "4", "2", "1", "1", "2", "2", "0.5", "0.5", "0.25", "1"],
                    ["Total", "4", "2", "1", "1", "2", "2", "0.5", "0.5", "0.25", "1"]]
    (entry,) = audit_entries(campaigns_app)
    assert (entry.actor, entry.action, entry.address) == ("ana@example.com", "export", "10.0.0.7")
    assert entry.detail == {"view": "mc", "dimension": "template", "format": "csv", "rows": 1, "via": "page",
                            "filters": {"from": ["2026-11-10"], "to": ["2026-11-12"], "tz": ["America/Sao_Paulo"],
                                        "campaign": ["Natal"]}}


def test_the_grouping_is_part_of_the_link(campaigns_app):
    app = open_page({**LINK, "lang": "en", "group_by": "day", "sort": "read_rate", "order": "desc", "compare": "off"})
    assert list(table_rows(app)) == ["2026-11-10", "2026-11-12", "2026-11-11", "Total"]
    assert app.selectbox(key="consolidated.group_by").value == "day"
    assert app.toggle(key="consolidated.compare").value is False
    assert app.query_params == {**LINK, "tz": "America/Sao_Paulo", "group_by": "day", "sort": "read_rate",
                                "order": "desc", "compare": "off", "lang": "en"}
    app.selectbox(key="consolidated.group_by").set_value("subaccount").run()
    assert app.query_params["group_by"] == "subaccount"
    # Read rate, largest first: Atacado 1 of 1 delivered (f1), Varejo 3 of 5.
    assert list(table_rows(app)) == ["Atacado", "Varejo", "Total"]
    # An unknown value costs only itself: the rest of the link stays.
    bad = open_page({**LINK, "lang": "en", "group_by": "phone", "sort": "group", "order": "asc"})
    assert bad.selectbox(key="consolidated.group_by").value == "campaign"
    assert list(table_rows(bad)) == [HYPERLINK, BF, "Natal", "(not set)", "Total"]
