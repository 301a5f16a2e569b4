"""The "Buscas salvas" sidebar section driven with AppTest against a real database: save, reload the
app (a new AppTest on the same database), apply; relative periods under a fixed clock; rename,
overwrite and delete; names that look like markup, formulas or SQL.

Expected totals are counted here, in Python, from the rows each test made; local days come from
zoneinfo. The clock is fixed by replacing `data_access.filters.today_in`, the one function the
default period and the saved searches' relative periods read.
"""
from collections.abc import Callable, Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from data_access import filters as clock
from data_access import saved_searches as saved
from data_access.engine import open_database
from data_access.filters import MoFilters, MtFilters
from tests.factories import at, insert, mo_row, mt_row
from tests.test_pages import open_app, results, total_line

SAO_PAULO = "America/Sao_Paulo"
TODAY = date(2026, 11, 25)


def mt(when: datetime, status: str, campaign: str) -> dict:
    return mt_row(sent_at=when, status=status, campaign=campaign)


MTS = [
    mt(at(10, 12), "read", "Black Friday"),
    mt(at(10, 13), "delivered", "Black Friday"),
    mt(at(11, 2, 30), "read", "Black Friday"),  # 23:30 on the 10th in São Paulo, the 11th in UTC
    mt(at(11, 15), "read", "Natal"),
    mt(at(11, 16), "read", "Black Friday"),
    mt(at(12, 1), "read", "Black Friday"),  # 22:00 on the 11th in São Paulo, the 12th in UTC
    mt(at(20, 12), "read", "Black Friday"),
    mt(at(24, 12), "sent", "Natal"),
    mt(at(28, 12), "read", "Natal"),
    mt(at(2, 12, month=12), "delivered", "Natal"),
    mt(at(3, 12, month=12), "read", "Black Friday"),
]
MOS = [
    mo_row(received_at=at(10, 15), content_type="button", button_text="Sim, quero", campaign="Black Friday"),
    mo_row(received_at=at(11, 15), content_type="button", button_text="Sim, quero", campaign="Black Friday"),
    mo_row(received_at=at(11, 16), content_type="button", button_text="Não, obrigado", campaign="Black Friday"),
    mo_row(received_at=at(11, 17), content_type="text"),
]


def count(rows: list[dict], time_field: str, start: date, end: date, tz: str = SAO_PAULO,
          keep: Callable[[dict], bool] = lambda r: True) -> int:
    zone = ZoneInfo(tz)
    return sum(1 for r in rows if start <= r[time_field].astimezone(zone).date() <= end and keep(r))


def fix_today(monkeypatch, today: date) -> None:
    monkeypatch.setattr(clock, "today_in", lambda tz: today)


@pytest.fixture(autouse=True)
def _clean_settings(monkeypatch) -> Iterator[None]:
    """No stray REPORT_* settings; today is TODAY; caches emptied after each test."""
    monkeypatch.delenv("REPORT_LANG", raising=False)
    monkeypatch.delenv("REPORT_TZ", raising=False)
    fix_today(monkeypatch, TODAY)
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def duck(tmp_path, monkeypatch) -> Iterator[Engine]:
    """A DuckDB report database with MTS and MOS, opened by the app through DATABASE_URL."""
    url = f"duckdb:///{tmp_path / 'report.duckdb'}"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = open_database(url)
    insert(engine, MTS, MOS)
    yield engine
    engine.dispose()


def save(app: AppTest, name: str, range_kind: str = "fixed", view: str = "mt") -> AppTest:
    app.text_input(key=f"{view}.saved.name").input(name)
    app.selectbox(key=f"{view}.saved.range").set_value(range_kind)
    app.button(key=f"{view}.saved.save").click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def apply(app: AppTest, name: str, view: str = "mt") -> AppTest:
    app.selectbox(key=f"{view}.saved.pick").set_value(name)
    app.button(key=f"{view}.saved.apply").click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def messages(app: AppTest) -> list[str]:
    return [m.value for kind in ("success", "error", "warning") for m in getattr(app.sidebar, kind)]


