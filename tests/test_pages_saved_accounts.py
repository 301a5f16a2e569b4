"""Saved searches per account in the pages (SPEC 9), driven with AppTest on both engines: each account
lists its own searches and those its manager shared with its subaccounts, changes only its own, and
applies a shared search with its own scope.

AppTest cannot send the session cookie, so the script below is the router of `router/dashboard.py` with the
sign-in check replaced by the account it names; the pages themselves run unchanged.
"""
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data_access import saved_searches as saved
from data_access.filters import MtFilters
from data_access.saved_searches import SavedSearchError
from tests.factories import at, mt_row, open_shop
from tests.test_pages import results, total_line

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = """
import sys
sys.path.insert(0, {root!r})
import streamlit as st
from data_access import accounts
from data_access.views import VIEWS
from pages import run as runs
from pages.data import database_engine

run = runs.start_run()
account = accounts.get_account(database_engine(), {email!r})
run = runs.signed_in(run, account, account.scope)
sent = st.Page({sent!r}, url_path="sent", default=True)
received = st.Page({received!r}, url_path="received")
page = st.navigation([sent, received], position="top")
runs.routed(run, VIEWS["mt"] if page is sent else VIEWS["mo"])
page.run()
"""
WEEK = {"from": "2026-11-09", "to": "2026-11-15"}
MTS = [
    mt_row(sent_at=at(10), subaccount="Varejo", campaign="Natal"),
    mt_row(sent_at=at(11), subaccount="Varejo", campaign="Natal"),
    mt_row(sent_at=at(11), subaccount="Varejo", campaign="Outra"),
    mt_row(sent_at=at(12), subaccount="Atacado", campaign="Natal"),
    mt_row(sent_at=at(13), subaccount="Atacado", campaign="Natal"),
    mt_row(sent_at=at(13), subaccount="Atacado", campaign="Natal"),
]
ACCOUNTS = {  # email: (role, subaccounts)
    "gil@example.com": ("manager", ("Varejo",)),
    "bia@example.com": ("analyst", ("Varejo",)),
    "caio@example.com": ("analyst", ("Atacado",)),
}


@pytest.fixture
def shop(engine, db_url, monkeypatch) -> Iterator:
    open_shop(engine, db_url, monkeypatch, MTS, ACCOUNTS)
    yield engine
    st.cache_data.clear()
    st.cache_resource.clear()


# One report page (chat, opt-out) under the same router, signed in as the account named.
ONE_PAGE_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
import streamlit as st
from data_access import accounts
from pages import run as runs
from pages.data import database_engine

