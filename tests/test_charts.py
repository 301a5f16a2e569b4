"""The report's plotly figures (pages and PDF draw the same figures), read back from their JSON, the
PDF's images and the pages: user texts are literal (every `<`, `>` and `&` an entity, as plotly
expects), numbers and days are written the language's way, rates name their denominator, one-day
searches draw whole, colours are fixed per code and legible, and each chart's numbers are a table."""
import io
import json
import subprocess
import sys
from collections import defaultdict
from datetime import date

import plotly.io as pio
import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader

from data_access.catalog import FAILURE_STATUSES, MO_CONTENT_TYPES, STATUSES
from data_access.filters import MoFilters, MtFilters
from data_access.i18n import format_day, format_int, format_pct, label, plotly_separators
from data_access.report import mo_report, mt_report
from exports.charts import mo_chart_tables, mo_figures, mt_chart_tables, mt_figures
from exports.export import export
from exports.pdf_export import CHART_WIDTH_PX
from pages.insights_view import MO_OPEN_KEY
from tests.factories import at, insert, mo_row, mt_row
from tests.test_export_panel import ROOT, downloaded, panel
from tests.test_export_pdf import text_lines
from tests.test_export_rows import data  # noqa: F401 (fixture)
from tests.test_pages import _clean_settings, duck, open_app  # noqa: F401 (fixtures)

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
    assert [name.split("<br>")[0] for name in figures["funnel"]["data"][0]["y"]] == ["Sent", "Delivered", "Read", "Replied"]


# -- numbers and days in the language (defect 5), denominators (defect 6) ----------------------------

def pct_text(part: int, whole: int, lang: str) -> str:
    """A share with one decimal, written by hand: "91,7%" (pt-BR, es) or "91.7%" (en)."""
    text = f"{100 * part / whole:.1f}%"
    return text if lang == "en" else text.replace(".", ",")


def thousands(n: int, lang: str) -> str:
    return f"{n:,}" if lang == "en" else f"{n:,}".replace(",", ".")


OF_SENT = {"pt-BR": "{} dos enviados", "en": "{} of sent", "es": "{} de los enviados"}
NOV10_DAY = {"pt-BR": "10 de nov.", "en": "Nov 10", "es": "10 nov"}
SEPARATORS = {"pt-BR": ",.", "en": ".,", "es": ",."}


@pytest.fixture
def thousand_messages(engine):
    """1,200 MTs on 10 November 2026 (local): 1,100 read, 100 undelivered; 3 answered by MOs, and 1,003
    MOs: 1,000 texts and 3 quick-reply clicks."""
    mts = [mt_row(sent_at=at(10, 12), status="read") for _ in range(1100)]
    mts += [mt_row(sent_at=at(10, 13), status="undelivered") for _ in range(100)]
    mos = [mo_row(received_at=at(10, 14), content_type="text") for _ in range(1000)]
    mos += [mo_row(received_at=at(10, 15), content_type="button", button_payload="S", button_text="Sim",
                   in_reply_to=mts[i]["message_id"]) for i in range(3)]
    insert(engine, mts, mos)
    return engine


