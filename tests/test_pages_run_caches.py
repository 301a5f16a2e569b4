"""What each run of a report page takes from the shared caches (pages/data.py, pages/shared_charts.py,
pages/widgets.py), driven with AppTest on both engines: the caches are keyed by the filter value's
`search_key`, which names the account's scope, so accounts with other scopes asking the same link never
see each other's failure reasons, chart tables or detail rows; the same scope asking again gets the rows
it got, from the cache.

Expected values are counted here from the rows each test made.
"""
import dataclasses
from collections.abc import Iterator
from datetime import date

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data_access.detail import TableOrder
from data_access.filters import MoFilters, MtFilters
from data_access.i18n import label, t
from data_access.scope import Scope
from data_access.views import VIEWS
from pages import data
from pages.data import search_key
from tests.factories import at, mt_row, open_shop
from tests.test_pages import results, total_line
from tests.test_pages_saved_accounts import signed_in

WEEK = {"from": "2026-11-09", "to": "2026-11-15", "lang": "en"}
MTS = [
    mt_row(sent_at=at(10), status="read", subaccount="Varejo", campaign="v-read"),
    mt_row(sent_at=at(11), status="undelivered", subaccount="Varejo", campaign="v-undelivered-1",
           error_code="131049", error_title="Not delivered to keep a healthy ecosystem"),
    mt_row(sent_at=at(12), status="undelivered", subaccount="Varejo", campaign="v-undelivered-2",
           error_code="131049", error_title="Not delivered to keep a healthy ecosystem"),
    mt_row(sent_at=at(12, 13), status="invalid_number", subaccount="Atacado", campaign="a-invalid",
           error_code="131026", error_title="Message undeliverable"),
    mt_row(sent_at=at(13), status="sent", subaccount="Atacado", campaign="a-sent"),
]
FAILED = ("undelivered", "invalid_number")


@pytest.fixture
def shop(engine, db_url, monkeypatch) -> Iterator:
    open_shop(engine, db_url, monkeypatch, MTS,
              {"bia@example.com": ("analyst", ("Varejo",)), "caio@example.com": ("analyst", ("Atacado",))})
    st.cache_data.clear()
    st.cache_resource.clear()
    yield engine
    st.cache_data.clear()
    st.cache_resource.clear()


def failure_reasons(rows: list[dict]) -> list[list[str]]:
    """Status, count, error code per failure reason, counted from the rows (largest count first)."""
    counted: dict[tuple[str, str], int] = {}
    for row in rows:
        if row["status"] in FAILED:
            key = (row["status"], row["error_code"])
            counted[key] = counted.get(key, 0) + 1
    ordered = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    return [[label("status", status, "en"), str(n), code] for (status, code), n in ordered]


def reasons_shown(app: AppTest) -> list[list[str]]:
    frame = app.main.dataframe[0].value
    return frame[[t("filter.status", "en"), t("chart.count", "en"), t("chart.error_code", "en")]].values.tolist()


def campaigns_shown(app: AppTest) -> list[str]:
    return list(app.main.dataframe[-1].value[t("column.mt.campaign", "en")])


def newest_first(rows: list[dict]) -> list[str]:
    return [row["campaign"] for row in sorted(rows, key=lambda row: row["sent_at"], reverse=True)]


def test_search_key_names_the_view_every_field_and_the_scope():
    week = {"date_from": date(2026, 11, 9), "date_to": date(2026, 11, 15)}
    varejo = MtFilters(**week, status=("read",), scope=Scope(subaccounts=("Varejo",)))
    assert search_key(varejo) == search_key(MtFilters(**week, status=("read",), scope=Scope(subaccounts=("Varejo",))))
    others = [
        MtFilters(**week, status=("read",), scope=Scope(subaccounts=("Atacado",))),
        MtFilters(**week, status=("read",), scope=Scope(subaccounts=("Atacado", "Varejo"))),
        MtFilters(**week, status=("read",), scope=Scope.ALL),
        MtFilters(**week, status=("read", "sent"), scope=Scope(subaccounts=("Varejo",))),
        MtFilters(**week, status=("read",), tz="UTC", scope=Scope(subaccounts=("Varejo",))),
        MtFilters(date_from=date(2026, 11, 9), date_to=date(2026, 11, 16), status=("read",),
                  scope=Scope(subaccounts=("Varejo",))),
        MoFilters(**week, scope=Scope(subaccounts=("Varejo",))),
        MtFilters(**week, scope=Scope(subaccounts=("Varejo",))),
    ]
    keys = [search_key(value) for value in (varejo, *others)]
    assert len(set(keys)) == len(keys) == 9
    assert search_key(TableOrder("status", False, "oi")) != search_key(TableOrder("status", True, "oi"))
    assert search_key(TableOrder(None, True, "")) == search_key(TableOrder())


def test_every_field_of_a_search_shows_in_its_key():
    """`search_key` is the `repr`: a field left out of it (`field(repr=False)`) would let two searches,
    or two scopes, share a cached answer."""
    classes = {view.filters for view in VIEWS.values()} | {Scope, TableOrder}
    hidden = [(cls.__name__, field.name) for cls in classes for field in dataclasses.fields(cls) if not field.repr]
    assert len(classes) == len(VIEWS) + 2 and hidden == []


def test_accounts_with_other_scopes_never_share_failure_reasons_chart_tables_or_detail_rows(shop, monkeypatch):
    reports: list[str] = []  # each report the database was asked for, by the scope asking
    real = data.with_connection

    def counted(engine, work, *args):
        if work is data.view("mt").report:
            reports.append(args[0].scope.subaccounts)
        return real(engine, work, *args)

    monkeypatch.setattr(data, "with_connection", counted)
    varejo = [r for r in MTS if r["subaccount"] == "Varejo"]
    atacado = [r for r in MTS if r["subaccount"] == "Atacado"]

    bia = signed_in("bia@example.com", WEEK)
    caio = signed_in("caio@example.com", WEEK)  # the same link, asked second
    bia_again = signed_in("bia@example.com", WEEK)
    assert [total_line(a) for a in (bia, caio, bia_again)] == [results(3, "en"), results(2, "en"), results(3, "en")]
    assert reports == [("Varejo",), ("Atacado",)]  # the second Varejo session's report came from the cache

    assert reasons_shown(bia) == reasons_shown(bia_again) == failure_reasons(varejo) == [["Not delivered", "2", "131049"]]
    assert reasons_shown(caio) == failure_reasons(atacado) == [["Invalid destination number", "1", "131026"]]
    assert campaigns_shown(bia) == campaigns_shown(bia_again) == newest_first(varejo)
    assert newest_first(varejo) == ["v-undelivered-2", "v-undelivered-1", "v-read"]
    assert campaigns_shown(caio) == newest_first(atacado) == ["a-sent", "a-invalid"]
    # the status chart's numbers under it (its "show data" table), per scope
    status_tables = [app.get("table")[1].value for app in (bia, caio, bia_again)]
    assert [dict(zip(table.index, table[t("chart.count", "en")])) for table in status_tables] == [
        {"Not delivered": "2", "Read": "1"}, {"Invalid destination number": "1", "Sent": "1"}, {"Not delivered": "2", "Read": "1"}]