run = runs.start_run()
account = accounts.get_account(database_engine(), {email!r})
run = runs.signed_in(run, account, account.scope)
st.navigation([st.Page({page!r}, url_path={path!r}, default=True)], position="top").run()
"""


def signed_in_on(page: str, path: str, email: str, params: dict) -> AppTest:
    """The page script `page` (named from the router's folder, as for `switch_page`) at `/path`, run
    signed in as `email`."""
    page_file = (ROOT / "router" / page).resolve()
    script = ONE_PAGE_SCRIPT.format(root=str(ROOT), email=email, page=str(page_file), path=path)
    app = AppTest.from_string(script, default_timeout=60)
    app.query_params.update(params)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def signed_in(email: str, params: dict) -> AppTest:
    script = SCRIPT.format(root=str(ROOT), email=email, sent=str(ROOT / "pages" / "sent.py"),
                           received=str(ROOT / "pages" / "received.py"))
    app = AppTest.from_string(script, default_timeout=60)
    app.query_params.update(params)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def save(app: AppTest, name: str, share: bool | None = None) -> None:
    app.text_input(key="mt.saved.name").input(name)
    if share is not None:
        app.checkbox(key="mt.saved.shared").set_value(share)
    app.button(key="mt.saved.save").click().run()
    assert not app.exception, [e.value for e in app.exception]


def picks(app: AppTest) -> list[str]:
    return app.selectbox(key="mt.saved.pick").options


def keys(app: AppTest) -> set[str]:
    return {b.key for b in app.button} | {c.key for c in app.checkbox}


def natal(rows, subaccounts) -> int:
    return sum(1 for r in rows if r["campaign"] == "Natal" and r["subaccount"] in subaccounts)


def test_a_manager_shares_and_each_account_sees_and_changes_what_it_may(shop):
    manager = signed_in("gil@example.com", {**WEEK, "campaign": "Natal"})
    assert total_line(manager) == results(natal(MTS, {"Varejo"}), "pt-BR")  # 2: the manager's scope
    assert manager.checkbox(key="mt.saved.shared").label == "Compartilhar com minhas subcontas"
    save(manager, "Natal da equipe", share=True)
    save(manager, "Rascunho do Gil", share=False)
    assert [(s.name, s.owner, s.shared) for s in saved.list_searches(shop, "gil@example.com", "mt")] == [
        ("Natal da equipe", "gil@example.com", True), ("Rascunho do Gil", "gil@example.com", False)]
    # a search the manager saved naming every subaccount, shared: applied, each sees only its scope
    saved.save(shop, "Natal de todas", MtFilters(date_from=date(2026, 11, 9), date_to=date(2026, 11, 15),
                                                 campaign=("Natal",), subaccount=("Varejo", "Atacado")),
               "pt-BR", owner="gil@example.com", shared=True)

    analyst = signed_in("bia@example.com", WEEK)
    assert "mt.saved.shared" not in keys(analyst)  # an analyst shares nothing
    save(analyst, "Minha busca")
    assert picks(analyst) == ["Minha busca", "Natal da equipe", "Natal de todas"]  # own first; no private of Gil
    analyst.selectbox(key="mt.saved.pick").set_value("Natal de todas").run()
    assert "Compartilhada por `gil@example.com`" in [c.value for c in analyst.sidebar.caption]
    assert not {"mt.saved.delete", "mt.saved.rename", "mt.saved.overwrite"} & keys(analyst)  # not its own
    analyst.button(key="mt.saved.apply").click().run()
    assert total_line(analyst) == results(natal(MTS, {"Varejo"}), "pt-BR")  # 2, not the 5 the search names
    with pytest.raises(SavedSearchError, match="only its owner can change it"):
        saved.delete(shop, "Natal de todas", "bia@example.com")
    with pytest.raises(SavedSearchError, match="unknown saved search 'Rascunho do Gil'"):
        saved.delete(shop, "Rascunho do Gil", "bia@example.com")

    other = signed_in("caio@example.com", WEEK)  # no subaccount in common with Gil: nothing shared
    assert "mt.saved.pick" not in {s.key for s in other.selectbox}
    assert [c.value for c in other.sidebar.caption if c.value == "Nenhuma busca salva."] == ["Nenhuma busca salva."]

    # the manager unshares from the page; the analyst's list follows; the owner still deletes its own
    manager = signed_in("gil@example.com", WEEK)
    manager.selectbox(key="mt.saved.pick").set_value("Natal da equipe").run()
    share_key = f"mt.saved.share.{saved.get(shop, 'Natal da equipe', 'gil@example.com').search_id}"
    manager.checkbox(key=share_key).uncheck().run()
    assert [m.value for m in manager.sidebar.success] == ["Busca `Natal da equipe` deixou de ser compartilhada."]
    assert picks(signed_in("bia@example.com", WEEK)) == ["Minha busca", "Natal de todas"]
    manager.selectbox(key="mt.saved.pick").set_value("Rascunho do Gil").run()
    manager.button(key="mt.saved.delete").click().run()
    manager.button(key="mt.saved.confirm_delete").click().run()
    assert [s.name for s in saved.list_searches(shop, "gil@example.com", "mt")] == ["Natal da equipe", "Natal de todas"]
    assert [s.name for s in saved.list_searches(shop, "bia@example.com", "mt")] == ["Minha busca", "Natal de todas"]