@pytest.mark.parametrize("lang", ["pt-BR", "en", "es"])
def test_chart_numbers_and_days_are_written_the_language_way(thousand_messages, lang):
    with thousand_messages.connect() as conn:
        mt = mt_report(conn, MtFilters(**NOV10))
        mo = mo_report(conn, MoFilters(**NOV10))
    figures = {name: figure_json(fig) for name, fig in {**mt_figures(mt, lang), **mo_figures(mo, lang)}.items()}
    assert {fig["layout"]["separators"] for fig in figures.values()} == {SEPARATORS[lang]}
    funnel = figures["funnel"]["data"][0]
    assert funnel["textinfo"] == "text"
    assert funnel["text"] == [thousands(1200, lang), thousands(1100, lang), thousands(1100, lang), "3"]
    assert [name.split("<br>")[1:] for name in funnel["y"]] == [
        [], [OF_SENT[lang].format(pct_text(1100, 1200, lang))], [OF_SENT[lang].format(pct_text(1100, 1200, lang))],
        [OF_SENT[lang].format(pct_text(3, 1200, lang))],
    ]
    bars = figures["status_breakdown"]["data"][0]
    assert bars["text"] == ["100", thousands(1100, lang)]
    assert figures["status_breakdown"]["layout"]["xaxis"]["tickformat"] == ",d"
    pie = figures["content_mix"]["data"][0]
    assert (pie["textinfo"], pie["text"]) == ("text", [pct_text(1000, 1003, lang), pct_text(3, 1003, lang)])
    for name in ("daily_delivery_rate", "replies_per_day"):
        axis = figures[name]["layout"]["xaxis"]
        assert (axis["tickvals"], axis["ticktext"]) == (["2026-11-10"], [NOV10_DAY[lang]]), name
    assert figures["daily_delivery_rate"]["data"][0]["hovertext"] == [
        f"{NOV10_DAY[lang]}: {pct_text(1100, 1200, lang)} "
        f"({thousands(1100, lang)} {dict(en='of').get(lang, 'de')} {thousands(1200, lang)})"
    ]


def test_babel_formats_of_the_catalog():
    assert [format_int(1234567, lang) for lang in ("pt-BR", "en", "es")] == ["1.234.567", "1,234,567", "1.234.567"]
    assert [format_pct(0.00396, lang) for lang in ("pt-BR", "en", "es")] == ["0,4%", "0.4%", "0,4%"]
    assert [format_pct(12.5, lang, digits=0) for lang in ("pt-BR", "en")] == ["1.250%", "1,250%"]
    assert format_pct(None, "es") == "–"
    assert [format_day(date(2026, 1, 5), lang) for lang in ("pt-BR", "en", "es")] == ["5 de jan.", "Jan 5", "5 ene"]
    assert (format_int(5, "xx"), plotly_separators("xx")) == ("5", ".,")  # unknown language: English


def test_the_pdf_says_what_each_rate_is_a_share_of(thousand_messages):
    buffer = io.BytesIO()
    export(thousand_messages, MtFilters(**NOV10), "pdf", "pt-BR", buffer)
    text = " ".join(text_lines(buffer.getvalue()))
    assert "Taxa de entrega: Entregues (status Entregue ou Lida) ÷ total de mensagens da busca." in text
    assert "Taxa de leitura: Lidas ÷ entregues." in text
    assert "Taxa de falha: Mensagens com status de falha ÷ total." in text
    assert "Taxa de resposta: Mensagens com pelo menos uma resposta (MO) ÷ entregues." in text


# -- one-day searches (defect 8) -----------------------------------------------------------------------

def test_a_one_day_search_shows_one_day_tick_a_whole_point_and_whole_counts(engine):
    insert(engine, [mt_row(sent_at=at(10, 12), status="read"), mt_row(sent_at=at(10, 13), status="delivered"),
                    mt_row(sent_at=at(10, 14), status="read")],
           [mo_row(received_at=at(10, 15)), mo_row(received_at=at(10, 16))])
    with engine.connect() as conn:
        mt = mt_report(conn, MtFilters(**NOV10))
        mo = mo_report(conn, MoFilters(**NOV10))
    figures = {name: figure_json(fig) for name, fig in {**mt_figures(mt, "pt-BR"), **mo_figures(mo, "pt-BR")}.items()}
    for name in ("daily_delivery_rate", "replies_per_day"):
        axis = figures[name]["layout"]["xaxis"]
        assert axis["tickvals"] == ["2026-11-10"], name  # one tick, not "11-10, 11-10, 11-11"
        assert axis["range"] == ["2026-11-09T12:00:00", "2026-11-10T12:00:00"], name  # the day centred
    line = figures["daily_delivery_rate"]
    assert line["data"][0]["y"] == [100.0]
    assert line["data"][0]["cliponaxis"] is False and line["layout"]["yaxis"]["range"][1] > 100
    assert figures["replies_per_day"]["data"][0]["width"] == 0.8 * 86_400_000  # a bar as wide as the day
    for name, axis in (("status_breakdown", "xaxis"), ("replies_per_day", "yaxis"), ("quick_replies", "xaxis")):
        layout = figures[name]["layout"][axis]
        assert (layout["tickmode"], layout["tick0"], layout["dtick"]) == ("linear", 0, 1), name


