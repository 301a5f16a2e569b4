"""The insight figures (exports/insight_charts.py) on both engines, read back from their JSON: the
time-to-read bars and the weekday x hour heatmaps carry the counts computed here from the test's own
rows, every text is written the language's way, and each chart's table holds the same numbers."""
import json
import statistics
from datetime import date, timedelta

import pytest

from data_access.filters import MoFilters, MtFilters
from data_access.i18n import plotly_separators
from data_access.insights import mo_insights, mt_insights
from exports.insight_charts import format_duration, mo_insight_figures, mt_insight_figures
from tests.factories import at, insert, mo_row, mt_row
from tests.test_insights import buckets, grid

NOVEMBER = {"date_from": date(2026, 11, 1), "date_to": date(2026, 11, 30)}
WEEKDAYS = {"pt-BR": ["seg.", "ter.", "qua.", "qui.", "sex.", "sáb.", "dom."],
            "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            "es": ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"]}
BUCKETS_PT = ["menos de 1 min", "1–5 min", "5–15 min", "15–60 min", "1–6 h", "6–24 h", "24 h ou mais"]


def as_json(figure) -> dict:
    return json.loads(figure.to_json())


@pytest.mark.parametrize(("seconds", "lang", "text"), [
    (None, "pt-BR", "–"), (0.4, "en", "0 s"), (59.6, "pt-BR", "1 min"), (135, "es", "2 min"),
    (3600 + 5 * 60, "pt-BR", "1 h 05 min"), (30 * 3600 + 7, "en", "1 d 6 h"),
    (1500 * 86400, "pt-BR", "1.500 d 0 h"), (1500 * 86400, "en", "1,500 d 0 h"),
])
def test_durations_are_written_the_language_way(seconds, lang, text):
    assert format_duration(seconds, lang) == text


def test_time_to_read_bars_and_table(engine):
    sent = at(3, 9)
    waits = [(5, 35), (10, 250), (60, 61), (2, 3602), (30, 30 + 30 * 3600), (20, 15), (None, 900), (4, None)]
    rows = [
        mt_row(sent_at=sent + timedelta(minutes=i), status="read" if r else "delivered",
               delivered_at=None if d is None else sent + timedelta(minutes=i, seconds=d),
               read_at=None if r is None else sent + timedelta(minutes=i, seconds=r))
        for i, (d, r) in enumerate(waits)
    ]
    insert(engine, rows)
    read = [r for r in rows if r["read_at"]]
    delivered_read = [max((r["read_at"] - r["delivered_at"]).total_seconds(), 0) for r in read if r["delivered_at"]]
    sent_read = [(r["read_at"] - r["sent_at"]).total_seconds() for r in read]
    with engine.connect() as conn:
        insights = mt_insights(conn, MtFilters(**NOVEMBER))
    figure, table = mt_insight_figures(insights, "pt-BR")["read_delay"]
    data = as_json(figure)
    assert data["layout"]["separators"] == plotly_separators("pt-BR") == ",."
    assert data["layout"]["title"]["text"] == "Tempo até a leitura"
    first, second = data["data"]
    assert first["x"] == second["x"] == BUCKETS_PT
    assert tuple(first["y"]) == buckets(delivered_read) == (3, 1, 0, 0, 1, 0, 1)
    assert tuple(second["y"]) == buckets(sent_read)
    assert first["name"] == f"Entrega → leitura (mediana {format_duration(statistics.median(delivered_read), 'pt-BR')})"
    assert first["name"] == "Entrega → leitura (mediana 2 min)"
    assert second["name"] == "Envio → leitura (mediana 4 min)"
    assert statistics.median(sent_read) == 250
    assert table[0] == {"Tempo até a leitura": "menos de 1 min", "Entrega → leitura": "3", "Envio → leitura": "2"}
    assert [row["Envio → leitura"] for row in table[:7]] == [str(n) for n in buckets(sent_read)]
    assert table[-1] == {"Tempo até a leitura": "mediana", "Entrega → leitura": "2 min", "Envio → leitura": "4 min"}


@pytest.mark.parametrize("lang", ["pt-BR", "en", "es"])
def test_heatmaps_of_reads_and_replies(engine, lang):
    reads = [at(2, 14), at(2, 14, 30), at(9, 14, 5), at(4, 2, 59), at(8, 23, 10)]  # UTC; São Paulo is UTC-3
    mts = [mt_row(sent_at=r - timedelta(minutes=3), status="read", delivered_at=r - timedelta(minutes=2), read_at=r)
           for r in reads]
    replies = [at(6, 11), at(6, 11, 45), at(7, 1, 5)]
    insert(engine, mts, [mo_row(received_at=r) for r in replies])
    with engine.connect() as conn:
        mt_got = mt_insights(conn, MtFilters(**NOVEMBER))
        mo_got = mo_insights(conn, MoFilters(**NOVEMBER))
    figure, table = mt_insight_figures(mt_got, lang)["reads_by_hour"]
    heat = as_json(figure)["data"][0]
    expected = grid(reads, "America/Sao_Paulo")
    assert [tuple(row) for row in heat["z"]] == list(expected)
    assert expected[0][11] == 3 and expected[1][23] == 1 and expected[6][20] == 1  # Mon 11h, Tue 23h, Sun 20h
    assert heat["y"] == WEEKDAYS[lang] and heat["x"][0] == "00h" and heat["x"][23] == "23h"
    assert [next(iter(row.values())) for row in table] == [f"{h:02d}h" for h in range(24)]
    assert list(table[0])[1:] == WEEKDAYS[lang]
    assert [[table[h][day] for h in range(24)] for day in WEEKDAYS[lang]] == [[str(n) for n in r] for r in expected]
    replies_figure, replies_table = mo_insight_figures(mo_got, lang)["replies_by_hour"]
    replies_heat = as_json(replies_figure)["data"][0]
    assert [tuple(row) for row in replies_heat["z"]] == list(grid(replies, "America/Sao_Paulo"))
    assert sum(int(v) for row in replies_table for k, v in row.items() if k in WEEKDAYS[lang]) == len(replies)
