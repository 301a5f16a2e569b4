"""Charts shared across sessions (pages/shared_charts.py), driven with AppTest on both engines: two
sessions asking the same search share one build of its charts; an ingest (a new data version) shows
on the next interaction of a session whose charts were cached; accounts with different scopes asking
the same search each get their own figures, never another's.

Expected figures are counted here from the rows each test made. The number of builds is counted by
wrapping the real figure builder (nothing else is replaced).
"""
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from data_access import accounts
from data_access.ingest.loader import ingest_paths
from pages import insights_view, shared_charts
from pages.chart_filter import picked
from tests.factories import at, mt_row, open_shop
from tests.test_pages import results, total_line
from tests.test_pages_saved_accounts import signed_in

ROOT = Path(__file__).resolve().parent.parent
WEEK = {"from": "2026-11-09", "to": "2026-11-15", "lang": "en"}
MTS = [
    mt_row(message_id="v1", sent_at=at(10), status="read", subaccount="Varejo"),
    mt_row(message_id="v2", sent_at=at(11), status="delivered", subaccount="Varejo"),
    mt_row(message_id="v3", sent_at=at(11), status="undelivered", subaccount="Varejo", error_code="131049"),
    mt_row(message_id="a1", sent_at=at(12), status="read", subaccount="Atacado"),
    mt_row(message_id="a2", sent_at=at(13), status="sent", subaccount="Atacado"),
]
DELIVERED = ("delivered", "read")


def funnel_of(rows: list[dict]) -> list[int]:
    """Sent, delivered, read, replied (no replies in these rows), counted from the rows."""
    return [len(rows), sum(r["status"] in DELIVERED for r in rows), sum(r["status"] == "read" for r in rows), 0]


def funnel_shown(app: AppTest) -> list[int]:
    return json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]["x"]


def statuses_shown(app: AppTest) -> dict[str, int]:
    bars = json.loads(app.get("plotly_chart")[1].proto.spec)["data"][0]
    return dict(zip(bars["y"], bars["x"]))


@pytest.fixture
def builds(monkeypatch) -> list[int]:
    """Counts the builds of the Sent page's figures (the real builder does the work)."""
    made: list[int] = []
    real = shared_charts.build

    def counted(shown, report, lang):
        made.append(report.totals.total)
        return real(shown, report, lang)

    monkeypatch.setattr(shared_charts, "build", counted)
    return made


@pytest.fixture
def shop(engine, db_url, monkeypatch) -> Iterator:
    open_shop(engine, db_url, monkeypatch, MTS)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield engine
    st.cache_data.clear()
    st.cache_resource.clear()


def open_sent(email: str | None) -> AppTest:
    """A new session on /sent: signed in as `email`, or the open loopback demo (no account exists)."""
    if email is not None:
        return signed_in(email, WEEK)
    app = AppTest.from_file(str(ROOT / "router" / "dashboard.py"), default_timeout=60)
    app.query_params.update(WEEK)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def meta_status(message_id: str, status: str, when: datetime) -> str:
    """One Meta status webhook, as the provider posts it (one line of an ingest file)."""
    value = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881",
                                                          "phone_number_id": "106540352242922"},
             "statuses": [{"id": message_id, "status": status, "timestamp": str(int(when.timestamp())),
                           "recipient_id": "5511911112222"}]}
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]})


def test_sessions_share_the_charts_and_an_ingest_shows_on_the_next_interaction(shop, builds, tmp_path):
    first, second = open_sent(None), open_sent(None)
    assert total_line(first) == total_line(second) == results(5, "en")
    assert funnel_shown(first) == funnel_shown(second) == funnel_of(MTS) == [5, 3, 2, 0]
    assert builds == [5]  # one build for both sessions
    # each chart carries the template of the traces it draws (plotly_white has no funnel defaults),
    # not plotly's defaults for every kind of trace
    specs = [json.loads(chart.proto.spec) for chart in first.get("plotly_chart")]
    assert [set(spec["layout"]["template"].get("data", ())) for spec in specs] == [set(), {"bar"}, {"scatter"}]

    webhooks = tmp_path / "webhooks.jsonl"
    webhooks.write_text(meta_status("wamid.new-1", "read", at(14)) + "\n"
                        + meta_status("wamid.new-2", "delivered", at(14, 13)) + "\n")
    summary = ingest_paths(shop, [webhooks], writer="thread", stderr=io.StringIO())
    assert (summary.total.accepted, summary.total.rejected) == (2, 0)
    added = [{"status": "read"}, {"status": "delivered"}]

    first.run()  # the next interaction of a session whose charts were cached
    assert total_line(first) == results(7, "en")
    assert funnel_shown(first) == funnel_of([*MTS, *added]) == [7, 5, 3, 0]
    assert statuses_shown(first) == {"Read": 3, "Delivered": 2, "Not delivered": 1, "Sent": 1}
    second.run()
    assert funnel_shown(second) == [7, 5, 3, 0]
    assert builds == [5, 7]