# -- colours (defects 13 and 16) -------------------------------------------------------------------------

def luminance(color: str) -> float:
    """WCAG 2 relative luminance of "#rrggbb"."""
    channels = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    low, high = sorted((luminance(a), luminance(b)))
    return (high + 0.05) / (low + 0.05)


def test_a_status_and_a_content_type_keep_their_colour_across_searches(engine):
    insert(engine, [mt_row(sent_at=at(10, 12), status=s) for s in ("read", "delivered", "undelivered", "sent")],
           [mo_row(received_at=at(10, 12), content_type=c) for c in ("text", "image", "image", "audio")])
    colours: dict[tuple[str, str], set[str]] = defaultdict(set)
    searches = [{}, {"status": ("undelivered",)}, {"status": ("read", "undelivered")}]
    with engine.connect() as conn:
        for narrowing in searches:
            bars = figure_json(mt_figures(mt_report(conn, MtFilters(**NOV10, **narrowing)), "en")["status_breakdown"])
            for word, colour in zip(bars["data"][0]["y"], bars["data"][0]["marker"]["color"]):
                colours["status", word].add(colour)
        for narrowing in ({}, {"content_type": ("audio",)}, {"content_type": ("image", "audio")}):
            pie = figure_json(mo_figures(mo_report(conn, MoFilters(**NOV10, **narrowing)), "en")["content_mix"])
            for word, colour in zip(pie["data"][0]["labels"], pie["data"][0]["marker"]["colors"]):
                colours["content", word].add(colour)
    assert sorted(colours) == [("content", "Audio"), ("content", "Image"), ("content", "Text"),
                               ("status", "Delivered"), ("status", "Not delivered"), ("status", "Read"),
                               ("status", "Sent")]
    assert all(len(seen) == 1 for seen in colours.values()), colours
    content = [next(iter(colours["content", word])) for word in ("Audio", "Image", "Text")]
    assert len(set(content)) == 3


def test_every_chart_colour_reads_against_white_and_failures_differ_from_deliveries(engine):
    insert(engine, [mt_row(sent_at=at(10, 12), status=s) for s in STATUSES],
           [mo_row(received_at=at(10, 12), content_type=c, button_payload="B" if c == "button" else None,
                   button_text="Sim" if c == "button" else None) for c in MO_CONTENT_TYPES])
    with engine.connect() as conn:
        figures = [figure_json(fig) for fig in (*mt_figures(mt_report(conn, MtFilters(**NOV10)), "pt-BR").values(),
                                                *mo_figures(mo_report(conn, MoFilters(**NOV10)), "pt-BR").values())]
    marks: list[str] = []
    for fig in figures:
        trace = fig["data"][0]
        marker = trace["marker"]
        found = marker.get("colors") or marker.get("color")
        marks += found if isinstance(found, list) else [found]
        if "text" in trace:
            assert trace["insidetextfont"]["color"] == "#ffffff"  # white text inside a mark...
    assert len(set(marks)) >= 14
    assert min(contrast(c, "#ffffff") for c in marks) >= 4.5  # ...at 4.5:1 (text), so the mark is 3:1 (graphics)
    bars = figures[2]["data"][0]
    colour_of = dict(zip((y.replace("<br>", " ") for y in bars["y"]), bars["marker"]["color"]))  # names wrap
    failed, delivered, read = colour_of["Não entregue"], colour_of["Entregue"], colour_of["Lida"]
    assert len({colour_of[label("status", s, "pt-BR")] for s in FAILURE_STATUSES}) == 1
    # blue against vermillion (the colour-blind-safe axis), and lighter against darker
    assert int(delivered[5:7], 16) > int(delivered[1:3], 16) and int(failed[1:3], 16) > int(failed[5:7], 16)
    assert contrast(failed, delivered) >= 1.5 and contrast(failed, read) < contrast(failed, "#ffffff")


