"""Opt-out report: who opted out, when, how and after which campaign, on both engines.

The period is 10-15 Nov 2026 in São Paulo (UTC-3): events just inside and outside its local ends, stop
words with accents, odd spaces and case, messages that are not only a stop word, hostile text, scope.
Expected rows are written out from the test's own rows.
"""
import csv
from datetime import datetime

import openpyxl
import pytest

from data_access.accounts import set_business_number
from data_access.filters import FilterError, MtFilters
from data_access.opt_out import (
    DEFAULT_STOP_WORDS,
    STOP_WORDS_SETTING,
    OptOutContact,
    OptOutFilters,
    iter_opt_outs,
    opt_out_page,
    opt_out_summary,
    stop_word_key,
    stop_words,
)
from data_access.report import count
from data_access.scope import Scope
from exports.opt_out_export import export
from tests.factories import at, insert, mo_row, mt_row

A, B, C, D, E, F, G, H = (f"+55119000001{n:02d}" for n in range(1, 9))
MAPPED_NUMBER = "5511400000000"
HYPERLINK = '=HYPERLINK("http://x","y")'
OPT_OUT = {"status": "opt_out", "error_code": "131050", "error_title": "User opted out"}

MTS = [
    mt_row(message_id="wamid.A1", phone=A, sent_at=at(5, 12), subaccount="Varejo", campaign="Black Friday"),
    mt_row(message_id="wamid.A3", phone=A, sent_at=at(13, 12), subaccount="Varejo", campaign="Natal", **OPT_OUT),
    mt_row(message_id="wamid.B1", phone=B, sent_at=at(9, 20), subaccount="Atacado", campaign="Boas-vindas",
           template_name="welcome", status="read"),
    mt_row(message_id="wamid.B0", phone=B, sent_at=at(11, 10), subaccount="Varejo", campaign="Varejo secreto"),
    mt_row(message_id="wamid.B2", phone=B, sent_at=at(12, 15), subaccount="Atacado", campaign="Atacadao", **OPT_OUT),
    # Opted out before the period: not in it.
    mt_row(message_id="wamid.D5", phone=D, sent_at=at(10, 2), subaccount="Varejo", **OPT_OUT),
]
MOS = [
    mo_row(message_id="wamid.A2", phone=A, received_at=at(11, 12), subaccount="Varejo", message="  Saír \n"),
    # 23:30 on the 15th in São Paulo: inside. No subaccount; the number it was sent to is Atacado's.
    mo_row(message_id="wamid.C1", phone=C, received_at=at(16, 2, 30), business_number=MAPPED_NUMBER, message="PARAR"),
    mo_row(message_id="wamid.D1", phone=D, received_at=at(12, 12), subaccount="Varejo", message="Sair já"),
    mo_row(message_id="wamid.D2", phone=D, received_at=at(16, 4), subaccount="Varejo", message="STOP"),  # 16th local
    mo_row(message_id="wamid.D3", phone=D, received_at=at(10, 2), subaccount="Varejo", message="stop"),  # 9th local
    mo_row(message_id="wamid.E1", phone=E, received_at=at(14, 12), subaccount="Varejo", message=HYPERLINK),
    mo_row(message_id="wamid.F1", phone=F, received_at=at(14, 13), subaccount="Varejo", message="🛑"),
    mo_row(message_id="wamid.G1", phone=G, received_at=at(14, 14), subaccount="Varejo", message="<b>SAIR</b>"),
    mo_row(message_id="wamid.G2", phone=G, received_at=at(14, 15), subaccount="Varejo",
           message="SAIR'); DROP TABLE mo_message; --"),
    mo_row(message_id="wamid.H1", phone=H, received_at=at(13, 8), subaccount="Varejo", message="\u00a0Stop\u3000"),
]


def _row(phone, opted_out_at, kind, detail, events, last_event_at, subaccount, campaign=None, template_name=None,
         last_sent_at=None, last_message_id=None) -> OptOutContact:
    return OptOutContact(phone, opted_out_at, kind, detail, events, last_event_at, subaccount, campaign,
                         template_name, last_sent_at, last_message_id)


ROW_C = _row(C, at(16, 2, 30), "stop_word", "PARAR", 1, at(16, 2, 30), None)
ROW_H = _row(H, at(13, 8), "stop_word", "\u00a0Stop\u3000", 1, at(13, 8), "Varejo")
ROW_B = _row(B, at(12, 15), "failure", "131050", 1, at(12, 15), "Atacado", "Varejo secreto", "promo_bf", at(11, 10),
             "wamid.B0")
ROW_A = _row(A, at(11, 12), "stop_word", "  Saír \n", 2, at(13, 12), "Varejo", "Black Friday", "promo_bf", at(5, 12),
             "wamid.A1")


@pytest.fixture
def opt_engine(engine):
    insert(engine, MTS, MOS)
    set_business_number(engine, MAPPED_NUMBER, "Atacado")
    return engine


def _search(**values) -> OptOutFilters:
    return OptOutFilters(date_from=at(10).date(), date_to=at(15).date(), tz="America/Sao_Paulo", **values)