def test_accounts_with_other_scopes_never_share_a_search_s_charts(shop, builds):
    for email, (role, subaccounts) in {"bia@example.com": ("analyst", ("Varejo",)),
                                       "caio@example.com": ("analyst", ("Atacado",))}.items():
        accounts.add_account(shop, email, role, subaccounts=subaccounts, password="a long password")
    varejo = [r for r in MTS if r["subaccount"] == "Varejo"]
    atacado = [r for r in MTS if r["subaccount"] == "Atacado"]

    bia = open_sent("bia@example.com")
    caio = open_sent("caio@example.com")  # the same link, asked second
    bia_again = open_sent("bia@example.com")
    assert [total_line(a) for a in (bia, caio, bia_again)] == [results(3, "en"), results(2, "en"), results(3, "en")]
    assert funnel_shown(bia) == funnel_shown(bia_again) == funnel_of(varejo) == [3, 2, 1, 0]
    assert funnel_shown(caio) == funnel_of(atacado) == [2, 1, 1, 0]
    assert statuses_shown(bia) == {"Read": 1, "Delivered": 1, "Not delivered": 1}
    assert statuses_shown(caio) == {"Read": 1, "Sent": 1}
    assert builds == [3, 2]  # one build per scope; the second Varejo session shared the first's


def test_a_click_filter_in_one_session_leaves_the_shared_figures_as_built(shop, monkeypatch):
    """Two sessions share one search's figures; a click on a status bar in one of them (what its
    callback does: the bar's `customdata` into the status filter) filters that session alone, and the
    figures every session shares stay the very objects built, unchanged."""
    shared: list[shared_charts.Charts] = []
    as_built: list[dict[str, str]] = []  # each build's figures as they left the builder
    real = shared_charts.build

    def kept(shown, report, lang):
        shared.append(real(shown, report, lang))
        as_built.append({name: figure.to_json() for name, figure in shared[-1].figures.items()})
        return shared[-1]

    monkeypatch.setattr(shared_charts, "build", kept)
    first, second = open_sent(None), open_sent(None)
    assert len(shared) == 1
    bars = json.loads(first.get("plotly_chart")[1].proto.spec)["data"][0]
    codes = dict(zip(bars["y"], bars["customdata"]))
    assert codes == {"Read": "read", "Delivered": "delivered", "Not delivered": "undelivered", "Sent": "sent"}
    funnel = json.loads(first.get("plotly_chart")[0].proto.spec)["data"][0]
    assert funnel["customdata"] == ["", "delivered,read", "read", None]

    first.multiselect(key="mt.status").set_value(list(picked("status", [{"customdata": codes["Read"]}]))).run()
    assert total_line(first) == results(2, "en")
    assert funnel_shown(first) == funnel_of([r for r in MTS if r["status"] == "read"]) == [2, 2, 2, 0]
    second.run()
    assert total_line(second) == results(5, "en")
    assert funnel_shown(second) == [5, 3, 2, 0]
    assert len(shared) == 2  # the filtered search's own build; the first search's was not rebuilt
    assert json.loads(second.get("plotly_chart")[1].proto.spec)["data"][0]["customdata"] == bars["customdata"]
    for charts, built in zip(shared, as_built):
        assert {name: figure.to_json() for name, figure in charts.figures.items()} == built


def test_sessions_share_the_insight_figures_of_a_search(shop, monkeypatch):
    """The insight charts (time to read, reads by weekday and hour) of a search are built once for
    every session that opens them, in its language; another language is another build."""
    read_at = {"v1": at(10, 13), "a1": at(12, 15)}  # an hour, then three, after sending (at(day) is noon)
    with shop.begin() as conn:
        for message_id, when in read_at.items():
            conn.execute(sa.text("UPDATE mt_message SET read_at = :t WHERE message_id = :m"),
                         {"t": when, "m": message_id})
    made: list[str] = []
    real = insights_view.mt_insight_figures

    def counted(insights, lang):
        made.append(lang)
        return real(insights, lang)

    monkeypatch.setattr(insights_view, "mt_insight_figures", counted)
    first, second = open_sent(None), open_sent(None)
    assert made == [] and len(first.get("plotly_chart")) == 3  # the insights are closed: nothing built
    for app in (first, second):  # each person opens the insights expander
        app.session_state[insights_view.MT_OPEN_KEY] = True
        app.run()
    delays = [json.loads(app.get("plotly_chart")[3].proto.spec)["data"] for app in (first, second)]
    assert delays[0] == delays[1]
    assert [sum(trace["y"]) for trace in delays[0]] == [0, 2]  # no delivery times; both read from sending
    assert made == ["en"]
    second.selectbox(key="lang").set_value("pt-BR").run()
    assert made == ["en", "pt-BR"]  # still open in pt-BR: its figures are built once for the new language