# -- the charts' numbers as tables (defect 16, text alternative) ----------------------------------------

def test_each_chart_has_its_numbers_as_a_table(thousand_messages):
    with thousand_messages.connect() as conn:
        mt = mt_chart_tables(mt_report(conn, MtFilters(**NOV10)), "pt-BR")
        mo = mo_chart_tables(mo_report(conn, MoFilters(**NOV10)), "es")
    assert mt["funnel"] == [
        {"Etapa": "Enviadas", "Quantidade": "1.200", "Parcela": "100,0% dos enviados"},
        {"Etapa": "Entregues", "Quantidade": "1.100", "Parcela": f"{pct_text(1100, 1200, 'pt-BR')} dos enviados"},
        {"Etapa": "Lidas", "Quantidade": "1.100", "Parcela": f"{pct_text(1100, 1200, 'pt-BR')} dos enviados"},
        {"Etapa": "Respondidas", "Quantidade": "3", "Parcela": f"{pct_text(3, 1200, 'pt-BR')} dos enviados"},
    ]
    assert mt["status_breakdown"] == [
        {"Status": "Lida", "Quantidade": "1.100", "Parcela": pct_text(1100, 1200, "pt-BR")},
        {"Status": "Não entregue", "Quantidade": "100", "Parcela": pct_text(100, 1200, "pt-BR")},
    ]
    assert mt["daily_delivery_rate"] == [{"Dia": "10 de nov.", "Enviadas": "1.200", "Entregues": "1.100",
                                          "Taxa de entrega": pct_text(1100, 1200, "pt-BR")}]
    assert mo["quick_replies"] == [{"Botón": "Sim", "Clics": "3"}]
    assert mo["replies_per_day"] == [{"Día": "10 nov", "Respuestas": "1.003"}]
    assert mo["content_mix"] == [
        {"Tipo de contenido": "Texto", "Cantidad": "1.000", "Proporción": pct_text(1000, 1003, "es")},
        {"Tipo de contenido": "Botón (respuesta rápida)", "Cantidad": "3", "Proporción": pct_text(3, 1003, "es")},
    ]


# -- the dashboard's PDF draws the charts the command line draws (defect 1) -----------------------------

def chart_images(document: bytes) -> list[Image.Image]:
    return [image.image.convert("RGB") for page in PdfReader(io.BytesIO(document)).pages for image in page.images]


def black_share(image: Image.Image) -> float:
    """The share of (near) pure black pixels: the charts' darkest ink is #1c2b25."""
    red, green, blue = image.split()
    brightest = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    return sum(brightest.histogram()[:16]) / (image.width * image.height)