def _all(engine, search) -> list[OptOutContact]:
    with engine.connect() as conn:
        return list(iter_opt_outs(conn, search, batch_rows=2))


def test_contacts_who_opted_out_in_the_period(opt_engine):
    search = _search()
    assert search.stop_words == DEFAULT_STOP_WORDS
    assert _all(opt_engine, search) == [ROW_C, ROW_H, ROW_B, ROW_A]
    with opt_engine.connect() as conn:
        summary = opt_out_summary(conn, search)
        pages = [opt_out_page(conn, search, n, 3) for n in (1, 2, 3)]
        # The blocked sends are the Sent report's opt-out rows for the same period.
        sent_report = count(conn, MtFilters(date_from=search.date_from, date_to=search.date_to, tz=search.tz,
                                            status=("opt_out",)))
    assert (summary.contacts, summary.by_failure, summary.by_stop_word) == (4, 1, 3)
    assert (summary.blocked_sends, summary.stop_messages) == (2, 3)
    assert summary.blocked_sends == sent_report == 2
    assert pages == [(ROW_C, ROW_H, ROW_B), (ROW_A,), ()]


def test_the_period_is_calendar_days_of_the_zone(opt_engine):
    # In UTC the 16th 02:30 (C) is outside, and the 10th 02:00 (D's "stop" and blocked send) inside.
    search = _search().replace(tz="UTC")
    row_d = _row(D, at(10, 2), "failure", "131050", 2, at(10, 2), "Varejo")
    assert _all(opt_engine, search) == [ROW_H, ROW_B, ROW_A, row_d]


def test_configured_stop_words_with_hostile_text_and_emoji(opt_engine):
    search = _search(stop_words=("🛑", "=hyperlink(\"http://x\",\"y\")", "sair", "'; DROP TABLE mo_message; --"))
    assert search.stop_words == ("🛑", "=hyperlink(\"http://x\",\"y\")", "sair", "'; DROP TABLE mo_message; --")
    row_f = _row(F, at(14, 13), "stop_word", "🛑", 1, at(14, 13), "Varejo")
    row_e = _row(E, at(14, 12), "stop_word", HYPERLINK, 1, at(14, 12), "Varejo")
    assert _all(opt_engine, search) == [row_f, row_e, ROW_B, ROW_A]
    with opt_engine.connect() as conn:  # the tables are intact
        assert opt_out_summary(conn, _search()).contacts == 4


def test_no_stop_words_leaves_the_blocked_sends(opt_engine):
    search = _search(stop_words=())
    row_a = _row(A, at(13, 12), "failure", "131050", 1, at(13, 12), "Varejo", "Black Friday", "promo_bf", at(5, 12),
                 "wamid.A1")
    assert _all(opt_engine, search) == [row_a, ROW_B]


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (Scope(subaccounts=("Varejo",)), [ROW_H, ROW_A]),
        # Atacado sees C through its business number, and only its own MT before B's opt-out.
        (Scope(subaccounts=("Atacado",)),
         [ROW_C, _row(B, at(12, 15), "failure", "131050", 1, at(12, 15), "Atacado", "Boas-vindas", "welcome",
                      at(9, 20), "wamid.B1")]),
        (Scope(subaccounts=("Outra",)), []),
        (Scope.ALL, [ROW_C, ROW_H, ROW_B, ROW_A]),
    ],
)
def test_a_scoped_account_sees_only_its_opt_outs(opt_engine, scope, expected):
    search = _search(scope=scope)
    assert _all(opt_engine, search) == expected
    with opt_engine.connect() as conn:
        assert opt_out_summary(conn, search).contacts == len(expected)


@pytest.mark.parametrize(
    ("text", "key"),
    [("  Saír\n", "sair"), ("PARAR", "parar"), ("s a i r", "sair"), ("SAI\u0301R", "sair"), ("Não quero", "naoquero"),
     ("\u00a0Stop\u3000", "stop"), ("🛑", "🛑"), ("Sair já", "sairja")],
)
def test_stop_word_key(text, key):
    assert stop_word_key(text) == key


@pytest.mark.parametrize(
    ("setting", "environment", "words"),
    [
        (None, None, ("SAIR", "PARAR", "STOP")),
        (None, "Cancelar, DESCADASTRAR ,,", ("Cancelar", "DESCADASTRAR")),
        ("sair, Saír,SAIR", "ignored", ("sair",)),
        (["Não quero", "  nao   QUERO "], None, ("Não quero",)),
        (" , ", None, ()),
    ],
)
def test_stop_words_setting(monkeypatch, setting, environment, words):
    if environment is None:
        monkeypatch.delenv(STOP_WORDS_SETTING, raising=False)
    else:
        monkeypatch.setenv(STOP_WORDS_SETTING, environment)
    assert stop_words(setting) == words


def test_the_search_round_trips_through_the_url():
    search = OptOutFilters.from_params({"from": "2026-11-10", "to": ["2026-11-15"], "tz": "UTC"})
    assert (search.date_from, search.date_to, search.tz) == (at(10).date(), at(15).date(), "UTC")
    assert search.to_params() == {"from": ["2026-11-10"], "to": ["2026-11-15"], "tz": ["UTC"]}
    assert search.describe("pt-BR") == [("Período", "10/11/2026 – 15/11/2026"),
                                        ("Palavras de saída", "SAIR, PARAR, STOP"), ("Fuso horário", "UTC")]


