"""The insights on the report pages (AppTest, both engines): unique recipients and senders, median
times to read, the time-to-read chart and the weekday x hour heatmaps, with values computed here from
the test's own rows."""
import json
import statistics
from datetime import timedelta

from exports.insight_charts import format_duration
from tests.factories import at, insert, mo_row, mt_row
from tests.test_insights import buckets, grid
from tests.test_pages import NOVEMBER, _clean_settings, duck, open_app  # noqa: F401 (fixtures)


def charts(app) -> dict[str, dict]:
    """The page's plotly figures by title."""
    figures = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    return {figure["layout"]["title"]["text"]: figure for figure in figures}


def metrics(app) -> dict[str, str]:
    return {m.label: m.value for m in app.main.metric}


def test_sent_and_received_pages_show_insights(engine, db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    s = timedelta(seconds=1)
    waits = [(5, 35), (10, 250), (60, 61), (2, 3602), (30, 108030), (None, 900), (4, None)]
    mts = [
        mt_row(sent_at=at(3 + i, 12), phone="+551190000000" + str(i % 4), status="read" if r else "delivered",
               delivered_at=None if d is None else at(3 + i, 12) + d * s,
               read_at=None if r is None else at(3 + i, 12) + r * s)
        for i, (d, r) in enumerate(waits)
    ]
    mos = [mo_row(received_at=at(4, 13), phone="+5511900000001"), mo_row(received_at=at(5, 22), phone="+5511900000001"),
           mo_row(received_at=at(5, 23), phone="+5521900000002")]
    insert(engine, mts, mos)
    read = [r for r in mts if r["read_at"]]
    delivered_read = [(r["read_at"] - r["delivered_at"]).total_seconds() for r in read if r["delivered_at"]]
    sent_read = [(r["read_at"] - r["sent_at"]).total_seconds() for r in read]

    app = open_app({**NOVEMBER, "lang": "en"})
    shown = metrics(app)
    assert shown["Unique recipients"] == str(len({r["phone"] for r in mts})) == "4"
    assert shown["Median delivered → read"] == format_duration(statistics.median(delivered_read), "en") == "4 min"
    assert shown["Median sent → read"] == format_duration(statistics.median(sent_read), "en") == "9 min"
    captions = [c.value for c in app.main.caption]
    assert "1.8 messages per person" in captions  # 7 messages, 4 people
    assert f"{len(delivered_read)} read messages measured" in captions
    figures = charts(app)
    delay = figures["Time to read"]["data"]
    assert tuple(delay[0]["y"]) == buckets(delivered_read) and tuple(delay[1]["y"]) == buckets(sent_read)
    heat = figures["Reads by weekday and hour"]["data"][0]
    assert [tuple(row) for row in heat["z"]] == list(grid([r["read_at"] for r in read], "America/Sao_Paulo"))
    assert "Times in the America/Sao_Paulo time zone." in captions

    app.switch_page("pages/received.py").run()
    assert metrics(app)["Unique senders"] == str(len({m["phone"] for m in mos})) == "2"
    assert "1.5 messages per person" in [c.value for c in app.main.caption]
    heat = charts(app)["Replies by weekday and hour"]["data"][0]
    assert [tuple(row) for row in heat["z"]] == list(grid([m["received_at"] for m in mos], "America/Sao_Paulo"))


def test_without_read_times_the_page_says_so_instead_of_empty_charts(duck):
    insert(duck, [mt_row(sent_at=at(3, 12), status="read"), mt_row(sent_at=at(4, 12), status="delivered")])
    app = open_app({**NOVEMBER, "lang": "en"})
    assert metrics(app)["Median sent → read"] == "–"
    assert ("No read message of this search has a read time: no time to read and no reading hours to show."
            in [c.value for c in app.main.caption])
    assert set(charts(app)) == {"Delivery funnel", "Message status", "Daily delivery rate"}
