"""The report pages driven with AppTest against a real database: every filter, the shareable URL, the
language switch, the empty state and a database that is down or busy.

Expected figures are counted here, in Python, from the rows each test made (never by the product's
queries); local days are computed with zoneinfo from the UTC instants.
"""
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from data_access import filters as clock
from data_access.engine import open_database
from pages import data, notices
from pages.insights_view import MO_OPEN_KEY, MT_OPEN_KEY
from tests.factories import at, insert, mo_row, mt_row

APP = str(Path(__file__).resolve().parent.parent / "router" / "dashboard.py")  # pages named from its folder: "../pages/sent.py"
TZ = ZoneInfo("America/Sao_Paulo")
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
# "Today" for the tests that open the default period (the clock the app reads: `filters.today_in`).
TODAY = date(2026, 11, 20)
ERROR_131049 = "This message was not delivered to maintain healthy ecosystem engagement."


def mt(message_id: str, when: datetime, status: str, **fields) -> dict:
    fields.setdefault("phone", "+55319" + message_id[-2:].rjust(8, "0"))
    fields.setdefault("wa_user_id", fields["phone"][1:])
    return mt_row(message_id=message_id, sent_at=when, status=status, **fields)


MTS = [
    mt("mt01", at(10, 12), "read", subaccount="Varejo", user_name="ana.souza", campaign="Black Friday",
       correlation_id="pedido-001", phone="+5511911110001", conversation_id="conv-A",
       conversation_type="business_initiated"),
    mt("mt02", at(10, 13), "delivered", subaccount="Varejo", user_name="bruno.lima", campaign="Black Friday",
       content_type="text", sent_with_session=True, correlation_id="pedido-002", phone="+5511911110002",
       conversation_id="conv-A", conversation_type="user_initiated"),
    mt("mt03", at(10, 14), "sent", subaccount="Atacado", user_name="carla.dias", campaign="Natal",
       content_type="image", phone="+5521922220003"),
    mt("mt04", at(11, 15), "undelivered", subaccount="Atacado", user_name="carla.dias", campaign="Natal",
       error_code="131049", error_title=ERROR_131049, phone="+5521922220004", conversation_id="conv-B",
       conversation_type="business_initiated"),
    mt("mt05", at(11, 16), "opt_out", subaccount="Varejo", user_name="ana.souza", campaign=None,
       error_code="131050", error_title="User opted out of marketing messages", sent_with_session=None),
    mt("mt06", at(12, 17), "read", subaccount="Atacado", user_name="bruno.lima", campaign="Natal",
       sent_with_session=True, conversation_id="conv-C", conversation_type="free_entry_point"),
    mt("mt07", at(12, 18), "invalid_session", subaccount="Varejo", user_name="ana.souza", campaign="Black Friday",
       error_code="131047", error_title="Re-engagement message"),
    # 23:30 on the 11th in São Paulo, although the 12th in UTC.
    mt("mt08", at(12, 2, 30), "read", subaccount="Varejo", user_name="ana.souza", campaign="Black Friday"),
    mt("mt09", at(20, 12), "delivered", subaccount="Varejo", user_name="bruno.lima", campaign="Natal"),
]

MOS = [
    mo_row(message_id="mo01", in_reply_to="mt01", received_at=at(10, 15), content_type="button", button_payload="SIM",
           button_text="Sim, quero", campaign="Black Friday", template_name="promo_bf", subaccount="Varejo",
           user_name="ana.souza", phone="+5511911110001"),
    mo_row(message_id="mo02", in_reply_to="mt02", received_at=at(10, 16), content_type="button", button_payload="NAO",
           button_text="Não, obrigado", campaign="Black Friday", template_name="promo_bf", subaccount="Varejo",
           user_name="bruno.lima", phone="+5511911110002"),
    mo_row(message_id="mo03", in_reply_to="mt06", received_at=at(12, 18), content_type="interactive",
           button_payload="INFO", button_text="Saber mais", campaign="Natal", template_name="natal_tpl",
           subaccount="Atacado", user_name="bruno.lima", phone="+5531900000006"),
    mo_row(message_id="mo04", received_at=at(11, 12), content_type="text", phone="+5521988880004"),
    mo_row(message_id="mo05", received_at=at(11, 13), content_type="image", campaign="Natal", subaccount="Atacado",
           user_name="carla.dias", phone="+5521922220003"),
    mo_row(message_id="mo06", in_reply_to="mt08", received_at=at(12, 19), content_type="button", button_payload="SIM",
           button_text="Sim, quero", campaign="Black Friday", template_name="promo_bf", subaccount="Varejo",
           user_name="ana.souza", phone="+5511911110008"),
    mo_row(message_id="mo07", received_at=at(20, 12), content_type="text", phone="+5511911110009"),
]