def names_in_db(engine: Engine, view: str = "mt") -> list[str]:
    return [s.name for s in saved.list_searches(engine, view=view)]


def names_in_ui(app: AppTest, view: str = "mt") -> list[str]:
    return app.selectbox(key=f"{view}.saved.pick").options


# -- save, reload, apply ------------------------------------------------------------------------


def test_a_saved_search_applies_after_a_reload(db_url, engine, monkeypatch):
    """Saved in Spanish and UTC; applied in a new session that opened in pt-BR and São Paulo."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    insert(engine, MTS)
    name = "Lidas da Black Friday 🎯"
    app = open_app({"from": "2026-11-11", "to": "2026-11-11", "status": "read", "campaign": "Black Friday",
                    "lang": "es", "tz": "UTC"})
    n = count(MTS, "sent_at", date(2026, 11, 11), date(2026, 11, 11), "UTC",
              lambda r: r["status"] == "read" and r["campaign"] == "Black Friday")
    assert n == 2  # 02:30 and 16:00 UTC on the 11th
    assert total_line(app) == results(n, "es")

    save(app, name)
    assert messages(app) == [f"Búsqueda `{name}` guardada."]
    assert names_in_db(engine) == [name] and names_in_ui(app) == [name]
    stored = saved.get(engine, name)
    assert (stored.view, stored.lang, stored.range_kind) == ("mt", "es", "fixed")
    assert stored.filters() == MtFilters(date_from=date(2026, 11, 11), date_to=date(2026, 11, 11), tz="UTC",
                                         status=("read",), campaign=("Black Friday",))
    assert app.sidebar.caption[-1].value == "Período fijo: 11/11/2026 – 11/11/2026 · Español · `UTC`"
    assert app.text_input(key="mt.saved.name").value == ""

    reloaded = open_app({})
    week = count(MTS, "sent_at", date(2026, 11, 19), date(2026, 11, 25))
    assert week == 2  # the 20th and the 24th
    assert total_line(reloaded) == results(week)
    assert names_in_ui(reloaded) == [name]

    apply(reloaded, name)
    assert total_line(reloaded) == results(n, "es")
    assert messages(reloaded) == [f"Búsqueda `{name}` aplicada."]
    assert reloaded.title[0].value == "Informe Detallado – Enviado (MT)"
    assert reloaded.selectbox(key="lang").value == "es"
    assert reloaded.selectbox(key="tz").value == "UTC"
    assert reloaded.multiselect(key="mt.status").value == ["read"]
    assert reloaded.multiselect(key="mt.campaign").value == ["Black Friday"]
    assert reloaded.sidebar.date_input[0].value == (date(2026, 11, 11), date(2026, 11, 11))
    assert reloaded.query_params == {"from": "2026-11-11", "to": "2026-11-11", "tz": "UTC",
                                     "campaign": "Black Friday", "status": "read", "lang": "es"}


@pytest.mark.parametrize("kind, caption, saved_on, applied_on, expected_period", [
    ("last_7_days", "Últimos 7 dias", (date(2026, 11, 19), date(2026, 11, 25)),
     date(2026, 12, 3), (date(2026, 11, 27), date(2026, 12, 3))),
    ("last_month", "Mês passado", (date(2026, 10, 1), date(2026, 10, 31)),
     date(2026, 12, 3), (date(2026, 11, 1), date(2026, 11, 30))),
    ("yesterday", "Ontem", (date(2026, 11, 24), date(2026, 11, 24)),
     date(2026, 11, 11), (date(2026, 11, 10), date(2026, 11, 10))),
])
def test_a_relative_period_moves_with_the_calendar(duck, monkeypatch, kind, caption, saved_on, applied_on,
                                                   expected_period):
    app = open_app({"status": "read"})
    save(app, f"Lidas: {kind}", kind)
    stored = saved.get(duck, f"Lidas: {kind}")
    assert stored.range_kind == kind
    assert stored.params["from"] == [date(2026, 11, 19).isoformat()]  # the period on screen when saved
    as_of_today = stored.filters(today=TODAY)
    assert (as_of_today.date_from, as_of_today.date_to) == saved_on
    assert app.sidebar.caption[-1].value == f"Período relativo: {caption} · Português (Brasil) · `{SAO_PAULO}`"

    fix_today(monkeypatch, applied_on)
    later = open_app({})
    apply(later, f"Lidas: {kind}")
    start, end = expected_period
    n = count(MTS, "sent_at", start, end, keep=lambda r: r["status"] == "read")
    assert n > 0
    assert total_line(later) == results(n)
    assert later.sidebar.date_input[0].value == expected_period
    assert (later.query_params["from"], later.query_params["to"]) == (start.isoformat(), end.isoformat())


# -- rename, overwrite, delete ------------------------------------------------------------------


def test_rename_overwrite_and_delete(duck):
    app = open_app({"from": "2026-11-10", "to": "2026-11-12", "status": "read"})
    save(app, "A")
    app.multiselect(key="mt.status").set_value([]).run()
    app.multiselect(key="mt.campaign").set_value(["Natal"]).run()
    save(app, "B")
    assert names_in_db(duck) == names_in_ui(app) == ["A", "B"]
    assert app.selectbox(key="mt.saved.pick").value == "B"

    app.text_input(key="mt.saved.new_name").input("A")
    app.button(key="mt.saved.rename").click().run()
    assert messages(app) == ["Nada foi alterado: já existe uma busca chamada `A`: escolha outro nome"]
    assert app.text_input(key="mt.saved.new_name").value == "A"  # what was typed is kept
    assert names_in_db(duck) == ["A", "B"]

    app.text_input(key="mt.saved.new_name").input("Campanha de Natal")
    app.button(key="mt.saved.rename").click().run()
    assert messages(app) == ["Busca renomeada para `Campanha de Natal`."]
    assert names_in_db(duck) == names_in_ui(app) == ["A", "Campanha de Natal"]
    assert app.selectbox(key="mt.saved.pick").value == "Campanha de Natal"
    assert app.text_input(key="mt.saved.new_name").value == ""
    assert saved.get(duck, "Campanha de Natal").filters().campaign == ("Natal",)

    # A now gets the filters on screen (Natal), keeping its fixed period kind
    app.selectbox(key="mt.saved.pick").set_value("A").run()
    app.sidebar.date_input[0].set_value((date(2026, 11, 11), date(2026, 11, 11))).run()
    app.button(key="mt.saved.overwrite").click().run()
    assert messages(app) == ["Busca `A` atualizada com os filtros atuais."]
    overwritten = saved.get(duck, "A")
    assert overwritten.range_kind == "fixed"
    assert overwritten.filters() == MtFilters(date_from=date(2026, 11, 11), date_to=date(2026, 11, 11),
                                              tz=SAO_PAULO, campaign=("Natal",))
    fresh = apply(open_app({}), "A")
    n = count(MTS, "sent_at", date(2026, 11, 11), date(2026, 11, 11), keep=lambda r: r["campaign"] == "Natal")
    assert n == 1
    assert total_line(fresh) == results(n)

    app.selectbox(key="mt.saved.pick").set_value("Campanha de Natal").run()
    app.button(key="mt.saved.delete").click().run()
    assert messages(app) == ["Excluir a busca `Campanha de Natal`?"]
    assert names_in_db(duck) == ["A", "Campanha de Natal"]  # nothing deleted before the confirmation
    app.button(key="mt.saved.cancel_delete").click().run()
    assert messages(app) == []
    assert names_in_db(duck) == names_in_ui(app) == ["A", "Campanha de Natal"]

    app.button(key="mt.saved.delete").click().run()
    app.button(key="mt.saved.confirm_delete").click().run()
    assert messages(app) == ["Busca `Campanha de Natal` excluída."]
    assert names_in_db(duck) == names_in_ui(app) == ["A"]

    app.button(key="mt.saved.delete").click().run()
    app.button(key="mt.saved.confirm_delete").click().run()
    assert names_in_db(duck) == []
    assert app.sidebar.caption[-1].value == "Nenhuma busca salva."
    assert len(app.selectbox(key="mt.saved.range").options) == 7  # the save form stays


def test_a_taken_or_blank_name_is_refused_and_nothing_is_lost(duck):
    app = open_app({"from": "2026-11-10", "to": "2026-11-12", "status": "read"})
    save(app, "Lidas")
    app.multiselect(key="mt.status").set_value(["delivered"]).run()
    save(app, " Lidas ")
    assert messages(app) == [
        "Nada foi alterado: já existe uma busca chamada `Lidas`: sobrescreva-a ou escolha outro nome"]
    assert app.text_input(key="mt.saved.name").value == " Lidas "
    assert saved.get(duck, "Lidas").filters().status == ("read",)
    assert app.multiselect(key="mt.status").value == ["delivered"]

    save(app, "   ")
    assert messages(app) == ["Nada foi alterado: o nome de uma busca tem de 1 a 80 caracteres (este tem 0)"]
    assert names_in_db(duck) == ["Lidas"]


HOSTILE = [
    "<script>alert('x')</script>",
    '=HYPERLINK("http://evil.example","clique")',
    "'; DROP TABLE saved_search; --",
    "**negrito** :red[vermelho] $x$ `crase` 🎯",
    "返信した顧客 " + "ç" * 73,  # 80 characters
]


def test_hostile_names_stay_text(duck):
    app = open_app({"from": "2026-11-10", "to": "2026-11-12", "campaign": "Black Friday"})
    for name in HOSTILE:
        save(app, name)
        assert app.sidebar.success[0].value.startswith("Busca `")
    assert len(HOSTILE[-1]) == 80
    assert app.sidebar.success[0].value == f"Busca `{HOSTILE[-1]}` salva."
    assert sorted(names_in_db(duck)) == sorted(HOSTILE)
    assert names_in_ui(app) == names_in_db(duck)

    app.multiselect(key="mt.campaign").set_value([]).run()
    apply(app, HOSTILE[3])
    assert messages(app) == ["Busca ``**negrito** :red[vermelho] $x$ `crase` 🎯`` aplicada."]
    n = count(MTS, "sent_at", date(2026, 11, 10), date(2026, 11, 12), keep=lambda r: r["campaign"] == "Black Friday")
    assert n == 5
    assert total_line(app) == results(n)

    app.button(key="mt.saved.delete").click().run()
    assert messages(app) == ["Excluir a busca ``**negrito** :red[vermelho] $x$ `crase` 🎯``?"]
    app.button(key="mt.saved.confirm_delete").click().run()
    assert sorted(names_in_db(duck)) == sorted(HOSTILE[:3] + HOSTILE[4:])


# -- the Received page --------------------------------------------------------------------------


def test_each_page_lists_its_own_searches(duck):
    app = open_app({"from": "2026-11-10", "to": "2026-11-11"}, page="../pages/received.py")
    app.multiselect(key="mo.button").set_value(["Sim, quero"]).run()
    n = count(MOS, "received_at", date(2026, 11, 10), date(2026, 11, 11),
              keep=lambda r: r["button_text"] == "Sim, quero")
    assert n == 2
    assert total_line(app) == results(n)
    save(app, "Sim", view="mo")
    assert names_in_db(duck, "mo") == ["Sim"] and names_in_db(duck, "mt") == []
    assert saved.get(duck, "Sim").filters() == MoFilters(
        date_from=date(2026, 11, 10), date_to=date(2026, 11, 11), tz=SAO_PAULO, button=("Sim, quero",))

    sent = open_app({})
    assert sent.sidebar.caption[-1].value == "Nenhuma busca salva."
    received = apply(open_app({}, page="../pages/received.py"), "Sim", view="mo")
    assert total_line(received) == results(n)
    assert received.multiselect(key="mo.button").value == ["Sim, quero"]
