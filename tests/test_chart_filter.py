"""What each clickable point filters by (written by exports/charts.py, read by pages/chart_filter.py),
on both engines: every status bar carries its own code, the funnel's stages the statuses they count,
each quick-reply bar its button text as typed (commas and markup included); a selection decodes back
to the filter's values."""
from datetime import date

import pytest

from data_access.filters import MoFilters, MtFilters
from data_access.report import mo_report, mt_report
from exports.charts import mo_figures, mt_figures
from pages.chart_filter import picked
from tests.factories import at, insert, mo_row, mt_row

NOV10 = {"date_from": date(2026, 11, 10), "date_to": date(2026, 11, 10)}
BUTTONS = ["Sim, quero", "<b>Não</b>", "Talvez, depois, obrigado"]


@pytest.mark.parametrize("lang", ["pt-BR", "en", "es"])
def test_status_bars_and_funnel_stages_carry_their_statuses(engine, lang):
    statuses = ["read", "read", "read", "delivered", "opt_out", "undelivered", "undelivered", "sent"]
    insert(engine, [mt_row(sent_at=at(10, 12, i), status=s) for i, s in enumerate(statuses)])
    with engine.connect() as conn:
        report = mt_report(conn, MtFilters(**NOV10))
    figures = mt_figures(report, lang)
    bars = figures["status_breakdown"].data[0]
    counts = {code: statuses.count(code) for code in set(statuses)}
    assert [counts[code] for code in bars.customdata] == list(bars.x)
    assert sorted(bars.customdata) == sorted(counts)
    funnel = figures["funnel"].data[0]
    assert list(funnel.customdata) == ["", "delivered,read", "read", None]
    for code in bars.customdata:
        assert picked("status", [{"customdata": code, "point_index": 0}]) == (code,)
    assert picked("status", [{"customdata": "delivered,read"}]) == ("delivered", "read")
    assert picked("status", [{"customdata": ""}]) == ()  # the first stage: every status
    assert picked("status", [{"customdata": None}]) is None  # "replied" is no status
    assert picked("status", []) is None  # a click beside the bars


def test_quick_reply_bars_carry_their_button_text(engine):
    clicks = [BUTTONS[0]] * 3 + [BUTTONS[1]] * 2 + [BUTTONS[2]] + [None]
    insert(engine, mos=[mo_row(received_at=at(10, 12, i), content_type="button", button_payload=f"P{i}",
                               button_text=text) for i, text in enumerate(clicks)])
    with engine.connect() as conn:
        report = mo_report(conn, MoFilters(**NOV10))
    bars = mo_figures(report, "pt-BR")["quick_replies"].data[0]
    by_text = {text: clicks.count(text) for text in BUTTONS}
    fewest_first = sorted(by_text.items(), key=lambda item: item[1])
    assert [(text, n) for text, n in zip(bars.customdata, bars.x) if text] == fewest_first
    assert None in bars.customdata  # the click without a text is not a filter
    for text in BUTTONS:
        assert picked("button", [{"customdata": text}]) == (text,)  # commas stay inside the one value
    assert picked("button", [{"customdata": [BUTTONS[2]]}]) == (BUTTONS[2],)