def local_day(when: datetime) -> date:
    return when.astimezone(TZ).date()


def expected(rows: list[dict], time_field: str, keep: Callable[[dict], bool] = lambda r: True,
             start: date = date(2026, 11, 1), end: date = date(2026, 11, 30)) -> int:
    return sum(1 for r in rows if start <= local_day(r[time_field]) <= end and keep(r))


def results(n: int, lang: str = "pt-BR") -> str:
    word = {"pt-BR": ("resultado", "resultados"), "en": ("result", "results"), "es": ("resultado", "resultados")}[lang]
    return f"{n} {word[0] if n == 1 else word[1]}"


def pct(part: int, whole: int, lang: str = "pt-BR") -> str:
    text = f"{100 * part / whole:.1f}%"
    return text if lang == "en" else text.replace(".", ",")


@pytest.fixture(autouse=True)
def _clean_settings(monkeypatch) -> Iterator[None]:
    """No stray REPORT_* settings; caches emptied after each test."""
    monkeypatch.delenv("REPORT_LANG", raising=False)
    monkeypatch.delenv("REPORT_TZ", raising=False)
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def duck(tmp_path, monkeypatch) -> Iterator[Engine]:
    """An empty DuckDB report database that the app opens through DATABASE_URL."""
    url = f"duckdb:///{tmp_path / 'report.duckdb'}"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = open_database(url)
    yield engine
    engine.dispose()


@pytest.fixture
def dataset(duck) -> Engine:
    insert(duck, MTS, MOS)
    return duck


