"""The insights on the report pages (AppTest, both engines): unique recipients and senders, median
times to read, the time-to-read chart and the weekday x hour heatmaps, with values computed here from
the test's own rows. They sit in one expander per page, collapsed by default: closed, not one insight
statement reaches the database; opened, they stay open for the session's next searches."""
import json
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.engine import Engine

from exports.insight_charts import format_duration
from pages.insights_view import MO_OPEN_KEY, MT_OPEN_KEY
from tests.factories import at, insert, mo_row, mt_row
from tests.test_insights import buckets, grid
from tests.test_pages import NOVEMBER, _clean_settings, duck, open_app  # noqa: F401 (fixtures)


def charts(app) -> dict[str, dict]:
    """The page's plotly figures by title."""
    figures = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    return {figure["layout"]["title"]["text"]: figure for figure in figures}


def metrics(app) -> dict[str, str]:
    return {m.label: m.value for m in app.main.metric}


def open_insights(params: dict[str, str], page: str | None = None):
    """The app on a page with its insights expander opened, as a click on it leaves the session."""
    app = open_app(params, page)
    app.session_state[MO_OPEN_KEY if page == "../pages/received.py" else MT_OPEN_KEY] = True
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine of this process sends while the block runs."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def insight_statements(sent: list[str]) -> list[str]:
    """The statements that group by contact to count them (`data_access.insights.contact`): only the insights do."""
    return [s for s in sent if "GROUP BY coalesce(" in s]


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

    app = open_insights({**NOVEMBER, "lang": "en"})
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

    app.switch_page("../pages/received.py")
    app.session_state[MO_OPEN_KEY] = True
    app.run()
    assert metrics(app)["Unique senders"] == str(len({m["phone"] for m in mos})) == "2"
    assert "1.5 messages per person" in [c.value for c in app.main.caption]
    heat = charts(app)["Replies by weekday and hour"]["data"][0]
    assert [tuple(row) for row in heat["z"]] == list(grid([m["received_at"] for m in mos], "America/Sao_Paulo"))


def test_without_read_times_the_page_says_so_instead_of_empty_charts(duck):
    insert(duck, [mt_row(sent_at=at(3, 12), status="read"), mt_row(sent_at=at(4, 12), status="delivered")])
    app = open_insights({**NOVEMBER, "lang": "en"})
    assert metrics(app)["Median sent → read"] == "–"
    assert ("No read message of this search has a read time: no time to read and no reading hours to show."
            in [c.value for c in app.main.caption])
    assert set(charts(app)) == {"Delivery funnel", "Message status", "Daily delivery rate"}


def test_insights_are_closed_by_default_and_query_nothing_until_opened(engine, db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    s = timedelta(seconds=1)
    mts = [mt_row(sent_at=at(3, 12), phone="+5511900000001", status="read", delivered_at=at(3, 12) + 5 * s,
                  read_at=at(3, 12) + 65 * s),
           mt_row(sent_at=at(4, 12), phone="+5511900000002", status="read", delivered_at=at(4, 12) + 5 * s,
                  read_at=at(4, 12) + 305 * s),
           mt_row(sent_at=at(5, 12), phone="+5511900000001", status="delivered", delivered_at=at(5, 12) + 5 * s)]
    mos = [mo_row(received_at=at(4, 13), phone="+5511900000001"), mo_row(received_at=at(6, 9), phone="+5511900000003"),
           mo_row(received_at=at(6, 10), phone="+5511900000003")]
    insert(engine, mts, mos)
    sent_titles = {"Delivery funnel", "Message status", "Daily delivery rate"}

    with statements() as sent:
        app = open_app({**NOVEMBER, "lang": "en"})
    assert "Unique recipients, time to read and best hours" in [e.label for e in app.get("expander")]
    assert app.session_state[MT_OPEN_KEY] is False
    assert list(metrics(app)) == ["Delivery rate", "Read rate", "Failure rate", "Reply rate"]
    assert set(charts(app)) == sent_titles
    assert sent and insight_statements(sent) == []  # the page queried its report, not one insight

    with statements() as sent:  # opened (what a click leaves in the session): two scans, exact values
        app.session_state[MT_OPEN_KEY] = True
        app.run()
    assert len(insight_statements(sent)) == 1  # the aggregate; the grouped scan has no distinct
    shown = metrics(app)
    assert shown["Unique recipients"] == str(len({r["phone"] for r in mts})) == "2"
    assert shown["Median delivered → read"] == format_duration(statistics.median([60, 300]), "en") == "3 min"
    assert shown["Median sent → read"] == format_duration(statistics.median([65, 305]), "en") == "3 min"
    assert set(charts(app)) == sent_titles | {"Time to read", "Reads by weekday and hour"}

    # a new search keeps it open: the insights follow the search (only the delivered, unread message)
    app.multiselect(key="mt.status").set_value(["delivered"]).run()
    assert app.session_state[MT_OPEN_KEY] is True
    shown = metrics(app)
    assert shown["Unique recipients"] == "1"
    assert shown["Median sent → read"] == "–"
    assert ("No read message of this search has a read time: no time to read and no reading hours to show."
            in [c.value for c in app.main.caption])

    with statements() as sent:  # the Received page: closed by default too, three cards
        app.switch_page("../pages/received.py").run()
    assert "Unique senders and best hours" in [e.label for e in app.get("expander")]
    assert list(metrics(app)) == ["Replies", "Clicks", "Click share"]
    assert "Replies by weekday and hour" not in charts(app)
    assert sent and insight_statements(sent) == []

    app.session_state[MO_OPEN_KEY] = True
    app.run()
    assert metrics(app)["Unique senders"] == str(len({m["phone"] for m in mos})) == "2"
    heat = charts(app)["Replies by weekday and hour"]["data"][0]
    assert [tuple(row) for row in heat["z"]] == list(grid([m["received_at"] for m in mos], "America/Sao_Paulo"))
