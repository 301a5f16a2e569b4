"""User-supplied texts in the report's plotly figures (pages and PDF draw the same figures) are
shown literally: read back from the figure JSON, every `<`, `>` and `&` is an entity, as plotly expects."""
import json
from datetime import date

from data_access.filters import MoFilters, MtFilters
from data_access.report import mo_report, mt_report
from exports.charts import mo_figures, mt_figures
from tests.factories import at, insert, mo_row, mt_row

LINK = "<a href=https://evil.example>clique</a>"
BIG = "<span style=font-size:80px>Sim</span>"
AMP = "Tom &amp; Jerry <br> fim"
NOV10 = {"date_from": date(2026, 11, 10), "date_to": date(2026, 11, 10)}


def entities(text: str) -> str:
    """The text as plotly shows it literally, written out by hand."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def figure_json(figure) -> dict:
    return json.loads(figure.to_json())


def test_button_texts_and_unknown_codes_are_literal_in_the_received_charts(engine):
    insert(engine, mos=[
        mo_row(received_at=at(10, 12), content_type="button", button_payload="A", button_text=LINK),
        mo_row(received_at=at(10, 13), content_type="button", button_payload="B", button_text=BIG),
        mo_row(received_at=at(10, 14), content_type="button", button_payload="B", button_text=BIG),
        mo_row(received_at=at(10, 15), content_type="<b>x</b>&lt;", button_payload="C", button_text=AMP),
    ])
    with engine.connect() as conn:
        report = mo_report(conn, MoFilters(**NOV10))
    figures = {name: figure_json(fig) for name, fig in mo_figures(report, "pt-BR").items()}
    bars = figures["quick_replies"]["data"][0]
    assert list(zip(bars["y"], bars["x"])) == [(entities(LINK), 1), (entities(AMP), 1), (entities(BIG), 2)]
    assert entities(LINK) == "&lt;a href=https://evil.example&gt;clique&lt;/a&gt;"
    pie = figures["content_mix"]["data"][0]
    assert dict(zip(pie["labels"], pie["values"])) == {"Botão (resposta rápida)": 3, "&lt;b&gt;x&lt;/b&gt;&amp;lt;": 1}
    assert not any("<" in text for fig in figures.values() for trace in fig["data"]
                   for text in (trace.get("y") or []) + (trace.get("labels") or []) if isinstance(text, str))


def test_status_words_are_literal_in_the_sent_charts(engine):
    insert(engine, [mt_row(sent_at=at(10, 12), status="read"), mt_row(sent_at=at(10, 13), status="<i>s</i>")])
    with engine.connect() as conn:
        report = mt_report(conn, MtFilters(**NOV10))
    figures = {name: figure_json(fig) for name, fig in mt_figures(report, "en").items()}
    bars = figures["status_breakdown"]["data"][0]
    assert sorted(zip(bars["y"], bars["x"])) == [("&lt;i&gt;s&lt;/i&gt;", 1), ("Read", 1)]
    assert figures["funnel"]["data"][0]["y"] == ["Sent", "Delivered", "Read", "Replied"]