@pytest.mark.parametrize(
    ("params", "param", "problem"),
    [({"from": "2026-13-01"}, "from", "value"), ({"from": "2026-11-15", "to": "2026-11-10"}, "to", "order"),
     ({"tz": "Mars/Base"}, "tz", "value"), ({"from": "1999-12-31"}, "from", "range")],
)
def test_bad_url_values_are_refused(params, param, problem):
    with pytest.raises(FilterError) as caught:
        OptOutFilters.from_params(params)
    assert (caught.value.param, caught.value.problem) == (param, problem)


# -- exports --------------------------------------------------------------------------------------

HOSTILE_WORDS = ("=hyperlink(\"http://x\",\"y\")", "sair")
EXPORTED = [  # contacts of the hostile-words search in São Paulo time, newest first
    [E, "2026-11-14T09:00:00-03:00", "stop_word", "'" + HYPERLINK, "1", "2026-11-14T09:00:00-03:00", "Varejo",
     "", "", "", ""],
    [B, "2026-11-12T12:00:00-03:00", "failure", "131050", "1", "2026-11-12T12:00:00-03:00", "Atacado",
     "Varejo secreto", "promo_bf", "2026-11-11T07:00:00-03:00", "wamid.B0"],
    [A, "2026-11-11T09:00:00-03:00", "stop_word", "  Saír \n", "2", "2026-11-13T09:00:00-03:00", "Varejo",
     "Black Friday", "promo_bf", "2026-11-05T09:00:00-03:00", "wamid.A1"],
]
KIND_WORDS = {
    "pt-BR": {"failure": "Não entregue por opt-out", "stop_word": "Mensagem de saída"},
    "en": {"failure": "Not delivered (opt-out)", "stop_word": "Stop message"},
    "es": {"failure": "No entregado por opt-out", "stop_word": "Mensaje de baja"},
}
HEADERS = {
    "pt-BR": ["Telefone", "Opt-out em", "Como", "Detalhe", "Eventos", "Último evento", "Subconta", "Campanha anterior",
              "Template", "Último envio antes", "ID da última mensagem"],
    "en": ["Phone", "Opted out", "How", "Detail", "Events", "Last event", "Subaccount", "Campaign before", "Template",
           "Last sent before", "Last message ID"],
    "es": ["Teléfono", "Opt-out el", "Cómo", "Detalle", "Eventos", "Último evento", "Subcuenta", "Campaña anterior",
           "Plantilla", "Último envío antes", "ID del último mensaje"],
}


@pytest.mark.parametrize("lang", ["pt-BR", "en", "es"])
def test_csv_export_reads_back_every_contact(opt_engine, lang, tmp_path):
    path = tmp_path / "opt-out.csv"
    with path.open("wb") as out:
        rows = export(opt_engine, _search(stop_words=HOSTILE_WORDS), "csv", lang, out)
    with path.open(encoding="utf-8", newline="") as back:
        table = list(csv.reader(back))
    expected = [[*row[:2], KIND_WORDS[lang][row[2]], *row[3:]] for row in EXPORTED]
    assert rows == 3
    assert table == [HEADERS[lang], *expected]


@pytest.mark.parametrize("lang", ["pt-BR", "en", "es"])
def test_xlsx_export_reads_back_every_contact_as_strings(opt_engine, lang, tmp_path):
    path = tmp_path / "opt-out.xlsx"
    with path.open("wb") as out:
        rows = export(opt_engine, _search(stop_words=HOSTILE_WORDS), "xlsx", lang, out)
    book = openpyxl.load_workbook(path)
    data, search = book.worksheets
    cells = [[cell.value for cell in row] for row in data.iter_rows()]
    assert rows == 3
    assert cells[0] == HEADERS[lang]
    local = lambda text: datetime.fromisoformat(text[:19]) if text else None  # noqa: E731
    expected = [
        [row[0], local(row[1]), KIND_WORDS[lang][row[2]], row[3].removeprefix("'"), 2 if row[0] == A else 1,
         local(row[5]), row[6], row[7] or None, row[8] or None, local(row[9]), row[10] or None]
        for row in EXPORTED
    ]
    assert cells[1:] == expected
    assert data.cell(2, 4).data_type == "s"  # the formula-like text stays text
    lines = {row[0].value: row[1].value for row in search.iter_rows(min_row=2)}
    assert lines[{"pt-BR": "Palavras de saída", "en": "Stop words", "es": "Palabras de baja"}[lang]] == \
        '=hyperlink("http://x","y"), sair'
    assert [lines[{"pt-BR": k1, "en": k2, "es": k3}[lang]] for k1, k2, k3 in (
        ("Contatos com opt-out", "Opted-out contacts", "Contactos con opt-out"),
        ("Envios bloqueados", "Blocked sends", "Envíos bloqueados"),
        ("Mensagens de saída", "Stop messages", "Mensajes de baja"),
    )] == [3, 2, 2]