def open_app(params: dict[str, str | list[str]], page: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update(params)
    app.run()
    if page:
        app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def total_line(app: AppTest) -> str:
    return app.main.header[0].value


# -- the Sent page ------------------------------------------------------------------------------


def test_link_reproduces_a_search_on_both_engines(engine, db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    insert(engine, MTS, MOS)
    params = {"from": "2026-11-10", "to": "2026-11-12", "status": ["read", "opt_out"], "campaign": "Black Friday",
              "lang": "en"}
    app = open_app(params)
    n = expected(MTS, "sent_at", lambda r: r["status"] in ("read", "opt_out") and r["campaign"] == "Black Friday",
                 date(2026, 11, 10), date(2026, 11, 12))
    assert n == 2  # mt01 and mt08
    assert total_line(app) == results(2, "en")
    assert app.multiselect(key="mt.status").value == ["read", "opt_out"]
    assert app.multiselect(key="mt.campaign").value == ["Black Friday"]
    assert app.sidebar.date_input[0].value == (date(2026, 11, 10), date(2026, 11, 12))
    assert app.selectbox(key="lang").value == "en"
    assert app.query_params == {"from": "2026-11-10", "to": "2026-11-12", "tz": "America/Sao_Paulo",
                                "campaign": "Black Friday", "status": ["read", "opt_out"], "lang": "en"}
    assert app.main.caption[1].value == (
        "Period: `2026-11-10 – 2026-11-12` · Campaign: `Black Friday` · Status: `Read, Not delivered (opt-out)`"
        " · Time zone: `America/Sao_Paulo`"
    )


def set_dates(app: AppTest) -> None:
    app.sidebar.date_input[0].set_value((date(2026, 11, 12), date(2026, 11, 12)))


MT_CASES = [
    ("date", set_dates, {"from": "2026-11-12", "to": "2026-11-12"},
     lambda r: local_day(r["sent_at"]) == date(2026, 11, 12)),
    ("subaccount", lambda a: a.multiselect(key="mt.subaccount").set_value(["Atacado"]), {"subaccount": "Atacado"},
     lambda r: r["subaccount"] == "Atacado"),
    ("user", lambda a: a.multiselect(key="mt.user").set_value(["ana.souza", "carla.dias"]),
     {"user": ["ana.souza", "carla.dias"]}, lambda r: r["user_name"] in ("ana.souza", "carla.dias")),
    ("campaign", lambda a: a.multiselect(key="mt.campaign").set_value(["Natal"]), {"campaign": "Natal"},
     lambda r: r["campaign"] == "Natal"),
    ("content_type", lambda a: a.multiselect(key="mt.content_type").set_value(["text", "image"]),
     {"content_type": ["text", "image"]}, lambda r: r["content_type"] in ("text", "image")),
    ("session open", lambda a: a.radio(key="mt.session").set_value("open"), {"session": "open"},
     lambda r: r["sent_with_session"] is True),
    ("session closed", lambda a: a.radio(key="mt.session").set_value("closed"), {"session": "closed"},
     lambda r: r["sent_with_session"] is False),
    ("correlation_id", lambda a: a.text_input(key="mt.correlation_id").input("pedido-002"),
     {"correlation_id": "pedido-002"}, lambda r: r["correlation_id"] == "pedido-002"),
    ("status", lambda a: a.multiselect(key="mt.status").set_value(["read", "undelivered"]),
     {"status": ["read", "undelivered"]}, lambda r: r["status"] in ("read", "undelivered")),
    ("phone prefix", lambda a: a.text_input(key="mt.phone").input("+55 21"), {"phone": "+5521"},
     lambda r: r["phone"].startswith("+5521")),
    ("phone exact", lambda a: a.text_input(key="mt.phone").input("+55 (11) 91111-0002"),
     {"phone": "+5511911110002"}, lambda r: r["phone"] == "+5511911110002"),
    ("conversation_id", lambda a: a.text_input(key="mt.conversation_id").input("conv-A"),
     {"conversation_id": "conv-A"}, lambda r: r["conversation_id"] == "conv-A"),
    ("conversation_type", lambda a: a.selectbox(key="mt.conversation_type").set_value("free_entry_point"),
     {"conversation_type": "free_entry_point"}, lambda r: r["conversation_type"] == "free_entry_point"),
]


@pytest.mark.parametrize("case", MT_CASES, ids=[c[0] for c in MT_CASES])
def test_each_sent_filter_changes_the_total_and_the_url(dataset, case):
    _, act, url_part, keep = case
    app = open_app(NOVEMBER)
    assert total_line(app) == results(expected(MTS, "sent_at"))
    act(app)
    app.run()
    n = expected(MTS, "sent_at", keep)
    assert 0 < n < len(MTS)
    assert total_line(app) == results(n)
    for param, value in url_part.items():
        assert app.query_params[param] == value


def test_rates_funnel_counts_and_failure_reasons(dataset):
    app = open_app(NOVEMBER)
    total = expected(MTS, "sent_at")
    delivered = expected(MTS, "sent_at", lambda r: r["status"] in ("delivered", "read"))
    read = expected(MTS, "sent_at", lambda r: r["status"] == "read")
    failed = expected(MTS, "sent_at", lambda r: r["status"] in ("undelivered", "opt_out", "invalid_session"))
    answered = {m["in_reply_to"] for m in MOS}
    replied = expected(MTS, "sent_at", lambda r: r["message_id"] in answered)
    assert (total, delivered, read, failed, replied) == (9, 5, 3, 3, 4)
    rates = [
        ("Taxa de entrega", pct(delivered, total)),
        ("Taxa de leitura", pct(read, delivered)),
        ("Taxa de falha", pct(failed, total)),
        ("Taxa de resposta", pct(replied, delivered)),
    ]
    assert [(m.label, m.value) for m in app.main.metric] == rates  # the insights are closed by default
    app.session_state[MT_OPEN_KEY] = True  # what a click on the insights expander leaves
    app.run()
    assert [(m.label, m.value) for m in app.main.metric] == rates + [
        ("Destinatários únicos", str(len({r["phone"] for r in MTS}))),
        ("Mediana entrega → leitura", "–"),  # no read time in these rows: nothing to measure
        ("Mediana envio → leitura", "–"),
    ]
    reasons = app.main.dataframe[0].value
    assert list(reasons.columns) == ["Status", "Quantidade", "Código de erro", "O que significa"]
    assert sorted(map(tuple, reasons[["Status", "Código de erro", "Quantidade"]].values.tolist())) == [
        ("Não entregue", "131049", "1"),
        ("Não entregue por opt-out", "131050", "1"),
        ("Sessão inválida", "131047", "1"),
    ]
    explanation = reasons.set_index("Código de erro").loc["131049", "O que significa"]
    assert explanation == f"Mensagem não entregue para o aparelho. {ERROR_131049}"


def test_language_switch_changes_labels_numbers_and_dates(dataset):
    app = open_app(NOVEMBER)
    assert app.title[0].value == "Relatório Detalhado – Enviado (MT)"
    assert "**Filtros**" in [m.value for m in app.sidebar.markdown]
    table = app.main.dataframe[-1].value
    assert list(table.columns)[:4] == ["Chat", "Enviado", "Status", "Telefone"]
    assert table.iloc[0]["Enviado"] == "20/11/2026 09:00:00"  # mt09, newest; 12:00 UTC is 09:00 in São Paulo

    app.selectbox(key="lang").set_value("en").run()
    assert app.title[0].value == "Detailed Report – Sent (MT)"
    assert "**Filters**" in [m.value for m in app.sidebar.markdown]
    assert app.sidebar.date_input[0].label == "Date"
    assert app.multiselect(key="mt.subaccount").label == "Subaccount"
    assert total_line(app) == results(9, "en")
    assert app.main.metric[0].value == pct(5, 9, "en")
    table = app.main.dataframe[-1].value
    assert list(table.columns) == ["Chat", "Sent", "Status", "Phone", "WhatsApp user ID", "Campaign", "User",
                                   "Content type", "Message sent", "Sent with session", "Conversation ID",
                                   "Conversation type", "Conversation expiration"]
    first = table.iloc[0]
    assert (first["Sent"], first["Status"], first["Sent with session"]) == ("2026-11-20 09:00:00", "Delivered", "No")
    # Each phone links to its conversation (Chat MT + MO), in the language and zone of the page.
    assert first["Chat"] == f"chat?phone=%2B{first['Phone'][1:]}&lang=en&tz=America%2FSao_Paulo"
    assert app.query_params["lang"] == "en"

    app.selectbox(key="lang").set_value("es").run()
    assert app.title[0].value == "Informe Detallado – Enviado (MT)"
    assert app.main.metric[0].value == pct(5, 9, "es")
    assert list(app.main.dataframe[-1].value.columns)[:3] == ["Chat", "Enviado", "Estado"]
    assert app.main.dataframe[-1].value.iloc[0]["Estado"] == "Entregado"


def test_thousands_are_written_the_language_way(duck):
    insert(duck, [mt_row(sent_at=at(10, 12)) for _ in range(2400)])
    app = open_app(NOVEMBER)
    assert total_line(app) == "2.400 resultados"
    app.selectbox(key="lang").set_value("en").run()
    assert total_line(app) == "2,400 results"
    app.selectbox(key="lang").set_value("es").run()
    assert total_line(app) == "2.400 resultados"


def test_table_is_paged_by_the_database_newest_first(duck):
    rows = [mt(f"p{i:02d}", at(10, 12, i), "delivered") for i in range(30)]
    insert(duck, rows)
    app = open_app(NOVEMBER)
    table = app.main.dataframe[-1].value
    assert len(table) == 25
    assert (table.iloc[0]["Enviado"], table.iloc[-1]["Enviado"]) == ("10/11/2026 09:29:00", "10/11/2026 09:05:00")
    pager = app.get("pagination")[0]
    assert pager.num_pages == 2
    pager.set_value(2).run()
    table = app.main.dataframe[-1].value
    assert list(table["Telefone"]) == [rows[i]["phone"] for i in (4, 3, 2, 1, 0)]
    assert "Linhas 26–30 de 30" in [c.value for c in app.main.caption]

    app.selectbox(key="mt.page_size").set_value(50).run()
    assert len(app.main.dataframe[-1].value) == 30
    assert app.get("pagination")[0].num_pages == 1

    app.toggle(key="mt.extra").set_value(True).run()
    assert list(app.main.dataframe[-1].value.columns)[-4:] == ["Subconta", "Correlation ID", "Erro", "ID da mensagem"]


def test_empty_state(dataset):
    app = open_app({**NOVEMBER, "campaign": "Natal", "status": "opt_out"})
    assert expected(MTS, "sent_at", lambda r: r["campaign"] == "Natal" and r["status"] == "opt_out") == 0
    assert total_line(app) == "0 resultados"
    assert app.main.info[0].value == "**Nenhum resultado para esta busca.**  \nAmplie o período ou retire algum filtro."
    assert len(app.main.metric) == 0 and len(app.main.dataframe) == 0


def test_default_period_is_the_last_seven_days(duck, monkeypatch):
    monkeypatch.setattr(clock, "today_in", lambda tz: TODAY)
    noon = datetime.combine(TODAY, time(12), TZ)
    insert(duck, [mt("d0", noon, "read"), mt("d6", noon - timedelta(days=6), "read"),
                  mt("d7", noon - timedelta(days=7), "read")])
    app = open_app({})
    assert total_line(app) == results(2)  # today and 6 days ago, not 7 days ago
    assert app.sidebar.date_input[0].value == ((noon - timedelta(days=6)).date(), noon.date())
    assert app.query_params["from"] == (noon - timedelta(days=6)).date().isoformat()


def test_report_settings_and_the_time_zone_of_the_period(dataset, monkeypatch):
    monkeypatch.setenv("REPORT_LANG", "es")
    monkeypatch.setenv("REPORT_TZ", "UTC")
    nov12 = {"from": "2026-11-12", "to": "2026-11-12"}
    app = open_app(nov12)
    assert app.title[0].value == "Informe Detallado – Enviado (MT)"
    assert app.selectbox(key="tz").value == "UTC"
    in_utc = sum(1 for r in MTS if r["sent_at"].date() == date(2026, 11, 12))
    assert in_utc == 3  # mt06, mt07 and mt08, which is still the 11th in São Paulo
    assert total_line(app) == results(in_utc, "es")
    app.selectbox(key="tz").set_value("America/Sao_Paulo").run()
    assert total_line(app) == results(expected(MTS, "sent_at", start=date(2026, 11, 12), end=date(2026, 11, 12)), "es")
    assert app.query_params["tz"] == "America/Sao_Paulo"
    assert app.main.dataframe[-1].value.iloc[0]["Enviado"] == "12/11/2026 15:00:00"  # mt07, 18:00 UTC


def test_new_data_shows_on_the_next_interaction(dataset):
    app = open_app(NOVEMBER)
    assert total_line(app) == results(9)
    insert(dataset, [mt("mt10", at(15, 12), "read")])
    app.run()
    assert total_line(app) == results(10)


def test_clear_filters_keeps_the_period(dataset):
    app = open_app({"from": "2026-11-10", "to": "2026-11-11", "campaign": "Natal", "session": "closed"})
    assert total_line(app) == results(
        expected(MTS, "sent_at", lambda r: r["campaign"] == "Natal" and r["sent_with_session"] is False,
                 date(2026, 11, 10), date(2026, 11, 11)))
    app.button(key="mt.clear").click().run()
    assert total_line(app) == results(expected(MTS, "sent_at", start=date(2026, 11, 10), end=date(2026, 11, 11)))
    assert app.query_params == {"from": "2026-11-10", "to": "2026-11-11", "tz": "America/Sao_Paulo", "lang": "pt-BR"}


def test_a_bad_link_value_is_reported_and_ignored(dataset):
    app = open_app({**NOVEMBER, "status": "lida", "lang": "fr"})
    warnings = [w.value for w in app.warning]
    assert warnings == [
        "O link tem um valor inválido em Idioma (`fr`); ele foi ignorado.",  # no command-line message
        "O link tem um valor inválido em Status (`lida`); ele foi ignorado.",
    ]
    assert total_line(app) == results(expected(MTS, "sent_at"))  # the period of the link is kept
    assert app.multiselect(key="mt.status").value == []
    assert app.query_params == {**NOVEMBER, "tz": "America/Sao_Paulo", "lang": "pt-BR"}


def test_one_bad_link_value_costs_only_itself(dataset):
    app = open_app({"from": "2026-11-10", "to": "2026-11-12", "campaign": "Black Friday",
                    "status": ["bogus", "read"], "lang": "en"})
    assert [w.value for w in app.warning] == ["The link has an invalid Status (`bogus`); it was ignored."]
    n = expected(MTS, "sent_at", lambda r: r["status"] == "read" and r["campaign"] == "Black Friday",
                 date(2026, 11, 10), date(2026, 11, 12))
    assert n == 2  # mt01 and mt08
    assert total_line(app) == results(n, "en")
    assert app.multiselect(key="mt.campaign").value == ["Black Friday"]
    assert app.query_params == {"from": "2026-11-10", "to": "2026-11-12", "tz": "America/Sao_Paulo",
                                "campaign": "Black Friday", "status": "read", "lang": "en"}


@pytest.mark.parametrize(
    "lang, params, notice",
    [
        ("pt-BR", {"from": "2026-11-10", "to": "9999-12-31"},
         "Data: `9999-12-31` está fora dos dias do relatório (01/01/2000 a 31/12/2100); a data foi ignorada."),
        ("en", {"from": "0001-01-01", "to": "2026-11-12"},
         "Date: `0001-01-01` is outside the report's days (2000-01-01 to 2100-12-31); the date was ignored."),
        ("es", {"from": "2026-11-12", "to": "2026-11-10"},
         "Fecha: la fecha final `2026-11-10` es anterior a la fecha inicial; se ignoró."),
    ],
)
def test_a_date_the_report_cannot_use_is_a_notice_in_the_page_words(dataset, monkeypatch, lang, params, notice):
    monkeypatch.setattr(clock, "today_in", lambda tz: TODAY)
    app = open_app({**params, "campaign": "Natal", "lang": lang})
    assert [w.value for w in app.warning] == [notice]
    assert not any("--" in w.value for w in app.warning)  # no command-line flags on the page
    assert app.multiselect(key="mt.campaign").value == ["Natal"]
    today = TODAY
    start, end = {  # the bad date is dropped, the other kept; the missing end is today, the missing start a week back
        "pt-BR": (date(2026, 11, 10), max(today, date(2026, 11, 10))),
        "en": (min(today - timedelta(days=6), date(2026, 11, 12)), date(2026, 11, 12)),
        "es": (date(2026, 11, 12), max(today, date(2026, 11, 12))),
    }[lang]
    assert app.sidebar.date_input[0].value == (start, end)
    assert (app.query_params["from"], app.query_params["to"]) == (start.isoformat(), end.isoformat())
    assert total_line(app) == results(
        expected(MTS, "sent_at", lambda r: r["campaign"] == "Natal", start, end), lang)


def test_a_phone_without_digits_says_it_was_ignored(dataset):
    app = open_app(NOVEMBER)
    app.text_input(key="mt.phone").input("abc").run()
    assert [w.value for w in app.sidebar.warning] == [
        "Contato ou número de telefone: `abc` não tem dígitos e foi ignorado; digite um número ou o início dele, "
        "por exemplo +5511."]
    assert total_line(app) == results(expected(MTS, "sent_at"))
    assert "phone" not in app.query_params
    app = open_app({**NOVEMBER, "phone": "abc", "lang": "en"})
    assert [w.value for w in app.warning] == [
        "Contact or phone number: `abc` has no digits and was ignored; type a number or its beginning, e.g. +5511."]


def test_markup_in_data_and_filters_is_shown_as_text(duck):
    campaign = "**Natal** <b>x</b> :red[y] $z$"
    insert(duck, [mt("mk1", at(10, 12), "read", campaign=campaign)])
    app = open_app({**NOVEMBER, "campaign": campaign})
    assert total_line(app) == results(1)
    assert app.main.dataframe[-1].value.iloc[0]["Campanha"] == campaign
    assert f"Campanha: `{campaign}`" in app.main.caption[1].value


def test_quick_reply_markup_is_literal_in_the_page_charts(duck):
    link, big = "<a href=https://evil.example>clique</a>", "<span style=font-size:80px>Sim</span>"
    insert(duck, mos=[mo_row(received_at=at(10, 12), content_type="button", button_payload="A", button_text=link),
                      mo_row(received_at=at(10, 13), content_type="button", button_payload="B", button_text=big)])
    app = open_app(NOVEMBER, page="../pages/received.py")
    bars = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert bars["data"][0]["y"] == ["&lt;a href=https://evil.example&gt;clique&lt;/a&gt;",
                                    "&lt;span style=font-size:80px&gt;Sim&lt;/span&gt;"]
    assert "<a href" not in app.get("plotly_chart")[0].proto.spec
    assert sorted(app.main.dataframe[0].value["Botão"]) == sorted([link, big])  # the table shows them as typed


def test_code_span_fences_backticks():
    assert notices.code_span("a `b` c") == "``a `b` c``"
    assert notices.code_span("`x`") == "`` `x` ``"
    assert notices.code_span("one\nline  only") == "`one line only`"


# -- the Received page --------------------------------------------------------------------------


MO_CASES = [
    ("date", set_dates, {"from": "2026-11-12", "to": "2026-11-12"},
     lambda r: local_day(r["received_at"]) == date(2026, 11, 12)),
    ("subaccount", lambda a: a.multiselect(key="mo.subaccount").set_value(["Atacado"]), {"subaccount": "Atacado"},
     lambda r: r["subaccount"] == "Atacado"),
    ("user", lambda a: a.multiselect(key="mo.user").set_value(["bruno.lima"]), {"user": "bruno.lima"},
     lambda r: r["user_name"] == "bruno.lima"),
    ("campaign", lambda a: a.multiselect(key="mo.campaign").set_value(["Black Friday"]), {"campaign": "Black Friday"},
     lambda r: r["campaign"] == "Black Friday"),
    ("content_type", lambda a: a.multiselect(key="mo.content_type").set_value(["button", "interactive"]),
     {"content_type": ["button", "interactive"]}, lambda r: r["content_type"] in ("button", "interactive")),
    ("phone", lambda a: a.text_input(key="mo.phone").input("+5521"), {"phone": "+5521"},
     lambda r: r["phone"].startswith("+5521")),
    ("button", lambda a: a.multiselect(key="mo.button").set_value(["Sim, quero"]), {"button": "Sim, quero"},
     lambda r: r["button_text"] == "Sim, quero"),
    # An MO's correlation ID and conversation are those of the MT it answers.
    ("correlation_id", lambda a: a.text_input(key="mo.correlation_id").input("pedido-002"),
     {"correlation_id": "pedido-002"}, lambda r: answered_mt(r).get("correlation_id") == "pedido-002"),
    ("conversation_id", lambda a: a.text_input(key="mo.conversation_id").input("conv-A"),
     {"conversation_id": "conv-A"}, lambda r: answered_mt(r).get("conversation_id") == "conv-A"),
    ("conversation_type", lambda a: a.selectbox(key="mo.conversation_type").set_value("free_entry_point"),
     {"conversation_type": "free_entry_point"}, lambda r: answered_mt(r).get("conversation_type") == "free_entry_point"),
]


def answered_mt(mo: dict) -> dict:
    """The MT row an MO answers (empty when none)."""
    return next((m for m in MTS if m["message_id"] == mo["in_reply_to"]), {})


@pytest.mark.parametrize("case", MO_CASES, ids=[c[0] for c in MO_CASES])
def test_each_received_filter_changes_the_total_and_the_url(dataset, case):
    _, act, url_part, keep = case
    app = open_app(NOVEMBER, page="../pages/received.py")
    assert total_line(app) == results(expected(MOS, "received_at"))
    act(app)
    app.run()
    n = expected(MOS, "received_at", keep)
    assert 0 < n < len(MOS)
    assert total_line(app) == results(n)
    for param, value in url_part.items():
        assert app.query_params[param] == value


def test_received_page_counts_quick_reply_clicks(dataset):
    app = open_app(NOVEMBER, page="../pages/received.py")
    clicks = [m for m in MOS if m["button_payload"]]
    counts = [
        ("Respostas", str(len(MOS))),
        ("Cliques", str(len(clicks))),
        ("Parcela de cliques", pct(len(clicks), len(MOS))),
    ]
    assert [(m.label, m.value) for m in app.main.metric] == counts  # the insights are closed by default
    app.session_state[MO_OPEN_KEY] = True  # what a click on the insights expander leaves
    app.run()
    assert [(m.label, m.value) for m in app.main.metric] == counts + [
        ("Remetentes únicos", str(len({m["phone"] for m in MOS}))),
    ]
    per_button = app.main.dataframe[0].value
    by_key: dict[tuple, int] = {}
    for m in clicks:
        key = (m["button_text"], m["campaign"], m["template_name"])
        by_key[key] = by_key.get(key, 0) + 1
    assert list(per_button.columns) == ["Botão", "Cliques", "Campanha", "Template"]
    assert sorted(map(tuple, per_button.values.tolist())) == sorted(
        (button, str(n), campaign, template) for (button, campaign, template), n in by_key.items()
    )
    table = app.main.dataframe[-1].value
    assert list(table.columns) == ["Chat", "Respondido", "Origem", "WhatsApp user ID", "Campanha", "Usuário",
                                   "Tipo de conteúdo", "Mensagem recebida"]
    assert table.iloc[0]["Tipo de conteúdo"] == "Texto"  # mo07, the newest
    assert table.iloc[0]["Chat"] == "chat?phone=%2B5511911110009&lang=pt-BR&tz=America%2FSao_Paulo"


def test_subaccount_narrows_users_and_campaigns(dataset):
    app = open_app(NOVEMBER)
    assert app.multiselect(key="mt.user").options == ["ana.souza", "bruno.lima", "carla.dias"]
    app.multiselect(key="mt.subaccount").set_value(["Atacado"]).run()
    assert app.multiselect(key="mt.user").options == sorted({r["user_name"] for r in MTS if r["subaccount"] == "Atacado"})
    assert app.multiselect(key="mt.campaign").options == ["Natal"]


def test_switching_page_keeps_language_and_period(dataset):
    app = open_app({"from": "2026-11-10", "to": "2026-11-11", "lang": "en"})
    app.query_params.clear()  # the browser drops the query string when the menu switches page
    app.switch_page("../pages/received.py").run()
    assert total_line(app) == results(
        expected(MOS, "received_at", start=date(2026, 11, 10), end=date(2026, 11, 11)), "en")
    assert app.query_params == {"from": "2026-11-10", "to": "2026-11-11", "tz": "America/Sao_Paulo", "lang": "en"}


# -- a database that cannot answer --------------------------------------------------------------


def test_database_down_shows_a_message_and_the_filters(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://report@127.0.0.1:1/nothing")
    app = open_app(NOVEMBER)
    assert len(app.error) == 1
    message = app.error[0].value
    assert message.startswith(
        "Não foi possível consultar o banco de dados: `cannot open database postgresql+psycopg://report@127.0.0.1:1/"
        "nothing: ")
    assert "\n" not in message
    assert "**Filtros**" in [m.value for m in app.sidebar.markdown]
    assert app.sidebar.date_input[0].value == (date(2026, 11, 1), date(2026, 11, 30))
    assert len(app.main.header) == 0


def test_database_busy_shows_updating_data(duck, monkeypatch, tmp_path):
    monkeypatch.setattr(data, "BUSY_TIMEOUT_S", 0.3)
    path = str(duck.url.database)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys, time
            conn = duckdb.connect({path!r})
            print("locked", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        app = open_app(NOVEMBER)
        assert [w.value for w in app.warning] == [
            "Atualizando dados... o banco está ocupado por uma importação; tente de novo em instantes."]
        assert "**Filtros**" in [m.value for m in app.sidebar.markdown]
    finally:
        holder.communicate("", timeout=30)
    app.run()
    assert total_line(app) == "0 resultados"