@pytest.mark.slow
@pytest.mark.parametrize("view", ["mt", "mo"])
def test_the_dashboard_pdf_draws_the_charts_the_command_line_draws(data, db_url, tmp_path, view, monkeypatch):
    app = panel(db_url, view=view)  # the page's export panel, in a process where Streamlit is loaded
    assert pio.templates.default == "streamlit"  # what Streamlit does to plotly in its process
    from_page = downloaded(app, 2, db_url, monkeypatch).content
    from_cli = tmp_path / "cli.pdf"
    subprocess.run(
        [sys.executable, "-m", "exports", "--view", view, "--format", "pdf", "-o", str(from_cli), "--db", db_url,
         "--from", "2026-11-10", "--to", "2026-11-11", "--lang", "pt-BR"],
        cwd=ROOT, check=True, capture_output=True, timeout=180,
    )
    page_images, cli_images = chart_images(from_page), chart_images(from_cli.read_bytes())
    assert len(page_images) == len(cli_images) == 3
    for drawn_by_page, drawn_by_cli in zip(page_images, cli_images):
        assert drawn_by_page.size == drawn_by_cli.size and drawn_by_page.width == 2 * CHART_WIDTH_PX
        assert ImageChops.difference(drawn_by_page, drawn_by_cli).getbbox() is None  # the same pixels
        assert black_share(drawn_by_page) < 0.005
    not_generated = [line for line in text_lines(from_page) if not line.startswith("Gerado em")]
    assert not_generated == [line for line in text_lines(from_cli.read_bytes()) if not line.startswith("Gerado em")]
    assert ("Motivos de falha" if view == "mt" else "Cliques em botões de resposta rápida") in not_generated


# -- the pages: the same figures, each with its table ----------------------------------------------------

def test_the_pages_show_each_chart_with_its_numbers_in_a_table(duck):
    insert(duck, [mt_row(sent_at=at(10, 12), status="read"), mt_row(sent_at=at(10, 13), status="delivered"),
                  mt_row(sent_at=at(10, 14), status="undelivered")],
           [mo_row(received_at=at(10, 15), content_type="text"), mo_row(received_at=at(10, 16), content_type="text"),
            mo_row(received_at=at(10, 17), content_type="image")])
    app = open_app({"from": "2026-11-10", "to": "2026-11-10"})
    specs = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    assert [spec["layout"]["separators"] for spec in specs] == [",."] * 3  # the insights are closed
    assert specs[0]["data"][0]["text"] == ["3", "2", "1", "0"]
    assert specs[0]["data"][0]["y"] == ["Enviadas", f"Entregues<br>{pct_text(2, 3, 'pt-BR')} dos enviados",
                                        f"Lidas<br>{pct_text(1, 3, 'pt-BR')} dos enviados",
                                        "Respondidas<br>0,0% dos enviados"]
    assert [e.label for e in app.main.expander] == [
        "Ver dados: Funil de entrega", "Ver dados: Status das mensagens", "Ver dados: Taxa de entrega por dia",
        "Destinatários únicos, tempo até a leitura e melhores horários"]
    funnel, statuses, daily = (table.value for table in app.main.table)
    assert funnel.reset_index().values.tolist() == [
        ["Enviadas", "3", "100,0% dos enviados"],
        ["Entregues", "2", f"{pct_text(2, 3, 'pt-BR')} dos enviados"],
        ["Lidas", "1", f"{pct_text(1, 3, 'pt-BR')} dos enviados"],
        ["Respondidas", "0", "0,0% dos enviados"],
    ]
    assert sorted(statuses.reset_index().values.tolist()) == [
        ["Entregue", "1", pct_text(1, 3, "pt-BR")], ["Lida", "1", pct_text(1, 3, "pt-BR")],
        ["Não entregue", "1", pct_text(1, 3, "pt-BR")]]
    assert daily.reset_index().values.tolist() == [["10 de nov.", "3", "2", pct_text(2, 3, "pt-BR")]]

    app.switch_page("../pages/received.py")
    app.session_state[MO_OPEN_KEY] = True  # the insights expander opened
    app.run()
    assert [e.label for e in app.main.expander] == ["Ver dados: Respostas por dia", "Ver dados: Tipos de conteúdo",
                                                    "Remetentes únicos e melhores horários",
                                                    "Ver dados: Respostas por dia da semana e hora"]
    daily, mix, _ = (table.value for table in app.main.table)
    assert daily.reset_index().values.tolist() == [["10 de nov.", "3"]]
    assert mix.reset_index().values.tolist() == [["Texto", "2", pct_text(2, 3, "pt-BR")],
                                                 ["Imagem", "1", pct_text(1, 3, "pt-BR")]]
